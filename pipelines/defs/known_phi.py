"""A subject's identifiers from its raw patients row, and every patient's names, identifiers, phones, e-mails
and street lines of the root, as the text de-identifier's deny lists (notes and free-text extra columns both
use them)."""

import re
from functools import lru_cache
from pathlib import Path

import polars as pl

from schemas.layout import Layout
from schemas.publish import files_under


def known_phi(patient: dict):
    """What the structured record knows about a subject, as the text de-identifier's deny list."""
    from deid.text.known import KnownPhi

    telecoms = patient.get("telecoms") or []
    dates = tuple(t.date() for t in (patient.get("birth_time"), patient.get("death_time")) if t is not None)
    # The raw table keeps street lines, cities and postal codes side by side; each gets its own label, so a
    # city is replaced by a town and a ZIP by a ZIP ("Louisville" is no street address).
    zips, streets, cities = _address_parts(patient.get("addresses"))
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


def _address_parts(addresses) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """ZIPs, street lines and cities of a raw `addresses` list (the raw table keeps them side by side)."""
    places = [a.strip() for a in addresses or () if a and a.strip()]
    zips = tuple(a for a in places if _POSTAL_CODE.fullmatch(a))
    streets = tuple(a for a in places if a not in zips and any(ch.isdigit() for ch in a))
    cities = tuple(a for a in places if a not in zips and a not in streets and len(a) > 2)
    return zips, streets, cities


def root_phi(layout: Layout):
    """Every patient of the root (all sources and shards) as one matcher (deid.text.root_phi.RootPhi): names
    as the PHI audit would flag them (quality.phi_audit.name_phrases) less lone name parts that are ordinary
    or clinical words; identifiers (source ids too), phones, e-mails and street lines in their usual forms."""
    files = files_under(layout.raw, Layout.raw_shard_pattern("patients", "*"))
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    return _root_phi(stamp)


@lru_cache(maxsize=1)
def _root_phi(stamp: tuple[tuple[str, int, int], ...]):
    """One matcher per set of patients files: the shards of a run (one process) share it."""
    from deid.text.root_identifiers import RootIdentifiers
    from deid.text.root_names import RootNames
    from deid.text.root_phi import RootPhi
    from deid.text.words import known_word
    from quality.phi_audit import MIN_NAME, name_phrases

    files = [Path(f) for f, _, _ in stamp]
    if not files:
        return RootPhi(RootNames(()), RootIdentifiers())
    cols = ["source_patient", "names", "identifiers", "telecoms", "addresses"]
    people = pl.read_parquet(files, columns=cols, hive_partitioning=False)
    names = people["names"].drop_nulls().unique()
    phrases = {p for parts in names.to_list() for p in name_phrases(parts) if len(p.strip()) >= MIN_NAME}

    def values(col: str) -> list[str]:
        series = people[col] if col == "source_patient" else people[col].explode()
        return series.drop_nulls().unique().to_list()

    telecoms = values("telecoms")
    streets = [s for a in values("addresses") for s in _address_parts([a])[1]]
    identifiers = RootIdentifiers(
        ids=[*values("identifiers"), *values("source_patient")],
        phones=[t for t in telecoms if "@" not in t],
        emails=[t for t in telecoms if "@" in t],
        streets=streets,
    )
    return RootPhi(RootNames(phrases, is_common=known_word), identifiers)


_POSTAL_CODE = re.compile(r"\d{5}(?:-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{4}")
