"""Every file written into a root goes through one of two protocols: a published dataset (schemas.publish) or an
atomic single-file replace (schemas.atomic). This test finds every other write call in the code that writes
roots, so a new writer that bypasses both fails here, and docs/publishing.md lists each place allowed below."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "pipelines", "quality", "featurestore")
CALLS = {("os", "replace"), ("os", "rename"), ("os", "open"), ("os", "link"), ("shutil", "move"),
         ("shutil", "copy"), ("shutil", "copy2"), ("shutil", "copyfile"), ("shutil", "copytree"),
         ("pq", "write_table"), ("duckdb", "connect")}  # fmt: skip
METHODS = {"write_text", "write_bytes", "touch", "symlink_to", "hardlink_to", "write_parquet", "write_csv",
           "write_ndjson", "write_json", "write_ipc", "sink_parquet", "sink_csv", "sink_ipc"}  # fmt: skip

# The places allowed to write files directly, and why each keeps the guarantee (or is not in a root).
ALLOWED = {
    "schemas/atomic.py": "the single-file protocol itself: temp file, fsync, one rename",
    "schemas/io.py": "Parquet and text written to the temp path schemas.atomic.replacing gives",
    "schemas/publish.py": "the dataset protocol itself: manifest, version rename, pointer swap, partition marks",
    "schemas/run_lock.py": "the root's run lock file and its holder record",
    "schemas/working_copy.py": "an object-store root's working copy in the system temp dir, not a root",
    "schemas/object_cache.py": "the object cache in the user's cache dir (temp, verify, rename), not a root",
    "pipelines/commands/deid.py": "reports at a path the user names (--out), outside the root",
    "pipelines/commands/quality.py": "a report at a path the user names (--out), outside the root",
    "pipelines/commands/tables.py": "a draft mapping at a path the user names, outside the root",
    "pipelines/defs/tables/landing.py": "a sample of a landing file in a TemporaryDirectory, outside the root",
    "pipelines/defs/meds/catalog.py": "DuckDB creates its file at the temp path of schemas.atomic.replacing",
    "pipelines/instance_files.py": "a fresh root's Dagster databases built in a staging folder, one rename",
    "quality/gx_docs.py": "Data Docs built inside the staging version quality/report.py publishes",
    "quality/review.py": "the append-only review log: one fsync'd write of one whole line per entry",
}


def _writes_mode(call: ast.Call) -> bool:
    mode = next((k.value for k in call.keywords if k.arg == "mode"), None)
    position = 1 if isinstance(call.func, ast.Name) else 0  # open(path, mode) / path.open(mode)
    if mode is None and len(call.args) > position:
        mode = call.args[position]
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and any(c in mode.value for c in "wax+")


def _is_open(fn: ast.expr) -> bool:
    """`open(...)` or `path.open(...)`; `os.open` is matched by CALLS."""
    if isinstance(fn, ast.Name):
        return fn.id == "open"
    return isinstance(fn, ast.Attribute) and fn.attr == "open" and getattr(fn.value, "id", "") != "os"


def _write_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and (fn.value.id, fn.attr) in CALLS:
            if fn.attr == "connect" and any(k.arg == "read_only" for k in node.keywords):
                continue  # reading the catalog
            found.append((node.lineno, f"{fn.value.id}.{fn.attr}"))
        elif isinstance(fn, ast.Attribute) and fn.attr in METHODS:
            found.append((node.lineno, f".{fn.attr}()"))
        elif _is_open(fn) and _writes_mode(node):
            found.append((node.lineno, "open(..., 'w')"))
    return sorted(found)


def test_every_write_into_a_root_goes_through_the_publish_or_the_single_file_protocol():
    stray = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel in ALLOWED:
                continue
            stray += [f"{rel}:{line}: {what}" for line, what in _write_calls(ast.parse(path.read_text()))]
    assert not stray, "write through schemas.atomic / schemas.io / schemas.publish instead:\n" + "\n".join(stray)


def test_every_allowed_writer_still_writes_and_is_listed_in_the_publishing_doc():
    doc = (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    for rel in ALLOWED:
        assert _write_calls(ast.parse((REPO / rel).read_text())), f"{rel} writes nothing now: drop it from ALLOWED"
        assert f"`{rel}`" in doc, f"docs/publishing.md does not list {rel}"


def test_the_scan_finds_the_writes_it_forbids():
    code = """
import os, shutil
os.replace(a, b)
p.write_text("x")
open(p, "w")
p.open("a")
with open(p) as f: pass
duckdb.connect(str(p), read_only=True)
"""
    assert [w for _, w in _write_calls(ast.parse(code))] == ["os.replace", ".write_text()", "open(..., 'w')",
                                                              "open(..., 'w')"]  # fmt: skip
