"""A subject's identifiers from its raw patients row, as the text de-identifier's deny list (notes and free-text
extra columns both use it)."""

import re


def known_phi(patient: dict):
    """What the structured record knows about a subject, as the text de-identifier's deny list."""
    from deid.text.known import KnownPhi

    telecoms = patient.get("telecoms") or []
    dates = tuple(t.date() for t in (patient.get("birth_time"), patient.get("death_time")) if t is not None)
    # The raw table keeps street lines, cities and postal codes side by side; each gets its own label, so a
    # city is replaced by a town and a ZIP by a ZIP ("Louisville" is no street address).
    places = [a.strip() for a in patient.get("addresses") or () if a and a.strip()]
    zips = tuple(a for a in places if _POSTAL_CODE.fullmatch(a))
    streets = tuple(a for a in places if a not in zips and any(ch.isdigit() for ch in a))
    cities = tuple(a for a in places if a not in zips and a not in streets and len(a) > 2)
    return KnownPhi(
        names=tuple(patient.get("names") or ()),
        ids=tuple(patient.get("identifiers") or ()),
        phones=tuple(t for t in telecoms if "@" not in t),
        emails=tuple(t for t in telecoms if "@" in t),
        addresses=streets,
        cities=cities,
        zips=zips,
        dates=dates,
    )


_POSTAL_CODE = re.compile(r"\d{5}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{4}")
