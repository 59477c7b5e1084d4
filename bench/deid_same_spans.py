"""Same output check for speed work on text de-identification: every span (start, end, label, score) that
find_phi_batch returns on each corpus, written by one checkout and compared with another's.

    .venv/bin/python bench/deid_same_spans.py dump --code DIR --out /tmp/spans-before.pkl
    .venv/bin/python bench/deid_same_spans.py compare /tmp/spans-before.pkl /tmp/spans-after.pkl

Corpora (../shared/data, skipped where absent): the PhysioNet nursing development notes, MTSamples (curated
and synthetic), the general PII sentences, the clinical queries and the Synthea notes. The dump holds
spans and note numbers only, no text; write it outside the repository.
"""

import argparse
import base64
import json
import pickle
import sys
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared/data"


def corpora() -> dict[str, list[str]]:
    from deid.text.corpora import read_corpus

    phi = DATA / "phi-annotated"
    sources = {
        "physionet-dev": (phi / "physionet-nursing-dev", "physionet"),
        "mtsamples-curated": (DATA / "notes-mtsamples/curated", "brat"),
        "mtsamples-synthetic": (DATA / "notes-mtsamples/synthetic", "brat"),
        "general-pii": (phi / "general-pii-sentences", "presidio-research"),
        "clinical-queries": (phi / "clinical-queries", "clinical-queries"),
    }
    out = {
        name: [d.text for d in read_corpus(path, fmt)] for name, (path, fmt) in sources.items() if path.exists()
    }
    synthea = DATA / "synthea-fhir-bulk-ndjson/ndjson/DocumentReference.000.ndjson"
    if synthea.exists():
        docs = [json.loads(line) for line in synthea.open()]
        out["synthea"] = [base64.b64decode(d["content"][0]["attachment"]["data"]).decode() for d in docs]
    return out


def dump(out: Path) -> None:
    from deid.text import find_phi_batch

    result = {}
    for name, texts in corpora().items():
        t0 = time.process_time()
        spans = find_phi_batch(texts)
        result[name] = [[(s.start, s.end, s.label, s.score) for s in note] for note in spans]
        n = sum(map(len, spans))
        print(f"{name}: {len(texts)} notes, {n} spans, {time.process_time() - t0:.1f} CPU-s", flush=True)
    if not result:
        sys.exit(f"no corpus found under {DATA}")
    out.write_bytes(pickle.dumps(result))


def compare(a: Path, b: Path) -> int:
    left, right = pickle.loads(a.read_bytes()), pickle.loads(b.read_bytes())
    if not left or not right:
        print("a dump holds no corpus (../shared/data not found where it was written?)")
        return 1
    bad = 0
    for name in sorted(set(left) | set(right)):
        x, y = left.get(name), right.get(name)
        if x is None or y is None:
            print(f"{name}: only in {'the second' if x is None else 'the first'} dump")
            bad += 1
            continue
        diff = [i for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q]
        spans = sum(map(len, x))
        print(
            f"{name}: {len(x)} notes, {spans} spans, {len(diff)} notes differ"
            + (f" (e.g. note {diff[:5]})" if diff else "")
        )
        bad += bool(diff)
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--code", type=Path, default=Path(__file__).resolve().parents[1])
    d.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "dump":
        sys.path.insert(0, str(args.code.resolve()))
        dump(args.out)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
