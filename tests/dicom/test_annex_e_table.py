"""The Annex E table as data: transcribed faithfully and resolved into the profile's actions."""

import re

from pydicom.datadict import dictionary_description

from deid.dicom.table import Action, load_table


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def test_every_table_row_names_the_attribute_pydicom_knows_by_that_tag():
    table = load_table()
    assert len(table.exact) > 440  # PS3.15 Table E.1-1 lists ~450 attributes plus repeating groups
    mismatched = {
        f"{tag:08x}": (rule.name, dictionary_description(tag))
        for tag, rule in table.exact.items()
        if _norm(rule.name) != _norm(dictionary_description(tag))
    }
    assert mismatched == {}


def test_profile_actions_for_key_attributes():
    t = load_table()
    assert t.rule(0x00100010).action is Action.EMPTY  # Patient's Name: Z
    assert t.rule(0x00100030).action is Action.EMPTY  # Birth Date: Z, no Modified Dates option
    assert t.rule(0x00080020).action is Action.SHIFT  # Study Date: Modified Dates option
    assert t.rule(0x00080080).action is Action.EMPTY  # Institution Name: X/Z/D -> Z
    assert t.rule(0x00081070).action is Action.EMPTY  # Operators' Name
    assert t.rule(0x0020000E).action is Action.UID  # Series Instance UID
    assert t.rule(0x00081140).action is Action.UID_SEQUENCE  # Referenced Image Sequence: X/Z/U*
    clean = t.rule(0x0008103E)  # Series Description: X, Clean Descriptors
    assert (clean.action, clean.fallback) == (Action.CLEAN, Action.REMOVE)
    assert t.rule(0x60003000).action is Action.REMOVE  # Overlay Data, repeating group
    assert t.rule(0x50020000).action is Action.REMOVE  # Curve Data
    assert t.rule(0x00280010) is None  # Rows: not in the table, kept


def test_without_options_dates_and_descriptions_get_their_basic_action():
    t = load_table(modified_dates=False, clean_descriptors=False)
    assert t.rule(0x00080020).action is Action.EMPTY
    assert t.rule(0x0008103E).action is Action.REMOVE
