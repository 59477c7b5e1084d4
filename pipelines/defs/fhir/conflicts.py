"""One FHIR resource (`Type/id`) delivered for two different patients, found across every shard as raw/fhir is
gathered: a resource with two subjects cannot be trusted, so the meds build quarantines every copy."""

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from schemas.raw import RAW_RESOURCE_CONFLICTS_SCHEMA

KEYS = RAW_RESOURCE_CONFLICTS_SCHEMA.names  # source_file, position, resource_type: a record's events


def any_id_twice(paths: list[Path]) -> bool:
    """Whether any resource id appears twice in these raw/fhir/resource_ids files: their id column alone is
    read, so a delivery with no id repeated (the common case) pays one set of strings."""
    seen: set[str] = set()
    total = 0
    for path in paths:
        with pq.ParquetFile(path) as f:  # not pq.read_table: its first call imports pyarrow.dataset
            ids = f.read(columns=["resource_id"]).column(0).to_pylist()
        seen.update(ids)
        total += len(ids)
    return len(seen) < total


def conflicting_records(ids: list[tuple[int, pa.Table]]) -> dict[int, pa.Table]:
    """shard -> the records (file, position, type) of every `Type/id` read for two or more different patients,
    from each shard's raw/fhir/resource_ids tables. Cost: one hash of the id over every record; types and
    subjects are compared only for the few ids read twice.

    A record key holding several resources (the entries of a Bundle nested in one NDJSON line share its
    position) is left out, as for later copies (pipelines.defs.meds.duplicates): quarantining its events
    would drop resources that are no copy.

    >>> t = lambda rid, pid, pos: pa.table({"resource_type": ["Observation"], "resource_id": [rid],
    ...     "source_file": ["a.ndjson"], "position": [pos], "source_patient": [pid]})
    >>> out = conflicting_records([(0, t("o1", "p1", 1)), (1, t("o1", "p2", 2)), (0, t("o2", "p1", 3))])
    >>> {shard: table["position"].to_pylist() for shard, table in out.items()}
    {0: [1], 1: [2]}
    """
    ids = [(shard, t) for shard, t in ids if t.num_rows]
    if not ids:
        return {}
    # Ids read twice, whatever their type (exported ids are mostly unique across types: the type is compared
    # below, for these few). A Python set beats a pyarrow hash kernel here: the kernel's first call in a
    # process costs ten times its work (0.3 s on the shared Synthea set).
    seen: set[str] = set()
    total = 0
    for _, t in ids:
        seen.update(t["resource_id"].to_pylist())
        total += t.num_rows
    if len(seen) == total:
        return {}  # the common case: no id read twice
    seen, twice = set(), set()
    for _, t in ids:
        for rid in t["resource_id"].to_pylist():
            (twice if rid in seen else seen).add(rid)
    seen_twice = pa.array(sorted(twice), pa.string())
    rows = []  # the records of ids read twice: few, so plain Python from here
    for shard, t in ids:
        for r in t.filter(pc.is_in(t["resource_id"], seen_twice)).to_pylist():
            rows.append({**r, "shard": shard})
    subjects: dict[tuple, set] = {}
    for r in rows:
        subjects.setdefault((r["resource_type"], r["resource_id"]), set()).add(r["source_patient"])
    rows = [r for r in rows if len(subjects[r["resource_type"], r["resource_id"]]) > 1]
    files = pa.array(sorted({r["source_file"] for r in rows}), pa.string())
    per_key: Counter = Counter()
    for _, t in ids:  # a record key holding another resource of any id
        for k in t.select(KEYS).filter(pc.is_in(t["source_file"], files)).to_pylist():
            per_key[k["source_file"], k["position"], k["resource_type"]] += 1
    out: dict[int, list[dict]] = {}
    for r in sorted(rows, key=lambda r: (r["shard"], r["source_file"], r["position"], r["resource_type"])):
        if per_key[r["source_file"], r["position"], r["resource_type"]] == 1:
            out.setdefault(r["shard"], []).append({k: r[k] for k in KEYS})
    return {shard: pa.Table.from_pylist(rs, schema=RAW_RESOURCE_CONFLICTS_SCHEMA) for shard, rs in out.items()}
