"""Text de-identification throughput: our analyzer (1 and N processes) against Presidio's default
configuration on the same notes, in the same run; rules alone against rules + the learned tagger on the
PhysioNet development notes and Synthea notes.

    .venv/bin/python bench/deid_text.py [--notes 1215] [--presidio-notes 300] [--processes 2] [--tagger-only]
    .venv/bin/python bench/deid_text.py --speed [--repeat 2] [--code DIR]

`--speed`: find_phi_batch (rules + tagger) on the 771 PhysioNet development notes, notes per second of this
process's CPU time (one core): the first pass (words new to the caches) and the best of the passes after
it. `--code DIR` times the deid package of another checkout (e.g. `git archive COMMIT | tar -x -C DIR`),
for a before/after pair run alternately on the same machine.

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


def patient_name_mentions(limit: int) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Each note and where its own patient's name parts (Patient.name given and family) occur in it: gold
    for name recall without the deny lists (the notes' other PHI is not annotated, so no precision)."""
    import regex as re

    names: dict[str, set[str]] = {}
    for line in (NOTES.parent / "Patient.000.ndjson").open():
        patient = json.loads(line)
        parts = [part for n in patient.get("name", []) for part in [*n.get("given", []), n.get("family")]]
        names[patient["id"]] = {part for part in parts if part}
    texts, gold = [], []
    for line in NOTES.open():
        doc = json.loads(line)
        text = base64.b64decode(doc["content"][0]["attachment"]["data"]).decode()
        parts = names.get(doc["subject"]["reference"].split("/")[-1], set())
        gold.append([m.span() for part in parts for m in re.finditer(rf"(?<!\w){re.escape(part)}(?!\w)", text)])
        texts.append(text)
        if len(texts) >= limit:
            break
    return texts, gold


def name_recall(found: list[list[tuple[int, int]]], gold: list[list[tuple[int, int]]]) -> tuple[int, int]:
    hits = sum(any(s < fe and fs < e for fs, fe in f) for f, g in zip(found, gold, strict=True) for s, e in g)
    return hits, sum(map(len, gold))


def rate(fn, texts: list[str]) -> float:
    t0 = time.perf_counter()
    fn(texts)
    return len(texts) / (time.perf_counter() - t0)


def cpu_rate(fn, texts: list[str]) -> float:
    """Notes per second of this process's CPU time: one core, whatever else the machine runs."""
    t0 = time.process_time()
    fn(texts)
    return len(texts) / (time.process_time() - t0)


def physionet_notes() -> list[str]:
    from deid.text.corpora import read_corpus

    path = NOTES.parents[2] / "phi-annotated/physionet-nursing-dev"
    return [d.text for d in read_corpus(path, "physionet")] if path.exists() else []


def tagger_speed(synthea: list[str]) -> None:
    """Rules alone and rules with the learned tagger, one process, wall and CPU notes/s."""
    from deid.text.engine import find_phi_batch

    print()
    print("One process, rules alone vs rules + learned tagger (notes/s; CPU = per core of CPU time):")
    print("| notes | n | mean chars | rules wall | rules CPU | + tagger wall | + tagger CPU |")
    print("|---|---|---|---|---|---|---|")
    for name, texts in (("PhysioNet nursing (dev)", physionet_notes()), ("Synthea", synthea)):
        if not texts:
            continue
        rules = lambda t: find_phi_batch(t, tagger=False)  # noqa: E731
        cells = [rate(rules, texts), cpu_rate(rules, texts), rate(find_phi_batch, texts),
                 cpu_rate(find_phi_batch, texts)]  # fmt: skip
        mean = sum(map(len, texts)) / len(texts)
        print(f"| {name} | {len(texts)} | {mean:.0f} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")


def speed(repeat: int) -> None:
    """find_phi_batch on the development notes, CPU notes/s: after a warm-up on 20 Synthea notes (models
    loaded), the first pass over the notes (new words for spaCy's vocabulary and the per-word caches, as
    on notes never seen), then `repeat - 1` passes over the same notes again (warm caches)."""
    from deid.text import find_phi_batch

    texts = physionet_notes()
    if not texts:
        sys.exit("../shared/data/phi-annotated/physionet-nursing-dev not found")
    find_phi_batch(load_notes(20))
    rates = [cpu_rate(find_phi_batch, texts) for _ in range(repeat)]
    load = os.getloadavg()[0]
    warm = f"{max(rates[1:]):.1f}" if len(rates) > 1 else "-"
    print(f"| {len(texts)} notes | first pass {rates[0]:.1f} | best warm pass {warm} | load {load:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, default=1215)
    ap.add_argument("--presidio-notes", type=int, default=300, help="Presidio default is slow: time a subset.")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--tagger-only", action="store_true", help="Only the rules vs rules + tagger table.")
    ap.add_argument("--speed", action="store_true", help="Only find_phi_batch's CPU notes/s on the dev notes.")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--code", type=Path, default=ROOT, help="The checkout whose deid package is timed.")
    args = ap.parse_args()
    if args.speed:
        sys.path.insert(0, str(args.code.resolve()))
        speed(args.repeat)
        return
    if not NOTES.exists():
        sys.exit(f"{NOTES} not found: the benchmark needs ../shared/data")
    sys.path.insert(0, str(ROOT))
    from deid.text.engine import analyzer, find_phi_batch
    from deid.text.evaluation import presidio_default

    texts = load_notes(args.notes)
    chars = sum(map(len, texts)) / len(texts)
    analyzer()
    find_phi_batch(texts[:8])
    tagger_speed(texts)
    if args.tagger_only:
        return
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

    texts, gold = patient_name_mentions(args.notes)
    ours = name_recall([[(p.start, p.end) for p in spans] for spans in find_phi_batch(texts)], gold)
    k = args.presidio_notes
    theirs_found = [[(r.start, r.end) for r in presidio.analyze(t, language="en")] for t in texts[:k]]
    theirs_hits = name_recall(theirs_found, gold[:k])
    ours_sub = name_recall([[(p.start, p.end) for p in spans] for spans in find_phi_batch(texts[:k])], gold[:k])
    print()
    print("Patient name parts repeated in the notes, found without the deny lists (span recall):")
    print("| system | notes | mentions | found | recall |")
    print("|---|---|---|---|---|")
    print(f"| Longitude | {len(texts)} | {ours[1]} | {ours[0]} | {ours[0] / ours[1]:.4f} |")
    print(f"| Longitude | {k} | {ours_sub[1]} | {ours_sub[0]} | {ours_sub[0] / ours_sub[1]:.4f} |")
    hits, total = theirs_hits
    print(f"| Presidio default (any entity) | {k} | {total} | {hits} | {hits / total:.4f} |")


if __name__ == "__main__":
    main()
