"""The NER decoder that steps all states of a batch at once gives spaCy's own entities, to the character."""

import json
from pathlib import Path

import pytest

from tests.deid.conftest import SHARED

GOLDEN = Path(__file__).parent / "fixtures" / "find_phi_golden.json"
# Lines that reach the edges of the move rules: empty text, whitespace tokens (no entity may start on one),
# one token (no B, only U), an entity at the very end (must close with L), ALL-CAPS, long lines.
_EDGES = [
    "",
    " ",
    "Smith",
    "  Seen by  Dr.  John   Smith  ",
    "Transferred from Saint Elizabeth Medical Center in Worcester to Boston",
    "Spoke with daughter Maria Gonzalez-Ruiz and son Peter",
    "\tCall Ann Lee at 617-555-0142 on Monday, March 3rd.",
    "PT SEEN BY DR KOWALCZYK IN NEW YORK",
    "Met with the family of Mr. O'Brien from Springfield, Illinois " * 40,
]


def _spacy(nlp, texts: list[str], batch_size: int) -> list[tuple]:
    return [
        tuple((e.start_char, e.end_char, e.label_) for e in doc.ents)
        for doc in nlp.pipe(texts, batch_size=batch_size)
    ]


def _lines(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.split("\n")]


@pytest.fixture(scope="module")
def nlp():
    from deid.text.nlp import spacy_pipeline

    return spacy_pipeline()


def test_the_shipped_model_is_decoded_by_the_batch_decoder(nlp, analyzer):
    from deid.text.ner_decode import fast_decoder_fits

    assert fast_decoder_fits(nlp)
    assert analyzer.nlp_engine._greedy is not None


@pytest.mark.parametrize("batch_size", [256, 7, 2])
def test_the_batch_decoder_finds_spacys_entities(nlp, batch_size):
    from deid.text.ner_decode import GreedyNer
    from deid.text.nlp import one_blas_thread

    notes = [note["text"] for note in json.loads(GOLDEN.read_text())]
    texts = _EDGES + _lines(notes) + [note.upper() for note in notes[:3]]
    with one_blas_thread():
        reference = _spacy(nlp, texts, batch_size)
        ours = list(GreedyNer(nlp)(texts, batch_size=batch_size))
    assert ours == reference
    assert sum(map(len, ours)) > 100 and any(label == "PERSON" for ents in ours for *_, label in ents)


def test_the_batch_decoder_finds_spacys_entities_on_the_development_notes(nlp):
    """Every line of a quarter of the real nursing notes (skipped when ../shared/data is absent)."""
    from deid.text.corpora import read_corpus
    from deid.text.ner_decode import GreedyNer
    from deid.text.nlp import one_blas_thread

    path = SHARED / "phi-annotated" / "physionet-nursing-dev"
    if not path.is_dir():
        pytest.skip("../shared/data/phi-annotated/physionet-nursing-dev is not here")
    texts = _lines([d.text for d in read_corpus(path, "physionet")][::4])
    with one_blas_thread():
        assert list(GreedyNer(nlp)(texts)) == _spacy(nlp, texts, 256)


def test_a_model_of_another_kind_is_left_to_spacy():
    """A pipeline without an NER (or of a kind the decoder does not reproduce) is not claimed."""
    import spacy

    from deid.text.ner_decode import fast_decoder_fits

    assert not fast_decoder_fits(spacy.blank("en"))
