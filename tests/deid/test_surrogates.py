"""Surrogates are consistent per subject, dates move by the subject's own shift in their own format, and
each policy does what docs/deidentification.md says."""

import re
from datetime import date, timedelta

import pytest

from deid import Keyring, deidentify
from deid.text.dates import parse_date
from deid.text.surrogates import generalize_zip

from .conftest import SECRET

NOTE_1 = "Maria Gonzalez seen 03/14/2021 by Dr. Peter Olsen. Call Maria at 617-555-0199."
NOTE_2 = "Follow-up: GONZALEZ, Maria doing well; Dr. Olsen agrees. MRN 4455667."


def test_same_name_same_surrogate_across_a_subjects_notes(analyzer):
    a = deidentify(NOTE_1, "patient-1", secret=SECRET)
    b = deidentify(NOTE_2, "patient-1", secret=SECRET)
    for original in ("Maria", "Gonzalez", "Olsen", "617-555-0199", "4455667"):
        assert original.lower() not in (a + b).lower()
    first, last = a.split()[0], a.split()[1]
    assert a.count(first) == 2  # both mentions of Maria in note 1
    assert first in b and last.upper() in b  # and in note 2, case kept (GONZALEZ -> upper case)
    doctor = a.split("Dr. ")[1].split(".")[0].split()[-1]
    assert f"Dr. {doctor}" in b
    assert deidentify(NOTE_1, "patient-1", secret=SECRET) == a  # deterministic


def test_other_subjects_get_other_surrogates(analyzer):
    a = deidentify(NOTE_1, "patient-1", secret=SECRET)
    b = deidentify(NOTE_1, "patient-2", secret=SECRET)
    assert a.split()[:2] != b.split()[:2]
    assert deidentify(NOTE_1, "patient-1", secret=b"another-secret-123456") != a


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("03/14/2021", date(2021, 3, 14)),
        ("3/14/21", date(2021, 3, 14)),
        ("2021-03-14", date(2021, 3, 14)),
        ("2021-03-14T10:00", date(2021, 3, 14)),
        ("March 14th, 2021", date(2021, 3, 14)),
        ("Mar 14 2021", date(2021, 3, 14)),
        ("14 March 2021", date(2021, 3, 14)),
        ("14th of March, 2021", date(2021, 3, 14)),
        ("14-Mar-2021", date(2021, 3, 14)),
        ("03/14/2021 15:24", date(2021, 3, 14)),
        ("March 14, 2021 at 10:30 AM", date(2021, 3, 14)),
    ],
)
def test_date_shift_is_the_keyrings_and_keeps_the_format(analyzer, text, value):
    key = "patient-7"
    shift = Keyring(SECRET).shift_days(key)
    out = deidentify(f"Admitted {text}.", key, secret=SECRET)
    shifted = out.removeprefix("Admitted ").removesuffix(".")
    parsed = parse_date(shifted)
    assert parsed is not None and parsed.value == value + timedelta(days=shift)
    # same shape: the same words, numbers and separators in the same order
    assert _skeleton(shifted) == _skeleton(text)
    assert (shifted[:3].isalpha(), shifted[0].isupper()) == (text[:3].isalpha(), text[0].isupper())


def _skeleton(s: str) -> str:
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"\d+", "9", s))


def test_date_without_year_and_time_survive_the_shift(analyzer):
    shift = Keyring(SECRET).shift_days("p")
    out = deidentify("Seen on 3/4, lab at 2021-03-04T10:00.", "p", secret=SECRET)
    md = (date(2000, 3, 4) + timedelta(days=shift)).strftime("%-m/%-d")
    assert f"Seen on {md}," in out
    assert "T10:00" in out


def test_safe_harbor_generalises(analyzer):
    text = "A 93-year-old seen 03/14/2021 and in Summer 2019, ZIP 02115, then 03601."
    out = deidentify(text, "p", policy="safe-harbor", secret=SECRET)
    assert "90+-year-old" in out
    assert "seen 2021 " in out and "2019" in out and "Summer" not in out
    assert "ZIP 021," in out and "then 000." in out
    assert generalize_zip("89001") == "000"  # 890 is a restricted prefix


def test_limited_data_set_keeps_dates_ages_and_zips_but_not_names(analyzer):
    text = "Maria Gonzalez, 93 yo, seen 03/14/2021 in Salem, MA 01970; call 617-555-0199."
    out = deidentify(text, "p", policy="limited-data-set", secret=SECRET)
    assert "03/14/2021" in out and "93 yo" in out and "01970" in out
    assert "Gonzalez" not in out and "617-555-0199" not in out


def test_shifted_policy_groups_ages_over_89(analyzer):
    assert "90+ yo" in deidentify("Pt is 97 yo.", "p", secret=SECRET)
    assert "45 yo" in deidentify("Pt is 45 yo.", "p", secret=SECRET)


def test_tag_mode_for_auditors(analyzer):
    out = deidentify("Dr. Peter Olsen saw her on 03/14/2021, MRN 4455667.", "p", mode="tag")
    assert out == "Dr. [NAME] saw her on [DATE], MRN [ID]."


def test_surrogates_need_the_secret_and_a_known_policy(analyzer):
    with pytest.raises(ValueError, match="secret"):
        deidentify("Dr. Olsen", "p")
    with pytest.raises(ValueError, match="policy"):
        deidentify("Dr. Olsen", "p", secret=SECRET, policy="hipaa-ish")


def test_known_phi_is_replaced_in_surrogates(analyzer):
    known = {"names": ["Zuzu Quenby"], "mrn": "77x1"}
    out = deidentify("zuzu came in; chart 77x1.", "p", known, secret=SECRET)
    assert "zuzu" not in out.lower() and "77x1" not in out
    ssn = deidentify("SSN 123-45-6789", "p", secret=SECRET)
    assert ssn.startswith("SSN 9") and len(ssn) == len("SSN 123-45-6789")  # 9xx: never issued


def test_weekdays_stay_and_countries_become_other_countries(analyzer):
    from deid.text.lexicon import COUNTRIES

    note = "Flew to Helsinki from Estonia on Tuesday morning with Mr. Pálffy."
    for policy in ("shifted", "safe-harbor"):
        out = deidentify(note, "patient-1", secret=SECRET, policy=policy)
        assert "Tuesday" in out  # the shift is whole weeks: the day of the week is still true
        assert "Estonia" not in out and "Helsinki" not in out and "Pálffy" not in out
        country = out.split(" from ")[1].split(" on ")[0]
        assert country.lower() in COUNTRIES
    assert "Estonia" in deidentify(note, "patient-1", secret=SECRET, policy="limited-data-set")


def test_name_surrogates_keep_the_gender_of_known_given_names(analyzer):
    from deid.text.lexicon import FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES

    for subject in ("patient-1", "patient-2", "patient-3"):
        out = deidentify("Seen with his wife Mary Smith and son John.", subject, secret=SECRET)
        wife, son = out.split("wife ")[1].split()[0], out.split("son ")[1].rstrip(".")
        assert wife.lower() in FEMALE_GIVEN_NAMES and son.lower() in MALE_GIVEN_NAMES


def test_a_shifted_date_never_reads_as_the_true_date_day_first():
    # 12-03-1983 (3 December) moved 38 weeks back is 03-12-1983, which read day-first is 3 December again.
    parsed = parse_date("12-03-1983")
    shift = (date(1983, 3, 12) - date(1983, 12, 3)).days
    assert parsed.shifted(shift) == "03-05-1983"  # one more week back
    assert parsed.shifted(shift + 7) == "03-19-1983"  # no collision: the subject's shift as it is
    named = parse_date("December 3, 1983")  # a month name is never ambiguous: no extra week
    assert named.shifted(shift) == named.render(date(1983, 3, 12))


def test_no_shifted_date_lands_on_the_subjects_true_birth_date(analyzer):
    # A newborn's follow-up visit shifted back by the subject's weeks can land exactly on the real date of
    # birth; it moves one more week instead, and every other date keeps the subject's shift.
    keys = Keyring(SECRET)
    shift = keys.shift_days("baby")
    birth = date(2002, 12, 16)
    visit = birth - timedelta(days=shift)  # shifted by the subject's shift, it would be the birth date
    note = f"Follow-up on {visit:%m/%d/%Y}. Seen {visit + timedelta(days=1):%m/%d/%Y} too."
    out = deidentify(note, "baby", known={"birthDate": birth.isoformat()}, secret=SECRET)
    assert f"{birth:%m/%d/%Y}" not in out
    assert f"Follow-up on {birth - timedelta(days=7):%m/%d/%Y}." in out
    assert f"Seen {birth + timedelta(days=1):%m/%d/%Y} too." in out
