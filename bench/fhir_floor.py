"""The practical floor for FHIR bundles -> events: one process, orjson + polars, no checks of any kind.

Reads every bundle under a folder, emits (patient, time, code, value, unit) rows for the resource types the
Longitude ingest turns into events, and writes one Parquet file. No validation, quarantine, ledger,
de-identification, sharding or sorting: whatever is missing is skipped, whatever is odd is passed through.
It uses ISA-L gunzip like the real ingest, so the floor is as fast as a plain script can reasonably be.

    .venv/bin/python bench/fhir_floor.py LANDING_DIR OUT.parquet   # prints a JSON line of counts
"""

import json
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import polars as pl
from isal import igzip

VOCAB = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RXNORM",
    "http://hl7.org/fhir/sid/cvx": "CVX",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "urn:oid:2.16.840.1.113883.6.238": "CDCREC",
}
RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
# The first present of these holds the event time; *Period fields give their start.
TIME_FIELDS = {
    "Condition": ("onsetDateTime", "onsetPeriod", "recordedDate"),
    "Observation": ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"),
    "Procedure": ("performedDateTime", "performedPeriod"),
    "Immunization": ("occurrenceDateTime", "recorded"),
    "AllergyIntolerance": ("onsetDateTime", "onsetPeriod", "recordedDate"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod", "issued"),
    "MedicationRequest": ("authoredOn",),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod"),
}
CODE_FIELD = {
    "Immunization": "vaccineCode",
    "MedicationRequest": "medicationCodeableConcept",
    "MedicationAdministration": "medicationCodeableConcept",
}
PATIENT_FIELD = {"Immunization": "patient", "AllergyIntolerance": "patient"}


def _code(concept) -> str | None:
    for c in (concept or {}).get("coding") or ():
        if c.get("code"):
            system = c.get("system") or ""
            return f"{VOCAB.get(system) or system.rsplit('/', 1)[-1].upper()}//{c['code']}"
    return None


def _time(r: dict, fields: tuple[str, ...]) -> str | None:
    for f in fields:
        v = r.get(f)
        if v:
            return v.get("start") if f.endswith("Period") else v
    return None


def _ref(r: dict, field: str) -> str:
    ref = (r.get(field) or {}).get("reference") or ""
    return ref.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def convert(landing: Path, out: Path) -> dict:
    pid, times, codes, values, units = [], [], [], [], []
    per_type: Counter = Counter()
    n_bytes = n_resources = 0

    def emit(p, t, c, v=None, u=None, rtype=""):
        pid.append(p), times.append(t), codes.append(c), values.append(v), units.append(u)
        per_type[rtype] += 1

    for path in sorted(landing.rglob("*.json*")):
        with igzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            data = f.read()
        n_bytes += len(data)
        for entry in orjson.loads(data).get("entry") or ():
            r = entry["resource"]
            n_resources += 1
            rt = r["resourceType"]
            if rt == "Patient":
                p = r["id"]
                emit(p, None, f"GENDER//{r.get('gender')}", rtype=rt)
                emit(p, r.get("birthDate"), "MEDS_BIRTH", rtype=rt)
                if r.get("deceasedDateTime"):
                    emit(p, r["deceasedDateTime"], "MEDS_DEATH", rtype=rt)
                for ext in r.get("extension") or ():
                    if ext.get("url") in (RACE, ETHNICITY):
                        vocab = "RACE" if ext["url"] == RACE else "ETHNICITY"
                        for sub in ext.get("extension") or ():
                            if sub.get("url") == "ombCategory":
                                emit(p, None, f"{vocab}//{sub['valueCoding']['code']}", rtype=rt)
            elif rt == "Encounter":
                p, period, cls = _ref(r, "subject"), r.get("period") or {}, (r.get("class") or {}).get("code")
                emit(p, period.get("start"), f"ENCOUNTER//{cls}", rtype=rt)
                if period.get("end"):
                    emit(p, period["end"], f"ENCOUNTER_END//{cls}", rtype=rt)
            elif rt == "ImagingStudy":
                p = _ref(r, "subject")
                for s in r.get("series") or ():
                    site = (s.get("bodySite") or {}).get("code")
                    code = f"IMAGING//{(s.get('modality') or {}).get('code')}//{site}"
                    emit(p, s.get("started") or r.get("started"), code, rtype=rt)
            elif rt in TIME_FIELDS:
                p, t = _ref(r, PATIENT_FIELD.get(rt, "subject")), _time(r, TIME_FIELDS[rt])
                code = _code(r.get(CODE_FIELD.get(rt, "code")))
                components = r.get("component") or ()
                q = r.get("valueQuantity")
                if not components or q:
                    emit(p, t, code, q and q.get("value"), q and (q.get("code") or q.get("unit")), rt)
                for comp in components:
                    q = comp.get("valueQuantity") or {}
                    emit(p, t, _code(comp.get("code")), q.get("value"), q.get("code") or q.get("unit"), rt)

    t = pl.col("time")
    df = pl.DataFrame(
        {"patient": pid, "time": times, "code": codes, "value": values, "unit": units},
        schema={
            "patient": pl.String,
            "time": pl.String,
            "code": pl.String,
            "value": pl.Float64,
            "unit": pl.String,
        },
    ).with_columns(
        pl.coalesce(
            t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", strict=False).dt.replace_time_zone(None),
            t.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        ).alias("time")
    )
    df.write_parquet(out)
    return {"resources": n_resources, "bytes": n_bytes, "events": df.height, "per_type": dict(per_type)}


def main() -> None:
    started = time.perf_counter()
    stats = convert(Path(sys.argv[1]), Path(sys.argv[2]))
    stats["seconds"] = time.perf_counter() - started
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
