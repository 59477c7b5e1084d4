"""One FHIR resource (`Type/id`) delivered for two different patients, found across every shard as raw/fhir is
gathered: a resource with two subjects cannot be trusted, so the meds build quarantines every copy."""

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from schemas.raw import RAW_RESOURCE_CONFLICTS_SCHEMA

_ID = ["resource_type", "resource_id"]
KEYS = RAW_RESOURCE_CONFLICTS_SCHEMA.names  # source_file, position, resource_type: a record's events


def conflicting_records(ids: list[tuple[int, pa.Table]]) -> dict[int, pa.Table]:
    """shard -> the records (file, position, type) of every `Type/id` read for two or more different patients,
    from each shard's raw/fhir/resource_ids tables. Cost: one hash of `Type/id` over every record; the
    subjects are compared only for the few ids seen twice.

    A record key holding several resources (the entries of a Bundle nested in one NDJSON line share its
    position) is left out, as for later copies (pipelines.defs.meds.duplicates): quarantining its events
    would drop resources that are no copy.

    >>> t = lambda rid, pid, pos: pa.table({"resource_type": ["Observation"], "resource_id": [rid],
    ...     "source_file": ["a.ndjson"], "position": [pos], "source_patient": [pid]})
    >>> out = conflicting_records([(0, t("o1", "p1", 1)), (1, t("o1", "p2", 2)), (0, t("o2", "p1", 3))])
    >>> {shard: table["position"].to_pylist() for shard, table in out.items()}
    {0: [1], 1: [2]}
    """
    tables = [t.select([*_ID, "source_file", "position", "source_patient"]).append_column(
        "shard", pa.array([shard] * t.num_rows, pa.int32())) for shard, t in ids if t.num_rows]  # fmt: skip
    if not tables:
        return {}
    whole = pa.concat_tables(tables)
    key = pc.binary_join_element_wise(whole["resource_type"], whole["resource_id"], "/")
    counts = pc.value_counts(key)
    seen_twice = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if not len(seen_twice):
        return {}
    table = whole.filter(pc.is_in(key, seen_twice))
    subjects = table.group_by(_ID).aggregate([("source_patient", "count_distinct")])
    two = subjects.filter(pc.greater(subjects["source_patient_count_distinct"], 1))
    if not two.num_rows:
        return {}
    rows = table.join(two.select(_ID), _ID, join_type="inner").to_pylist()
    files = pa.array(sorted({r["source_file"] for r in rows}))
    keys = whole.select(KEYS).filter(pc.is_in(whole["source_file"], files)).to_pylist()
    per_key = Counter((k["source_file"], k["position"], k["resource_type"]) for k in keys)
    out: dict[int, list[dict]] = {}
    for r in sorted(rows, key=lambda r: (r["shard"], r["source_file"], r["position"], r["resource_type"])):
        if per_key[r["source_file"], r["position"], r["resource_type"]] == 1:
            out.setdefault(r["shard"], []).append({k: r[k] for k in KEYS})
    return {shard: pa.Table.from_pylist(rs, schema=RAW_RESOURCE_CONFLICTS_SCHEMA) for shard, rs in out.items()}
