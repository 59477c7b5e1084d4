"""Byte ranges of large NDJSON files against whole files: the chunks' CPU balance and identical output.

    python bench/ndjson_ranges.py OUT_DIR [N_CHUNKS] [REPEATS]

Builds a bulk-export landing from the shared Synthea bundles (../shared/data/synthea-fhir-r4: every resource of
every bundle, one uncompressed NDJSON file per resource type, as a FHIR bulk export delivers them), then parses
it in N_CHUNKS chunks (default 3), one after another, in fresh roots: with whole files (a range larger than any
file) and with the default RANGE_BYTES, REPEATS times each (default 3). Prints one JSON line: the MB each chunk
parses, each chunk's least CPU seconds, and whether the raw rows, code texts, ledger and quarantine of the two
are identical.
"""

import hashlib
import json
import resource
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import orjson

SECRET = b"ndjson-ranges-bench-secret-0123456789"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "synthea-fhir-r4" / "bundles"


def cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bulk_landing(root: Path) -> dict[str, int]:
    """landing/fhir/<Type>.ndjson from every bundle entry's resource; returns bytes per file."""
    from pipelines.defs.fhir.reader import read_bytes

    out = root / "landing" / "fhir"
    out.mkdir(parents=True)
    handles: dict[str, object] = {}
    sizes: dict[str, int] = defaultdict(int)
    for bundle in sorted(SHARED.glob("*.json.gz")):
        for entry in orjson.loads(read_bytes(bundle)).get("entry", []):
            r = entry.get("resource") or {}
            rtype = r.get("resourceType", "Unknown")
            fh = handles.get(rtype) or handles.setdefault(rtype, (out / f"{rtype}.ndjson").open("wb"))
            line = orjson.dumps(r) + b"\n"
            fh.write(line)  # type: ignore[attr-defined]
            sizes[rtype] += len(line)
    for fh in handles.values():
        fh.close()  # type: ignore[attr-defined]
    return dict(sizes)


def digest(root: Path) -> dict[str, str]:
    """sha256 of the raw rows per table and shard (sorted), the code texts, the ledger and the quarantine rows."""
    import polars as pl

    from pipelines.defs.fhir.ingest import ASSET
    from schemas.layout import Layout
    from schemas.publish import files_under

    layout = Layout(root)
    out = {}
    for table in ("events", "patients", "notes"):
        for shard in range(4):
            files = files_under(layout.raw / "fhir", f"{table}/shard={shard}/*.parquet")
            df = pl.read_parquet(files) if files else pl.DataFrame()
            rows = df.sort(df.columns).rows() if df.height else []
            out[f"{table}/{shard}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
    out["codes"] = hashlib.sha256((layout.raw / "fhir" / "codes" / "codes.parquet").read_bytes()).hexdigest()
    out["ledger"] = hashlib.sha256(layout.ledger(ASSET).read_bytes()).hexdigest()
    parts = files_under(layout.quarantine(ASSET), "*.parquet")
    q = pl.read_parquet(parts) if parts else pl.DataFrame()
    out["quarantine"] = hashlib.sha256(repr(q.sort(q.columns).rows() if q.height else []).encode()).hexdigest()
    return out


def chunk_mb(root: Path, n_chunks: int) -> list[float]:
    """MB of NDJSON each chunk parses (whole files plus byte ranges), from the chunk plans."""
    from pipelines.defs.fhir import chunks
    from pipelines.defs.fhir.reader import find_files

    files = find_files(root / "landing" / "fhir")
    plans = chunks.plan_chunks(root, files, [], SECRET, 4, False, n_chunks)

    def size(path: Path, start: int, end: int | None) -> int:
        return (end if end is not None else path.stat().st_size) - start

    return [round((sum(p.stat().st_size for p in plan.files) + sum(size(*r) for r in plan.ranges)) / 1e6, 1)
            for plan in plans]  # fmt: skip


def parse(root: Path, n_chunks: int, range_bytes: int, repeats: int) -> dict:
    """Each chunk's least CPU seconds over `repeats` fresh parses (everything but landing/ removed between)."""
    from deid.pseudonym import Keyring
    from pipelines.defs.fhir import chunks
    from pipelines.defs.fhir.ingest import ingest_fhir
    from schemas.layout import Layout

    chunks.RANGE_BYTES = range_bytes
    best = [float("inf")] * n_chunks
    for _ in range(repeats):
        for entry in root.iterdir():
            if entry.name != "landing":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for k in range(n_chunks):
            started = cpu_s()
            ingest_fhir(Layout(root), Keyring(SECRET), 4, workers=1, chunk=k, n_chunks=n_chunks)
            best[k] = min(best[k], round(cpu_s() - started, 2))
    return {"chunk_mb": chunk_mb(root, n_chunks), "chunk_cpu_s": best}


def main() -> None:
    out, n_chunks = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    from pipelines.defs.fhir.chunks import RANGE_BYTES

    sizes = bulk_landing(out / "whole")
    bulk_landing(out / "ranges")
    whole = parse(out / "whole", n_chunks, 1 << 62, repeats)
    ranges = parse(out / "ranges", n_chunks, RANGE_BYTES, repeats)
    result = {
        "n_chunks": n_chunks,
        "range_bytes": RANGE_BYTES,
        "largest_files_mb": {t: round(n / 1e6, 1) for t, n in sorted(sizes.items(), key=lambda kv: -kv[1])[:4]},
        "whole_files": whole,
        "byte_ranges": ranges,
        "identical": digest(out / "whole") == digest(out / "ranges"),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
