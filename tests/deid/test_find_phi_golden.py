"""find_phi's exact spans on checked-in generated notes: a speed change (batching, caching, pipes left out)
must give the same offsets, labels and scores, one note at a time or many at once.

The notes (synthetic nursing notes, some with the subject's known PHI) and their spans are in
fixtures/find_phi_golden.json. After an intended change of what the rules find, regenerate and read the
diff before committing it:

    LONGITUDE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/deid/test_find_phi_golden.py
    git diff tests/deid/fixtures/find_phi_golden.json
"""

import json
import os
from pathlib import Path

import pytest

from tests.deid.conftest import SHARED

GOLDEN = Path(__file__).parent / "fixtures" / "find_phi_golden.json"
UPDATE = os.environ.get("LONGITUDE_UPDATE_GOLDEN", "") in ("1", "true", "yes")
# Known PHI for some notes: the per-subject deny list takes another path through the analyzer.
_KNOWN = {"names": ["Ann Lee"], "mrn": "M7731904", "phone": "617-555-0142", "birth_date": "1931-02-03"}


def _generated_notes() -> list[dict]:
    from synthetic.nursing import nursing_notes

    notes = [{"text": text} for text, _ in nursing_notes(1814, 30)]
    for i, note in enumerate(notes):
        if i % 5 == 0:
            note["known"] = _KNOWN
    # One long note made of several, so the line gate, segmenting and batching see a long text.
    notes.append({"text": "\n\n".join(n["text"] for n in notes[:12])})
    return notes


def _spans(found) -> list[list]:
    return [[s.start, s.end, s.label, s.score] for s in found]


def test_find_phi_gives_the_golden_spans_one_note_at_a_time_and_in_batches(analyzer):
    from deid import find_phi
    from deid.text import find_phi_batch

    if UPDATE:
        notes = _generated_notes()
        for note in notes:
            note["spans"] = _spans(find_phi(note["text"], note.get("known")))
        GOLDEN.write_text(json.dumps(notes, indent=1, ensure_ascii=False) + "\n")
    notes = json.loads(GOLDEN.read_text())
    assert len(notes) == 31 and sum(len(n["spans"]) for n in notes) > 300
    for i, note in enumerate(notes):
        assert _spans(find_phi(note["text"], note.get("known"))) == note["spans"], f"note {i}"
    batched = find_phi_batch([n["text"] for n in notes], [n.get("known") for n in notes], batch_size=7)
    for i, (note, found) in enumerate(zip(notes, batched, strict=True)):
        assert _spans(found) == note["spans"], f"note {i} in a batch"


def test_batches_give_what_single_notes_give_on_the_development_notes(analyzer):
    """The real nursing notes (skipped when ../shared/data is absent): one at a time and batched agree."""
    from deid import find_phi
    from deid.text import find_phi_batch
    from deid.text.corpora import read_corpus

    path = SHARED / "phi-annotated" / "physionet-nursing-dev"
    if not path.is_dir():
        pytest.skip("../shared/data/phi-annotated/physionet-nursing-dev is not here")
    texts = [d.text for d in read_corpus(path, "physionet")][::8]
    batched = find_phi_batch(texts)
    assert [_spans(find_phi(t)) for t in texts] == [_spans(s) for s in batched]


def test_the_ner_finds_the_same_entities_with_numpys_blas_as_with_thinc_s_own(analyzer):
    """deid.text.nlp multiplies the NER's layers with numpy (OpenBLAS), not thinc's BLIS: same entities."""
    from thinc.api import NumpyOps

    engine = analyzer.nlp_engine
    ner = engine.nlp.get_pipe("ner").model
    texts = [note["text"] for note in json.loads(GOLDEN.read_text())]

    def entities() -> list:
        engine.clear_cache()  # the model reads every line again
        return [artifacts.entities for _, artifacts in engine.process_batch(texts)]

    ours = ner.ops
    assert type(ours).__name__ == "BlasOps"
    fast = entities()
    try:
        for node in ner.walk():
            node.ops = NumpyOps()
        reference = entities()
    finally:
        for node in ner.walk():
            node.ops = ours
    assert fast == reference and sum(map(len, fast)) > 50


def test_the_ner_reads_a_repeated_line_once_and_gives_it_the_same_entities(analyzer, monkeypatch):
    """The NER's entities per line are cached: a line seen before, in this batch or an earlier one, is not
    read again, and its entities are those a fresh read gives."""
    engine = analyzer.nlp_engine
    texts = [note["text"] for note in json.loads(GOLDEN.read_text())][:12]
    engine.clear_cache()
    fresh = [artifacts.entities for _, artifacts in engine.process_batch(texts)]
    read: list[str] = []
    model = engine.read

    def counting(pieces):
        read.extend(pieces)
        return model(pieces)

    monkeypatch.setattr(engine, "read", counting)
    again = [artifacts.entities for _, artifacts in engine.process_batch(texts + texts[:3])]
    assert again == fresh + fresh[:3] and read == []  # all from the cache
    engine.clear_cache()
    twice = [artifacts.entities for _, artifacts in engine.process_batch(texts[:3] + texts[:3])]
    assert twice == fresh[:3] * 2 and sum(map(len, twice)) > 0
    assert len(read) == len(set(read)) > 0  # each distinct line read once
