"""A given name before a surname in the possessive is a person's, whatever head follows; eponyms stay text."""

import pytest

from deid.text.surrogates import deidentify
from tests.conftest import TEST_SECRET
from tests.deid.phi_marks import covered, marked

# Constructed names (no corpus's); surnames that no eponym list holds, in the cases notes are written in.
PERSONS = [
    ("Called to discuss. Maria Lindqvist's test results pending.", "Maria Lindqvist"),
    ("MARIA LINDQVIST'S TEST RESULTS PENDING.", "MARIA LINDQVIST"),
    ("Reviewed Tomas Brandt's test results with him.", "Tomas Brandt"),
    ("Awaiting Priya Ramaswamy's lab results from outside.", "Priya Ramaswamy"),
    ("Faxed Olufemi Adeyemi's scan report to the clinic.", "Olufemi Adeyemi"),
]
EPONYMS = [
    ("Positive Romberg's test.", "Romberg"),
    ("Allen's test normal bilaterally.", "Allen"),
    ("Hx of Lou Gehrig's disease.", "Gehrig"),
    ("Positive Phalen's test and Tinel's sign.", "Phalen"),
    ("Negative Homans' sign on the left.", "Homans"),
    ("Modified Allen's test before the arterial line.", "Allen"),
]


@pytest.mark.parametrize(("text", "name"), PERSONS)
def test_a_given_name_and_a_possessive_surname_are_found_whole(text: str, name: str):
    assert covered(text, name), text
    out = deidentify(text, "p1", secret=TEST_SECRET)
    assert name.split()[-1] not in out


@pytest.mark.parametrize(("text", "eponym"), EPONYMS)
def test_an_eponym_without_a_given_name_stays_text(text: str, eponym: str):
    assert not marked(text, eponym), text
