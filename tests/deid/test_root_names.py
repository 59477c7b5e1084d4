"""The root-wide name matcher: finds another patient's names exactly where the PHI audit would, no more."""

from deid.text.root_names import RootNames
from deid.text.words import known_word
from quality.phi_audit import PhraseIndex, name_phrases


def _matcher(*people: list[str]) -> RootNames:
    return RootNames([p for parts in people for p in name_phrases(parts)], is_common=known_word)


def _found(m: RootNames, text: str) -> list[str]:
    return [text[s.start : s.end] for s in m.spans(text)]


def test_full_names_in_any_order_and_case_are_found():
    m = _matcher(["Ottoline", "Brakspear"], ["Mr.", "Fenwick", "Dallowmere"])
    text = "Seen with roommate BRAKSPEAR, Ottoline; Mr Fenwick Dallowmere (brother) called. dallowmere-fenwick."
    assert _found(m, text) == ["BRAKSPEAR, Ottoline", "Fenwick Dallowmere", "dallowmere-fenwick"]


def test_a_surname_that_is_a_clinical_word_is_found_only_as_a_full_name():
    m = _matcher(["Hazel", "Pulse"])
    assert _found(m, "Pulse 72, regular. Pulses palpable.") == []
    assert _found(m, "Her neighbour Hazel Pulse visited.") == ["Hazel Pulse"]


def test_a_rare_surname_alone_is_found_but_not_inside_a_longer_word():
    m = _matcher(["Ottoline", "Brakspear"])
    assert _found(m, "Per Brakspear, no change. Brakspearian habits.") == ["Brakspear"]


def test_everything_found_is_what_the_audit_flags():
    people = [["Ottoline", "Brakspear"], ["Hazel", "Pulse"], ["Ivo", "Quenby-Marsh"]]
    m = _matcher(*people)
    index = PhraseIndex()
    for parts in people:
        for p in name_phrases(parts):
            index.add(p, "name")
    text = "Quenby-Marsh, Ivo; PULSE Hazel. Pulse 80. Ottoline said Brakspear's dog bit her."
    for span in _found(m, text):
        assert index.kinds_in(span) == {"name"}, span
    scrubbed = text
    for s in sorted(m.spans(text), key=lambda s: -s.start):
        scrubbed = scrubbed[: s.start] + "X" + scrubbed[s.end :]
    assert index.kinds_in(scrubbed) == set()  # nothing left for the audit to block on


def test_offsets_hold_when_lower_casing_changes_length():
    m = _matcher(["Ottoline", "Brakspear"])
    text = "İİ Ottoline Brakspear"
    assert _found(m, text) == ["Ottoline Brakspear"]
