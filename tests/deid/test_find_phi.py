"""What must be caught and what must survive: a literal corpus, as datatrove keeps for PII."""

import itertools
from pathlib import Path

import pytest

from deid import PhiSpan, find_phi
from deid.text import KnownPhi

from .conftest import covered

# (text, the PHI in it, the label it should get)
MUST_CATCH = [
    ("Seen on 3/4 for follow-up.", "3/4", "DATE"),
    ("Labs drawn 03-04-2021 were normal.", "03-04-2021", "DATE"),
    ("Return visit March 4th.", "March 4th", "DATE"),
    ("Surgery on the 4th of March was uneventful.", "4th of March", "DATE"),
    ("Specimen collected 2021-03-04T10:00 in clinic.", "2021-03-04T10:00", "DATE"),
    ("Symptoms began in the summer of 2019.", "summer of 2019", "DATE"),
    ("Admitted Feb 21, 2023 with chest pain.", "Feb 21, 2023", "DATE"),
    ("Last colonoscopy Sept 10th, '22.", "Sept 10th, '22", "DATE"),
    ("Diagnosed in 2018, stable since.", "2018", "DATE"),
    ("DOB 12/31/1931.", "12/31/1931", "DATE"),
    ("MRN: 00123456", "00123456", "ID"),
    ("Medical record number UCS-908765 on file.", "UCS-908765", "ID"),
    ("Member ID HX-223344 verified.", "HX-223344", "ID"),
    ("SSN 123-45-6789 on the form.", "123-45-6789", "SSN"),
    ("Call her at (617) 555-0142 tomorrow.", "(617) 555-0142", "PHONE"),
    ("Fax: 617.555.0199", "617.555.0199", "PHONE"),
    ("Send results to jane.roe@example.org please.", "jane.roe@example.org", "EMAIL"),
    (
        "Portal at https://portal.example.org/records/42 for details.",
        "https://portal.example.org/records/42",
        "URL",
    ),
    ("Accessed from 192.168.10.24 overnight.", "192.168.10.24", "IP"),
    ("Seen by Dr. Alvarez this morning.", "Alvarez", "NAME"),
    ("Discussed with Dr. John L. at length.", "John L.", "NAME"),
    ("Pt's daughter Rebecca will pick her up.", "Rebecca", "NAME"),
    ("His wife, Margaret, is the health care proxy.", "Margaret", "NAME"),
    ("Electronically signed by Hannah Whitcombe, MD", "Hannah Whitcombe", "NAME"),
    ("Patient: WALTER KOWALCZYK", "WALTER KOWALCZYK", "NAME"),
    ("PATIENT SEEN WITH DR. ABERNATHY IN CLINIC TODAY.", "ABERNATHY", "NAME"),
    ("Lives at 1234 Elm Street, Apt 5, Springfield, IL 62704.", "1234 Elm Street, Apt 5", "ADDRESS"),
    ("Lives at 1234 Elm Street, Apt 5, Springfield, IL 62704.", "Springfield", "LOCATION"),
    ("Lives at 1234 Elm Street, Apt 5, Springfield, IL 62704.", "62704", "ZIP"),
    ("Mail to P.O. Box 7731 for records.", "P.O. Box 7731", "ADDRESS"),
    ("A 93-year-old woman with CHF.", "93", "AGE"),
    ("Age: 101, lives with son.", "101", "AGE"),
    ("Transferred from Mercy General Hospital by ambulance.", "Mercy General Hospital", "FACILITY"),
    ("Followed at St. Vincent's for years.", "St. Vincent's", "FACILITY"),
    ("Previously treated at UCLA Medical Center.", "UCLA Medical Center", "FACILITY"),
]

# (text, what must stay untouched)
MUST_SURVIVE = [
    ("Metoprolol 25 mg PO BID, lisinopril 10 mg daily.", ["Metoprolol", "25 mg", "lisinopril", "10 mg"]),
    ("PT/INR 13.2/1.1, PTT 30, HbA1c 7.2%.", ["PT/INR", "13.2/1.1", "HbA1c", "7.2%"]),
    ("Strength 5/5 bilaterally, 2/6 systolic murmur.", ["5/5", "2/6"]),
    ("Take 1/2 tab at bedtime. BP 120/80, HR 72.", ["1/2", "120/80", "72"]),
    ("Gave 2000 mg of vancomycin and 1500 mL NS.", ["2000 mg", "1500 mL"]),
    ("Hepatitis B surface antigen negative; Vitamin D low.", ["Hepatitis B", "Vitamin D"]),
    ("History of COPD, CHF and CKD stage 3.", ["COPD", "CHF", "CKD"]),
    ("A 45-year-old man with chest pain.", ["45"]),
    (
        "Chief Complaint: shortness of breath. Review of Systems negative.",
        ["Chief Complaint", "Review of Systems"],
    ),
    ("Tylenol 650 mg every 6 hours as needed for pain.", ["Tylenol", "650 mg", "6 hours"]),
    ("Sodium 138, potassium 4.1, creatinine 1.2 mg/dL.", ["138", "4.1", "1.2"]),
    # capitalised and unusual clinical words that the proper-noun pass must leave alone
    ("LABS: Troponin I 0.01 ng/mL, D-dimer elevated.", ["Troponin I", "D-dimer"]),
    ("MEDICATIONS: - 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", ["ACTUAT", "Albuterol"]),
    ("Levothyroxine Sodium 0.075 MG Oral Tablet daily.", ["Levothyroxine"]),
    ("History of A-fib and HFrEF, Post-op day 2, HIV-positive.", ["A-fib", "HFrEF", "Post-op", "HIV-positive"]),
    ("Reading glasses prescribed. ECG: NORMAL SINUS RHYTHM.", ["Reading", "NORMAL"]),
    ("Seen for GERD, started on omeprazole.", ["GERD"]),
    ("Max dose of acetaminophen is 3 g; drew blood at noon.", ["Max", "drew"]),
    ("nurse will call. wife at bedside; grace period on bills.", ["will", "grace"]),
    ("History of liver disease, John P. was seen.", ["liver disease"]),
    ("Lisinopril, metformin and atorvastatin were continued.", ["Lisinopril", "metformin", "atorvastatin"]),
    ("Tdap given. Pt ambulating with Rollator and Foley removed.", ["Tdap", "Rollator", "Foley"]),
    ("Chest CT showed Ground-glass opacities; Covid-19 PCR negative.", ["Ground-glass", "Covid-19"]),
    ("PT/OT consulted. Wound Vac placed by Ortho.", ["Vac", "Ortho"]),
    ("Flomax 0.4 mg qhs, Tamsulosin held, Zofran PRN nausea.", ["Tamsulosin", "Zofran"]),
    ("Labs: Procalcitonin 0.3, Lactate 2.1, Troponin-T negative.", ["Procalcitonin", "Lactate", "Troponin-T"]),
    ("Impression: Takotsubo cardiomyopathy vs NSTEMI. Echo with Definity contrast.", ["Takotsubo", "NSTEMI"]),
    ("Glasgow Coma Scale 15. Morse Fall Scale high risk. Braden score 14.", ["Glasgow", "Morse", "Braden"]),
]


@pytest.mark.parametrize(("text", "phi", "label"), MUST_CATCH, ids=[c[1] for c in MUST_CATCH])
def test_phi_is_caught_whole(analyzer, text, phi, label):
    start = text.index(phi)
    spans = find_phi(text)
    hits = covered(spans, start, start + len(phi))
    assert hits, f"{phi!r} missed"
    assert min(s.start for s in hits) <= start and max(s.end for s in hits) >= start + len(phi)
    assert label in {s.label for s in hits}


@pytest.mark.parametrize(("text", "keep"), MUST_SURVIVE, ids=[c[0][:30] for c in MUST_SURVIVE])
def test_clinical_terms_survive(analyzer, text, keep):
    spans = find_phi(text)
    for term in keep:
        start = text.index(term)
        assert not covered(spans, start, start + len(term)), f"{term!r} taken for PHI"


def test_spans_are_sorted_disjoint_and_typed(analyzer):
    text = "Dr. Ames saw Ann Lee 3/4/2021 at 12 Oak Road, Salem, MA 01970; call 978-555-0101."
    spans = find_phi(text)
    assert spans == sorted(spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert all(0 < s.score <= 1 for s in spans)
    with pytest.raises(AttributeError):
        spans[0].label = "X"  # frozen


def test_known_phi_is_a_deny_list(analyzer):
    # An odd nickname and a bare record number no rule or model would flag.
    text = "zuzu came in today; chart 77x1 updated. zuzu's phone 978 555 0123."
    assert not covered(find_phi(text), 0, 4)
    known = KnownPhi(names=("Zuzu Quenby",), ids=("77x1",), phones=("+1 (978) 555-0123",))
    spans = find_phi(text, known)
    labels = {text[s.start : s.end].lower(): s.label for s in spans}
    assert labels["zuzu"] == "NAME" and labels["77x1"] == "ID"
    assert any(s.label == "PHONE" and "555" in text[s.start : s.end] for s in spans)
    # a dict works as well
    assert find_phi(text, {"names": ["Zuzu Quenby"]})[0] == PhiSpan(0, 4, "NAME", 1.0)


def test_all_caps_note_is_not_all_names(analyzer):
    text = "PATIENT SEEN IN CLINIC FOR CHEST PAIN. TAKES LISINOPRIL 10 MG DAILY. ECG NORMAL SINUS RHYTHM."
    assert [s for s in find_phi(text) if s.label == "NAME"] == []
    exam = "HEENT: NORMOCEPHALIC, ATRAUMATIC. LUNGS: CLEAR, NO WHEEZES, RALES OR RHONCHI. ABDOMEN NONTENDER."
    assert find_phi(exam) == []
    text = "PT JOHN KOWALCZYK ADMITTED FOR CHF."
    assert [text[s.start : s.end] for s in find_phi(text)] == ["JOHN KOWALCZYK"]


def test_long_note_is_chunked_not_crashed(analyzer, monkeypatch):
    from deid.text import engine

    filler = "pt tolerating diet, ambulating with assistance, continue current medications.\n"
    planted = ["Dr. Jonathan Whitfield", "3/4/2021", "MRN 99887766"]
    text = filler * 14_000 + f"Seen by {planted[0]} on {planted[1]}, {planted[2]}.\n"
    assert len(text) > 1_000_000  # beyond spaCy's max_length
    spans = find_phi(text)
    found = {text[s.start : s.end] for s in spans}
    assert {"Jonathan Whitfield", "3/4/2021", "99887766"} <= found
    # and across small chunks: every planted value is found whole, wherever the cuts fall
    monkeypatch.setattr(engine, "CHUNK_CHARS", 700)
    monkeypatch.setattr(engine, "CHUNK_OVERLAP", 200)
    short = (filler * 3 + "Seen by Dr. Jonathan Whitfield on 3/4/2021, MRN 99887766.\n") * 4
    spans = find_phi(short)
    found = [short[s.start : s.end] for s in spans]
    assert found.count("Jonathan Whitfield") == 4 and found.count("3/4/2021") == 4 and found.count("99887766") == 4


@pytest.mark.slow
def test_a_200k_character_note_is_read_in_bounded_pieces_with_each_part_s_own_spans(analyzer):
    """A note twice the chunk size is read in overlapping chunks: the memory its reading takes (traced
    peak) stays that of one chunk, and every copy of a note inside it gets the spans the note gets alone
    (the note has PHI throughout; chunk borders fall on the blank lines between copies or inside copies
    that lie whole in the overlap)."""
    import json
    import tracemalloc

    from deid.text import engine

    golden = Path(__file__).parent / "fixtures" / "find_phi_golden.json"
    note = json.loads(golden.read_text())[3]["text"]
    alone = [(s.start, s.end, s.label, s.score) for s in find_phi(note)]
    assert len(alone) >= 5

    def read(size: int) -> tuple[str, list, int]:
        copies = size // (len(note) + 2) + 1
        text = "\n\n".join([note] * copies)
        tracemalloc.start()
        try:
            spans = find_phi(text)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return text, spans, peak

    _, _, one_chunk = read(engine.CHUNK_CHARS - 5_000)
    text, spans, two_chunks = read(200_000)
    assert len(text) >= 200_000 and len(engine.chunks(text)) == 3
    # not twice the memory for twice the text (the NER's line cache, bounded, and the taggers' one text's
    # features hold some: 1.15-1.3x measured)
    assert two_chunks < 1.5 * one_chunk
    step = len(note) + 2
    for k in range(len(text) // step + 1):
        start = k * step
        copy = [
            (s.start - start, s.end - start, s.label, s.score) for s in spans if start <= s.start < start + step
        ]
        assert copy == alone, f"copy {k} at {start}"


def test_batch_and_processes_match_single(analyzer):
    from deid.text import deidentify_batch, find_phi_batch

    texts = ["Seen by Dr. Ames on 3/4/2021.", "No PHI here.", "Call 617-555-0142, MRN 123456."] * 3
    single = [find_phi(t) for t in texts]
    assert find_phi_batch(texts) == single
    assert find_phi_batch(texts, n_process=2, batch_size=2) == single  # forked workers, order kept
    tagged = deidentify_batch(texts, ["p"] * len(texts), mode="tag", n_process=2)
    assert tagged[0] == "Seen by Dr. [NAME] on [DATE]." and tagged[1] == "No PHI here."


def test_email_domains_are_checked_offline(analyzer, monkeypatch):
    """tldextract's default extractor fetches the public-suffix list on first use; ours and the Presidio
    baseline must use the bundled snapshot instead."""
    import socket

    from deid.text.evaluation import presidio_default
    from deid.text.recognizers import offline_tld_extractor

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    offline_tld_extractor.cache_clear()
    text = "Write to jane.roe@mail.example.co.uk today."
    assert [text[s.start : s.end] for s in find_phi(text)] == ["jane.roe@mail.example.co.uk"]
    found = presidio_default().analyze(text, language="en", entities=["EMAIL_ADDRESS"])
    assert [text[r.start : r.end] for r in found] == ["jane.roe@mail.example.co.uk"]


def test_the_analyzers_tables_are_out_of_the_cycle_collectors_walk(analyzer):
    """Built, the analyzer's word lists and the tagger's lexicons are frozen (gc.freeze): a full collection
    no longer walks their millions of entries, which cost a quarter of a CPU-second each time it ran."""
    import gc

    from deid.text.nlp import word_lists
    from deid.text.tagger_features import lexicons

    tables = [word_lists().dictionary, word_lists().english, *lexicons().values()]
    walked = {id(o) for o in gc.get_objects()}
    assert gc.get_freeze_count() > 0
    assert not [t for t in tables if id(t) in walked]


def test_the_email_screen_skips_only_texts_without_an_at_sign():
    """The email recognizer skips a text without "@": every pattern it has requires one ("[@]"), and it finds
    what Presidio's scan finds, with and without the sign."""
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    from deid.text.recognizers import OfflineEmailRecognizer

    ours = OfflineEmailRecognizer(supported_entity="EMAIL")
    # "[@]" sits outside any optional group in Presidio's pattern: a new version without it fails here
    assert ours.patterns and all("[@]\\w+" in p.regex for p in ours.patterns)
    texts = ["Write to a.b-c@mail.example.org or x@y.example.com.", "No mail here: a b c (at) example.org", ""]
    for text in texts:
        theirs = EmailRecognizer.analyze(ours, text, ["EMAIL"])
        assert [(r.start, r.end) for r in ours.analyze(text, ["EMAIL"])] == [(r.start, r.end) for r in theirs]
    assert len(ours.analyze(texts[0], ["EMAIL"])) == 2
