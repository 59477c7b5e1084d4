"""The analyzer: Presidio's AnalyzerEngine over an explicitly configured, offline spaCy model whose NER
runs only on the lines that need it, plus the clinical recognizers; built once per process."""

import gc
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

import regex as re

from deid.text.known import KnownPhi, as_known
from deid.text.lexicon import (
    AMBIGUOUS_NAMES,
    CLINICAL_ACRONYMS,
    DRUG_BRANDS,
    DRUG_SUFFIXES,
    FIRST_NAMES,
    SURNAMES,
)
from deid.text.ner_decode import GreedyNer, fast_decoder_fits
from deid.text.nlp import SPACY_MODEL, one_blas_thread, spacy_pipeline, word_lists
from deid.text.patterns import FACILITY_WORDS
from deid.text.proper_nouns import spread_over_lists
from deid.text.spans import PhiSpan, resolve
from deid.text.words import english_word as english_word  # re-exported: its old home
from deid.text.words import is_all_caps, is_dictionary_word, known_word
from schemas.cpus import available_cpus

# Texts longer than this are analysed in overlapping pieces: spaCy refuses texts over 1,000,000 characters
# and memory grows with text length; 100k keeps a piece's working set near 100 MB.
CHUNK_CHARS = 100_000
CHUNK_OVERLAP = 1_000
# A line longer than this is split at sentence ends before NER (the NER's window is local anyway).
_SEGMENT_CHARS = 5_000
MIN_SCORE = 0.4
# The NER's entities of this many recent pieces (lines) are kept, for pieces of at most _CACHED_CHARS:
# notes repeat lines (templates, headers); a few MB at most.
_CACHED_PIECES = 20_000
_CACHED_CHARS = 1_000

_CAP_TOKEN = re.compile(r"(?<![\w'])[A-Z][A-Za-z'’-]*")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_LINE = re.compile(r"[^\n]+")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\-–|>#*•]\s*|\d\.\s+)[\s\"'(\[]*$")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_NAMES = frozenset(FIRST_NAMES) | frozenset(SURNAMES)
# Given names the lexicon rule catches with what follows them; surnames alone it does not ("Houston").
_LEXICON_FIRST = frozenset(FIRST_NAMES) - AMBIGUOUS_NAMES
_TITLES = frozenset("dr mr mrs ms miss mx prof doctor".split())
_PREV_WORD = re.compile(r"(\p{L}+)\.?[ \t]+(?:\p{Lu}\.?[ \t]+)?$")
_ROMAN = re.compile(r"[ivxlc]+(?:-[ivxlc]+)?")
# Words that the rules handle in context (dates, street addresses, facility names).
_RULE_WORDS = (
    frozenset(
        """january february march april may june july august september october november december jan feb mar apr
    jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday street st avenue
    ave road rd boulevard blvd lane ln drive dr court ct place pl terrace way parkway circle highway route
    square trail path apt suite unit north south east west northeast northwest southeast southwest""".split()
    )
    | FACILITY_WORDS
)


def needs_ner(segment: str, common: frozenset[str], dictionary: frozenset[str] = frozenset()) -> bool:
    """A line needs the NER model only if it has a capitalised word that could be a name the rules would
    miss: a word outside ordinary and clinical vocabulary, or any capitalised word mid-sentence, except
    acronyms, drug names, known given names and words the rules read in context. Prose, headers, ALL-CAPS
    exam findings and lists of drugs and procedures go without.

    >>> needs_ner("Patient has a History of hypertension.", frozenset({"patient", "history"}))
    False
    >>> needs_ner("Seen with Kowalczyk today.", frozenset({"seen"}))
    True
    >>> needs_ner("BP and JVD noted by Rebecca.", frozenset({"noted"}))  # acronyms; a lexicon name
    False
    """
    for m in _CAP_TOKEN.finditer(segment):
        word = m.group().lower().rstrip("'’-").removesuffix("'s").removesuffix("’s")
        if (
            len(word) <= 2
            or word in common
            or word in CLINICAL_ACRONYMS
            or word in _LEXICON_FIRST
            or word in _RULE_WORDS
        ):
            continue  # known names, months, street and facility words: the rules' job
        if word.endswith(DRUG_SUFFIXES) or word in DRUG_BRANDS or _ROMAN.fullmatch(word):
            continue
        if word in _NAMES and (prev := _PREV_WORD.search(segment, max(0, m.start() - 40), m.start())) is not None:
            before = prev.group(1).lower()
            if before in _TITLES or before in _LEXICON_FIRST:
                continue  # "Dr. Richardson", "Raymond Richardson": the rules have it
        token = m.group()
        if len(token) <= 4 and sum(ch.isupper() for ch in token) >= 2:
            continue  # short acronyms: MRN, JVD, SpO, HbA
        if not is_dictionary_word(word, dictionary):
            return True
        # A capital mid-sentence on an English word is still a proper-noun signal ("seen in Fresno");
        # at the start of a line or sentence, or in ALL-CAPS, it is not.
        if not token.isupper() and _SENTENCE_START.search(segment, 0, m.start()) is None:
            return True
    return False


def truecase(segment: str, dictionary: frozenset[str]) -> str:
    """ALL-CAPS text recased for the NER model (which reads case as a strong name signal): known names
    and words outside the dictionary get a capital, dictionary words go lower case. Same length."""

    def fix(m: re.Match[str]) -> str:
        word = m.group()
        low = word.lower()
        if len(low) != len(word):
            return word
        if low in _NAMES or not is_dictionary_word(low, dictionary):
            return word[0] + low[1:]
        return low

    out = _WORD.sub(fix, segment)
    return out[:1].upper() + out[1:]


class GatedSpacyNlpEngine:
    """A Presidio NlpEngine that runs only spaCy's NER, and only on lines that need it, in batches
    (deid.text.ner_decode steps the model's transitions for a whole batch at once). Entities come back as
    (start, end, label) character spans of the whole text."""

    def __init__(self, model: str = SPACY_MODEL, batch_size: int = 256) -> None:
        self.model = model
        self.batch_size = batch_size
        self.nlp = None
        self._greedy = None  # the NER's decoder for all states at once, where the model allows it
        self.common: frozenset[str] = frozenset()
        self.dictionary: frozenset[str] = frozenset()
        self.english: frozenset[str] = frozenset()
        # The NER's entities of recently read pieces, least recently used first.
        self._cache: OrderedDict[str, tuple[tuple[int, int, str], ...]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def load(self) -> None:
        lists = word_lists(self.model)
        self.english, self.dictionary, self.common = lists.english, lists.dictionary, lists.common
        self.nlp = spacy_pipeline(self.model)
        self._greedy = GreedyNer(self.nlp) if fast_decoder_fits(self.nlp) else None

    def is_loaded(self) -> bool:
        return self.nlp is not None

    def get_supported_languages(self) -> list[str]:
        return ["en"]

    def get_supported_entities(self) -> list[str]:
        return ["PERSON", "GPE", "LOC", "FAC", "ORG"]

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in self.common

    def is_punct(self, word: str, language: str) -> bool:
        return not any(ch.isalnum() for ch in word)

    def process_text(self, text: str, language: str = "en"):
        return next(iter(self.process_batch([text], language)))[1]

    def process_batch(self, texts: Iterable[str], language: str = "en", **_: object) -> Iterator:
        from presidio_analyzer.nlp_engine import NlpArtifacts

        texts = list(texts)
        pieces: list[str] = []
        owners: list[tuple[int, int]] = []  # (text index, offset of the piece in the text)
        for i, text in enumerate(texts):
            for offset, segment in self.segments(text):
                pieces.append(truecase(segment, self.dictionary) if is_all_caps(segment) else segment)
                owners.append((i, offset))
        found = self.entities(pieces)
        entities: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        for (i, offset), piece in zip(owners, pieces, strict=True):
            entities[i].extend((offset + s, offset + e, label) for s, e, label in found[piece])
        for text, ents in zip(texts, entities, strict=True):
            yield text, NlpArtifacts(entities=ents, tokens=None, tokens_indices=[], lemmas=[], nlp_engine=None,
                                     language=language)  # fmt: skip

    def entities(self, pieces: Sequence[str]) -> dict[str, tuple[tuple[int, int, str], ...]]:
        """The NER's (start, end, label) entities of each distinct piece: a piece seen before (a template's
        line, a header that names someone) comes from the cache, the others go through nlp.pipe once each.
        The model reads each piece on its own, so where a piece is read and with which others in the batch
        does not change its entities (tests/deid/test_find_phi_golden.py: one note at a time and batched)."""
        found: dict[str, tuple[tuple[int, int, str], ...]] = {}
        todo: list[str] = []
        with self._cache_lock:  # threads may share the analyzer
            for piece in pieces:
                if piece in found:
                    continue
                cached = self._cache.get(piece)
                if cached is None:
                    found[piece] = ()  # a placeholder: read below, once however often it occurs
                    todo.append(piece)
                else:
                    self._cache.move_to_end(piece)
                    found[piece] = cached
        if not todo:
            return found
        with one_blas_thread():
            found.update(zip(todo, self.read(todo), strict=True))
        with self._cache_lock:
            self._cache.update((piece, found[piece]) for piece in todo if len(piece) <= _CACHED_CHARS)
            while len(self._cache) > _CACHED_PIECES:
                self._cache.popitem(last=False)
        return found

    def read(self, pieces: list[str]) -> Iterator[tuple[tuple[int, int, str], ...]]:
        """The NER's entities of each piece, no cache: spaCy's model with its transitions decoded for all
        pieces of a batch at once (deid.text.ner_decode, the same entities as spaCy's own loop), or spaCy's
        pipe where the model is not of the kind that decoder reads."""
        if self._greedy is not None:
            yield from self._greedy(pieces, batch_size=self.batch_size)
            return
        for doc in self.nlp.pipe(pieces, batch_size=self.batch_size):
            yield tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)

    def clear_cache(self) -> None:
        """Forget the entities read so far (to compare the model with itself under other settings)."""
        with self._cache_lock:
            self._cache.clear()

    def segments(self, text: str) -> Iterator[tuple[int, str]]:
        for m in _LINE.finditer(text):
            line = m.group()
            if not needs_ner(line, self.common, self.dictionary):
                continue
            if len(line) <= _SEGMENT_CHARS:
                yield m.start(), line
                continue
            start = 0
            for end in [s.start() for s in _SENTENCE_END.finditer(line)] + [len(line)]:
                while end - start > _SEGMENT_CHARS:  # no sentence end in sight: cut at a space
                    cut = line.rfind(" ", start, start + _SEGMENT_CHARS)
                    cut = cut if cut > start else start + _SEGMENT_CHARS
                    yield m.start() + start, line[start:cut]
                    start = cut
                if end - start > _SEGMENT_CHARS // 2 or end == len(line):
                    if end > start:
                        yield m.start() + start, line[start:end]
                    start = end


@lru_cache(maxsize=1)
def analyzer():
    """The process's AnalyzerEngine (built on first use; about 1.5 s)."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer

    from deid.text.clinical_guard import drug_names
    from deid.text.combine import StackedPhiRecognizer
    from deid.text.gazetteer import city_names
    from deid.text.recognizers import (
        ClinicalNerRecognizer,
        ClinicalRuleRecognizer,
        NoContextEnhancer,
        OfflineEmailRecognizer,
        ProperNounRecognizer,
    )
    from deid.text.tagger_features import lexicons
    from deid.text.vocabulary import sorted_vocabulary

    engine = GatedSpacyNlpEngine()
    engine.load()
    city_names()  # loaded here, once: forked workers inherit it
    drug_names()  # the clinical guard's drug dictionary (seconds to load): likewise once, before any fork
    sorted_vocabulary()  # the look-alike test's sorted word list (a tenth of a second): likewise
    lexicons()  # the tagger's word lists: likewise
    registry = RecognizerRegistry(
        recognizers=[
            # the rules, with the learned PHI tagger reading their hits and deciding with them
            StackedPhiRecognizer(
                [ClinicalRuleRecognizer(), ClinicalNerRecognizer(), ProperNounRecognizer()], min_score=MIN_SCORE
            ),
            OfflineEmailRecognizer(supported_entity="EMAIL"),
            CreditCardRecognizer(supported_entity="ID"),
            IbanRecognizer(supported_entity="ID"),
        ],
        supported_languages=["en"],
    )
    built = AnalyzerEngine(
        registry=registry,
        nlp_engine=engine,
        supported_languages=["en"],
        context_aware_enhancer=NoContextEnhancer(),
        default_score_threshold=MIN_SCORE,
    )
    # What is loaded now (models, word lists: millions of set entries) lives as long as the process. Out of the
    # cycle collector's reach, a full collection no longer walks it (0.27 CPU-s each, one or two per pass over
    # the 771 development notes, whenever the young objects add up), and forked workers keep sharing its pages
    # (the use gc.freeze is documented for). The cost: cyclic garbage among the objects alive now is not freed.
    gc.freeze()
    return built


def _to_spans(results: list, offset: int = 0) -> list[PhiSpan]:
    return [PhiSpan(r.start + offset, r.end + offset, r.entity_type, round(float(r.score), 3)) for r in results]


def _analyze(text: str, artifacts, known: KnownPhi | None, use_tagger: bool = True) -> list[PhiSpan]:
    from deid.text.clinical_guard import clinical_reason, drop_clinical
    from deid.text.combine import TAGGER_ON
    from deid.text.recognizers import KnownPhiRecognizer

    ad_hoc = [KnownPhiRecognizer(known)] if known is not None and not known.is_empty() else None
    token = TAGGER_ON.set(use_tagger)
    try:
        results = analyzer().analyze(text, language="en", nlp_artifacts=artifacts, ad_hoc_recognizers=ad_hoc)
    finally:
        TAGGER_ON.reset(token)
    results = drop_clinical(text, results)  # the final filter: hits that are clinical language go
    spans = [_with_initial(text, s) for s in _to_spans(results)]
    found = [(s.start, s.end, s.label, s.score) for s in spans]
    listed = spread_over_lists(text, found, known_word)
    listed = [x for x in listed if clinical_reason(text, x[0], x[1], x[2], "list") is None]
    return spans + [PhiSpan(s, e, label, score) for s, e, label, score in listed]


_TRAILING_INITIAL = re.compile(r"[ \t]+\p{Lu}\.(?=[\s,;:)?!]|$)")


def _with_initial(text: str, span: PhiSpan) -> PhiSpan:
    """A name runs on over a trailing initial: "Claudia A.", "John Q."."""
    if span.label == "NAME" and (m := _TRAILING_INITIAL.match(text, span.end)) is not None:
        return PhiSpan(span.start, m.end(), span.label, span.score)
    return span


def chunks(text: str, size: int | None = None, overlap: int | None = None) -> list[tuple[int, int]]:
    """[start, end) pieces of at most `size` (+ the rest of a word) that overlap by about `overlap`, cut at
    whitespace, so an entity near a cut lies whole in one piece.

    >>> chunks("aaa bbb ccc ddd", size=8, overlap=4)
    [(0, 8), (4, 12), (8, 15)]
    """
    size = size or CHUNK_CHARS
    overlap = overlap or CHUNK_OVERLAP
    if len(text) <= size:
        return [(0, len(text))]
    out, start = [], 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(" ", start + size // 2, end), text.rfind("\n", start + size // 2, end))
            end = cut + 1 if cut > 0 else end
        out.append((start, end))
        if end >= len(text):
            break
        nxt = text.find(" ", end - overlap, end - 1)
        nxt = nxt + 1 if nxt >= 0 else end - overlap
        start = nxt if nxt > start else end  # always move forward, whatever the overlap
    return out


def find_phi(text: str, known: KnownPhi | dict | None = None) -> list[PhiSpan]:
    """Every PHI span in `text`, sorted and non-overlapping. `known` is the subject's record (deny list)."""
    return find_phi_batch([text], [known])[0]


def find_phi_batch(
    texts: Sequence[str], knowns: Sequence[KnownPhi | dict | None] | None = None, *, n_process: int = 1,
    batch_size: int = 64, tagger: bool = True,
) -> list[list[PhiSpan]]:  # fmt: skip
    """find_phi over many texts: NER in batches; `n_process` > 1 fans out over processes.
    `tagger=False` runs the rules alone, without the learned tagger (for comparison)."""
    knowns = list(knowns) if knowns is not None else [None] * len(texts)
    if len(knowns) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(knowns)} known-PHI records")
    if n_process > 1 and len(texts) > batch_size:
        return _parallel(texts, knowns, n_process, batch_size, tagger)
    out: list[list[PhiSpan]] = []
    for i in range(0, len(texts), batch_size):
        out.extend(_batch(texts[i : i + batch_size], knowns[i : i + batch_size], tagger))
    return out


def _batch(texts: Sequence[str], knowns: Sequence, use_tagger: bool = True) -> list[list[PhiSpan]]:
    from deid.text.recognizers import RULE_MATCHES, rule_matches_by_text

    eng = analyzer().nlp_engine
    pieces: list[tuple[int, int, str]] = []  # (text index, offset, piece)
    for i, text in enumerate(texts):
        pieces.extend((i, s, text[s:e]) for s, e in chunks(text))
    spans: list[list[PhiSpan]] = [[] for _ in texts]
    known_objs = [as_known(k) for k in knowns]
    rule_hits = rule_matches_by_text([p for _, _, p in pieces])
    for (i, offset, piece), (_, artifacts), hits in zip(
        pieces, eng.process_batch([p for _, _, p in pieces]), rule_hits, strict=True
    ):
        setattr(artifacts, RULE_MATCHES, (piece, hits))
        spans[i].extend(
            PhiSpan(s.start + offset, s.end + offset, s.label, s.score)
            for s in _analyze(piece, artifacts, known_objs[i], use_tagger)
        )
    return [resolve(s) for s in spans]


def _worker(args: tuple[list[str], list, bool]) -> list[list[PhiSpan]]:
    texts, knowns, use_tagger = args
    return find_phi_batch(texts, knowns, tagger=use_tagger)


def _default_signals() -> None:
    """Forked workers inherit the host's signal handlers (Dagster's raise on SIGTERM when the pool shuts
    down); the default ones let the pool end its workers quietly."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _parallel(
    texts: Sequence[str], knowns: list, n_process: int, batch_size: int, use_tagger: bool = True
) -> list[list[PhiSpan]]:
    import multiprocessing as mp

    analyzer()  # build before forking: children inherit it (and the tagger) instead of loading their own
    jobs = [
        (list(texts[i : i + batch_size]), knowns[i : i + batch_size], use_tagger)
        for i in range(0, len(texts), batch_size)
    ]
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    n = min(n_process, available_cpus(), len(jobs))  # the container's CPU quota, not the host's cores
    with mp.get_context(method).Pool(n, initializer=_default_signals) as pool:
        results = pool.map(_worker, jobs, chunksize=1)
    return [spans for batch in results for spans in batch]
