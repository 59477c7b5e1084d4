"""fhir2meds 0.1.0 (PyPI) as a benchmark peer: install its missing configs, adapt the input, run it, count.

fhir2meds reads only plain `.json`/`.ndjson` files line by line (one resource per line, like the MIMIC-IV FHIR
demo it was written for), so pretty-printed, gzipped transaction bundles give it nothing. `to_ndjson` turns the
bundles into a bulk-export layout it can read, changing only what it needs:

- one `<ResourceType>.ndjson` per type (it needs `Patient.ndjson` by that name);
- `urn:uuid:<id>` references become `<Type>/<id>` (it keeps a resource only if its subject/patient reference
  starts with `Patient/`);
- each Patient gets an identifier `{system: .../identifier/patient, value: <n>}`: it maps patients to integer
  subject ids only through such an identifier (MIMIC's), and drops every row whose subject_id is not an integer.

Without the last two changes it writes zero events for this set. The 0.1.0 wheel also lacks the files its
package imports (dataset.yaml, configs/main.yaml, configs/event_configs.yaml) and its `fhir2meds` console
script points to a module it does not ship (fhir2meds.cli); `install_configs` copies the repository's files
from bench/peers/fhir2meds/ into the venv, and `command` runs `python -m fhir2meds`.

    .venv/bin/python bench/fhir2meds_peer.py LANDING_DIR WORK_DIR   # adapt + run + count, prints JSON
    .venv/bin/python bench/fhir2meds_peer.py adapt LANDING_DIR NDJSON_DIR   # or count OUT_DIR
"""

import json
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import orjson
from isal import igzip

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".venv-fhir2meds"
CONFIGS = BENCH / "peers" / "fhir2meds"
CONFIG_FILES = ("dataset.yaml", "configs/main.yaml", "configs/event_configs.yaml")
PATIENT_ID_SYSTEM = "http://longitude.bench/identifier/patient"
_URN = re.compile(rb'"urn:uuid:([0-9A-Za-z.\-]{1,64})"')


def python() -> Path:
    return VENV / "bin" / "python"


def install_configs() -> Path:
    """Copy the configs the wheel lacks into the installed package; returns the package folder."""
    if not python().exists():
        raise FileNotFoundError(
            f"{VENV} is missing: python3.11 -m venv {VENV} && {VENV}/bin/pip install fhir2meds==0.1.0"
        )
    out = subprocess.run(
        [
            str(python()),
            "-c",
            "import importlib.util as u; print(u.find_spec('fhir2meds').submodule_search_locations[0])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    package = Path(out.stdout.strip())
    for name in CONFIG_FILES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CONFIGS / name, package / name)
    return package


def to_ndjson(landing: Path, out: Path) -> dict:
    """Bundles -> one NDJSON file per resource type, references resolved to Type/id, integer patient ids."""
    out.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[bytes]] = defaultdict(list)
    n_resources = 0
    n_patients = 0
    for path in sorted(landing.rglob("*.json*")):
        with igzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            bundle = orjson.loads(f.read())
        entries = bundle.get("entry") or ()
        types = {
            e["fullUrl"][9:]: e["resource"]["resourceType"]
            for e in entries
            if str(e.get("fullUrl", "")).startswith("urn:uuid:")
        }

        def resolve(m: re.Match, types: dict = types) -> bytes:
            target = m.group(1).decode()
            return f'"{types[target]}/{target}"'.encode() if target in types else m.group(0)

        for e in entries:
            r = e["resource"]
            n_resources += 1
            if r["resourceType"] == "Patient":
                n_patients += 1
                r = {
                    **r,
                    "identifier": [
                        *(r.get("identifier") or ()),
                        {"system": PATIENT_ID_SYSTEM, "value": str(n_patients)},
                    ],
                }
            lines[r["resourceType"]].append(_URN.sub(resolve, orjson.dumps(r)))
    for rtype, rows in lines.items():
        (out / f"{rtype}.ndjson").write_bytes(b"\n".join(rows) + b"\n")
    return {"resources": n_resources, "patients": n_patients, "files": len(lines)}


def command(ndjson_dir: Path, out_dir: Path) -> list[str]:
    return [str(python()), "-m", "fhir2meds", f"raw_input_dir={ndjson_dir}", f"root_output_dir={out_dir}"]


def count(out_dir: Path) -> dict:
    """Events it wrote, per source type (the first segment of its codes; Patient rows are MEDS_BIRTH)."""
    import polars as pl

    files = sorted((out_dir / "data").glob("*.parquet"))
    if not files:
        return {"events": 0, "per_type": {}, "with_time": 0, "with_numeric": 0, "files": 0}
    df = pl.read_parquet(files)
    family = (
        pl.when(pl.col("code") == "MEDS_BIRTH")
        .then(pl.lit("Patient"))
        .otherwise(pl.col("code").str.split("//").list.first())
    )
    per = (
        df.group_by(family.alias("type"))
        .agg(
            pl.len().alias("events"),
            pl.col("time").is_not_null().sum().alias("with_time"),
            pl.col("numeric_value").is_not_null().sum().alias("with_numeric"),
            pl.col("code").n_unique().alias("codes"),
        )
        .sort("type")
    )
    return {
        "events": df.height,
        "with_time": int(df["time"].is_not_null().sum()),
        "with_numeric": int(df["numeric_value"].is_not_null().sum()),
        "subjects": df["subject_id"].n_unique(),
        "files": len(files),
        "per_type": {
            r["type"]: {k: r[k] for k in ("events", "with_time", "with_numeric", "codes")} for r in per.to_dicts()
        },
    }


def main() -> None:
    """`adapt LANDING NDJSON_DIR`, `count OUT_DIR`, or `LANDING WORK_DIR` (adapt, run and count)."""
    if sys.argv[1] == "adapt":
        print(json.dumps(to_ndjson(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    if sys.argv[1] == "count":
        print(json.dumps(count(Path(sys.argv[2]))))
        return
    landing, work = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    install_configs()
    t0 = time.perf_counter()
    adapted = to_ndjson(landing, work / "ndjson")
    t1 = time.perf_counter()
    with open(work / "fhir2meds.log", "wb") as log:
        rc = subprocess.run(
            command(work / "ndjson", work / "out"), stdout=log, stderr=subprocess.STDOUT
        ).returncode
    t2 = time.perf_counter()
    print(json.dumps({"adapt_s": t1 - t0, "run_s": t2 - t1, "rc": rc, "adapted": adapted, **count(work / "out")}))


if __name__ == "__main__":
    main()
