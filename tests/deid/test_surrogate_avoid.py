"""Surrogate names never use a real person's name: the PHI audit could not tell such a note from a leak."""

from deid.pseudonym import Keyring
from deid.text.surrogates import Surrogates


def test_surrogate_names_skip_every_avoided_name():
    keys = Keyring(b"avoid-secret-0123456789")
    plain = Surrogates(keys.surrogate_seed("p1"), keys.shift_days("p1"), "shifted")
    first = plain.replace("NAME", "Harriet Quixley")
    taken = frozenset(w.lower() for w in first.split())
    avoiding = Surrogates(keys.surrogate_seed("p1"), keys.shift_days("p1"), "shifted", avoid=taken)
    second = avoiding.replace("NAME", "Harriet Quixley")
    assert second != first
    assert not {w.lower() for w in second.split()} & taken
    assert avoiding.replace("NAME", "Harriet Quixley") == second  # still consistent per subject


def test_last_first_names_before_a_credential_are_caught_whole():
    from deid import find_phi

    for text, name in (
        ("Follow-up with RUIZ, LILLIAN MD at clinic.", "RUIZ, LILLIAN"),
        ("Signed: Ruiz, Lillian MD", "Ruiz, Lillian"),
    ):
        spans = [text[s.start : s.end] for s in find_phi(text) if s.label == "NAME"]
        assert name in spans


def test_surrogate_zips_and_house_numbers_avoid_known_values():
    keys = Keyring(b"avoid-secret-0123456789")
    plain = Surrogates(keys.surrogate_seed("p1"), keys.shift_days("p1"), "shifted")
    number = plain.replace("ADDRESS", "12345 Main Street").split()[0]
    avoiding = Surrogates(keys.surrogate_seed("p1"), keys.shift_days("p1"), "shifted", avoid=frozenset({number}))
    assert avoiding.replace("ADDRESS", "12345 Main Street").split()[0] != number


def test_surrogate_street_lines_avoid_real_subjects_streets():
    # "847 Elm Street" for one subject must not be another subject's real street line.
    keys = Keyring(b"avoid-secret-0123456789")
    plain = Surrogates(keys.surrogate_seed("p1"), keys.shift_days("p1"), "shifted")
    line = plain.replace("ADDRESS", "12 Quorbelt Road")
    taken = frozenset({line.lower()})
    avoiding = Surrogates(keys.surrogate_seed("p1"), keys.shift_days("p1"), "shifted", avoid=taken)
    other = avoiding.replace("ADDRESS", "12 Quorbelt Road")
    assert other.lower() not in taken and other == avoiding.replace("ADDRESS", "12 Quorbelt Road")


def test_typographic_apostrophes_do_not_hide_relatives():
    from deid import find_phi

    text = "Lives with pt’s daughter Lillian. Never smoker."
    assert [text[s.start : s.end] for s in find_phi(text)] == ["Lillian"]
