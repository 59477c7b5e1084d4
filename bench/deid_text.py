"""Text de-identification throughput: our analyzer (1 and N processes) against Presidio's default
configuration on the same notes, in the same run.

    .venv/bin/python bench/deid_text.py [--notes 1215] [--presidio-notes 300] [--processes 2]

Notes: the 1,215 Synthea clinical notes of ../shared/data/synthea-fhir-bulk-ndjson (≈1.3k characters each),
base64 DocumentReference attachments. The machine is shared, so compare the ratio, not the absolute rates.
"""

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT.parent / "shared/data/synthea-fhir-bulk-ndjson/ndjson/DocumentReference.000.ndjson"


def load_notes(limit: int) -> list[str]:
    out = []
    for line in NOTES.open():
        doc = json.loads(line)
        out.append(base64.b64decode(doc["content"][0]["attachment"]["data"]).decode())
        if len(out) >= limit:
            break
    return out


def rate(fn, texts: list[str]) -> float:
    t0 = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, default=1215)
    ap.add_argument("--presidio-notes", type=int, default=300, help="Presidio default is slow: time a subset.")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    if not NOTES.exists():
        sys.exit(f"{NOTES} not found: the benchmark needs ../shared/data")
    sys.path.insert(0, str(ROOT))
    from deid.text.engine import analyzer, find_phi_batch
    from deid.text.evaluation import presidio_default

    texts = load_notes(args.notes)
    chars = sum(map(len, texts)) / len(texts)
    analyzer()
    presidio = presidio_default()
    find_phi_batch(texts[:8])
    presidio.analyze(texts[0], language="en")

    ours_1 = rate(find_phi_batch, texts)
    ours_n = rate(lambda t: find_phi_batch(t, n_process=args.processes), texts)
    sub = texts[: args.presidio_notes]
    theirs = rate(lambda t: [presidio.analyze(x, language="en") for x in t], sub)
    load = os.getloadavg()[0]
    print(f"notes: {len(texts)} (Presidio default: {len(sub)}), mean {chars:.0f} chars, load average {load:.1f}")
    print("| system | processes | notes/s | vs Presidio default |")
    print("|---|---|---|---|")
    print(f"| Presidio default (spaCy sm, default recognizers) | 1 | {theirs:.1f} | 1.0x |")
    print(f"| Longitude | 1 | {ours_1:.1f} | {ours_1 / theirs:.1f}x |")
    print(f"| Longitude | {args.processes} | {ours_n:.1f} | {ours_n / theirs:.1f}x |")


if __name__ == "__main__":
    main()
