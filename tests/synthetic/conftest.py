"""A small generated landing tree shared by the synthetic-generator tests, and readers for it."""

import base64
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from isal import igzip

from synthetic import generate_landing

# Seed 0 with 30 patients covers every form: plain and gzipped bundles, NDJSON, Latin-1/cp1252 notes,
# deaths, readmissions, imaging with and without .dcm names (checked in test_fixture_covers_every_form).
SEED, PATIENTS = 0, 30


@dataclass
class Landing:
    root: Path
    summary: dict
    patients: dict[str, dict]  # truth/patients.jsonl by id
    bundles: dict[str, dict]  # patient id -> Bundle
    ndjson: dict[str, list[dict]]  # resource type -> resources

    def resources(self) -> list[dict]:
        """Every resource of the tree: bundle entries and NDJSON lines."""
        out = [e["resource"] for b in self.bundles.values() for e in b["entry"]]
        return out + [r for rs in self.ndjson.values() for r in rs]

    def by_patient(self) -> dict[str, list[dict]]:
        """Each patient's own resources (no shared Organization/Practitioner), from whichever form it is in."""
        out: dict[str, list[dict]] = {}
        for pid, b in self.bundles.items():
            out[pid] = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] not in _REFERENCE]
        for rtype, rs in self.ndjson.items():
            if rtype in _REFERENCE:
                continue
            for r in rs:
                pid = r["id"] if rtype == "Patient" else subject_id(r)
                out.setdefault(pid, []).append(r)
        return out

    def truth_notes(self) -> list[dict]:
        return read_jsonl(self.root / "truth" / "phi_spans.jsonl")

    def note_text(self, truth: dict, docs: dict[str, dict]) -> str:
        if truth["origin"] == "fhir":
            return base64.b64decode(docs[truth["resource_id"]]["content"][0]["attachment"]["data"]).decode("utf-8")
        return (self.root / truth["path"]).read_bytes().decode(truth["encoding"])


_REFERENCE = ("Organization", "Practitioner")


def subject_id(resource: dict) -> str:
    ref = (resource.get("subject") or resource.get("patient"))["reference"]
    return ref.removeprefix("urn:uuid:").removeprefix("Patient/")


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def read_bundle(path: Path) -> dict:
    raw = path.read_bytes()
    return orjson.loads(igzip.decompress(raw) if path.name.endswith(".gz") else raw)


def load_landing(root: Path, summary: dict) -> Landing:
    bundles = {}
    for path in sorted((root / "fhir" / "bundles").iterdir()):
        b = read_bundle(path)
        bundles[b["entry"][0]["resource"]["id"]] = b
    ndjson = {p.name.removesuffix(".ndjson"): read_jsonl(p) for p in sorted((root / "fhir" / "ndjson").iterdir())}
    patients = {p["id"]: p for p in read_jsonl(root / "truth" / "patients.jsonl")}
    return Landing(root, summary, patients, bundles, ndjson)


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("synthetic") / "landing"
    summary = generate_landing(root, PATIENTS, SEED)
    return load_landing(root, summary)
