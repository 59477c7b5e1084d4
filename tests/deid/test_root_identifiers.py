"""Every patient's identifiers, phones, e-mails and street lines in a note: found in their usual writings, never
inside a longer number or as a clinical number (constructed values)."""

import pytest

from deid.text.root_identifiers import RootIdentifiers, id_key

M = RootIdentifiers(
    ids=["00427781", "999-41-2210", "AB-7731-X2", "12", "2019", "10500", "HbA1c", "000000"],
    phones=["(617) 555-0142", "+44 20 7946 0958"],
    emails=["Wren.Okafor@Mail.test"],
    streets=["52 Foundry Road", "7 North Birch St, Apt 3", "Apt 9"],
)


def _found(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.label) for s in M.spans(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ref 00427781 in chart", [("00427781", "ID")]),
        ("old chart 0042-7781 merged", [("0042-7781", "ID")]),
        ("card 999412210; card 999 41 2210", [("999412210", "ID"), ("999 41 2210", "ID")]),
        ("id ab7731x2 / AB 7731 X2", [("ab7731x2", "ID"), ("AB 7731 X2", "ID")]),
        ("call 617-555-0142 or 6175550142", [("617-555-0142", "PHONE"), ("6175550142", "PHONE")]),
        ("+1 (617) 555 0142 ok", [("+1 (617) 555 0142", "PHONE")]),
        ("cell 555.0142 ok", [("555.0142", "PHONE")]),
        ("+44 20 7946 0958; 020 7946 0958", [("+44 20 7946 0958", "PHONE"), ("020 7946 0958", "PHONE")]),
        ("mail WREN.OKAFOR@MAIL.TEST today", [("WREN.OKAFOR@MAIL.TEST", "EMAIL")]),
        ("LIVES AT 52 FOUNDRY RD.", [("52 FOUNDRY RD", "ADDRESS")]),
        ("at 52 foundry road today", [("52 foundry road", "ADDRESS")]),
        ("from 7 N. Birch Street, Apt 3 today", [("7 N. Birch Street, Apt 3", "ADDRESS")]),
        ("7 north birch st no stairs", [("7 north birch st", "ADDRESS")]),
    ],
)
def test_known_values_are_found_as_written(text: str, expected: list[tuple[str, str]]):
    assert _found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "HR 12, Na 138, 2019 admission, WBC 10500, HbA1c 7.2, 000000 on the pump",  # too short or too plain
        "ref 004277810 and 100427781 and 0042-7781-5",  # a longer number holding the id
        "acct 617-555-01429 and 1617-555-0142-3",  # a longer run of digits holding the phone
        "52 Foundry is the unit; 52 foundry lane",  # the street without its type, or another type
        "Plt 250, I/O 1200/850, BP 140/87, NS 1000 mL at 125 mL/hr, room 4108, code 99213, 98.6 F",
        "wren.okafor@mail.testing",
    ],
)
def test_nothing_else_is_found(text: str):
    assert _found(text) == []


def test_short_or_plain_ids_are_never_keys():
    assert [id_key(v) for v in ["12", "A-12", "2019", "10500", "HbA1c", "111-111", "abcdefg"]] == [None] * 7
    assert id_key("M 0042-7781") == "m00427781"
