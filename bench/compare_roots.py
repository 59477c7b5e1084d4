"""Compare roots' curated output: MEDS, notes, imaging, tokens and features file by file (sha256, the build time
stamps of dataset.json left out), the FHIR ledger, and every catalog view's rows.

    python bench/compare_roots.py ROOT_A ROOT_B [...]   (exit 1 when any differs from ROOT_A)
"""

import hashlib
import json
import sys
from pathlib import Path

import duckdb

from schemas.publish import files_under

CURATED = ("meds", "notes", "imaging", "tokens", "features")


def curated_files(root: Path) -> dict[str, str]:
    """sha256 of every curated file, read through the manifests (dataset.json without its build time)."""
    out = {}
    for top in CURATED:
        for path in files_under(root / top):
            data = path.read_bytes()
            if path.name == "dataset.json":
                meta = json.loads(data)
                data = json.dumps(
                    {k: v for k, v in meta.items() if k not in ("created_at", "dataset_version")}
                ).encode()
            out[path.relative_to(root).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def digest(root: Path) -> dict[str, str]:
    """The curated files, the FHIR ledger and every catalog view's rows of `root`."""
    out = curated_files(root)
    ledger = root / "quality" / "ledger" / "fhir_raw.parquet"
    out["quality/ledger/fhir_raw.parquet"] = hashlib.sha256(ledger.read_bytes()).hexdigest()
    con = duckdb.connect(str(root / "catalog.duckdb"), read_only=True)
    views = con.execute("select schema_name, view_name from duckdb_views() where not internal order by 1, 2")
    for schema, view in views.fetchall():
        # rows compared as a multiset: their count and the xor of their hashes
        row = con.execute(f'select count(*), bit_xor(hash(t)) from "{schema}"."{view}" t').fetchone()
        out[f"catalog:{schema}.{view}"] = repr(row)
    con.close()
    return out


def main(roots: list[str]) -> int:
    first = digest(Path(roots[0]))
    status = 0
    for other in roots[1:]:
        theirs = digest(Path(other))
        differ = sorted(k for k in first.keys() | theirs.keys() if first.get(k) != theirs.get(k))
        print(f"{other} vs {roots[0]}: {len(first)} entries, {len(differ)} differ {differ[:8]}")
        status |= bool(differ)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
