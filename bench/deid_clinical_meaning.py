"""Clinical meaning kept: of N generated PHI-free clinical sentences (synthetic/clinical_sentences.py), how
many have anything marked by `deid.find_phi`, by class (drug, dose, vital, lab, score, time, abbreviation,
eponym, equipment), and what was marked (label, text, the recognizer that made it).

    .venv/bin/python bench/deid_clinical_meaning.py [--part check] [--grammar icu|reports] [--n 3000] [--seed 0]
        [--examples 5] [--replace] [--json out.json] [--dump marked.jsonl]

The generator's `tuning` part is for writing rules; its `check` part uses drug and eponym entries the tuning
part never writes and is scored only; with `--grammar icu` (ICU nursing shorthand) its frames come from
families the tuning part never writes as well; so with `--grammar reports` (discharge medication lists,
radiology measurements, lab panels with reference ranges; its classes add `measurement`).
Any mark counts: every sentence is free of PHI by construction. With
--replace, `changed` counts the sentences that `deid.deidentify` returns different (a clinical fact
rewritten by a surrogate).
"""

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


_SECRET = b"clinical-meaning-bench-secret-32"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("tuning", "check"), default="check")
    ap.add_argument("--grammar", choices=("frames", "icu", "reports"), default="frames")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--examples", type=int, default=0, help="print up to N marked sentences per class")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--dump", type=Path, default=None, help="every marked sentence and its spans (JSON lines)")
    ap.add_argument("--replace", action="store_true", help="also count sentences deidentify() changes")
    args = ap.parse_args()

    from deid import deidentify, find_phi
    from synthetic.clinical_sentences import clinical_sentences, grammar_classes

    pairs = clinical_sentences(args.n, args.part, args.seed, args.grammar)
    find_phi("warm up: BP 120/80.")  # the analyzer is built once, outside the timing
    t0 = time.process_time()
    total, marked, changed = Counter(), Counter(), Counter()
    labels: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, list] = defaultdict(list)
    dump = args.dump.open("w") if args.dump else None
    for cls, sentence in pairs:
        total[cls] += 1
        spans = find_phi(sentence)
        if args.replace and deidentify(sentence, "patient-1", secret=_SECRET) != sentence:
            changed[cls] += 1
        if not spans:
            continue
        marked[cls] += 1
        for s in spans:
            labels[cls][s.label] += 1
        found = [(s.label, sentence[s.start : s.end]) for s in spans]
        if len(examples[cls]) < args.examples:
            examples[cls].append((sentence, found))
        if dump:
            dump.write(json.dumps({"class": cls, "sentence": sentence, "marked": found}) + "\n")
    cpu = time.process_time() - t0
    if dump:
        dump.close()

    rows = {
        c: {"sentences": total[c], "marked": marked[c], "rate": marked[c] / total[c] if total[c] else 0.0,
            "changed": changed[c] if args.replace else None,
            "labels": dict(labels[c])}
        for c in grammar_classes(args.grammar)
    }  # fmt: skip
    n_marked = sum(marked.values())
    print(f"grammar {args.grammar}, part {args.part}, seed {args.seed}: {args.n} sentences, {n_marked} marked "
          f"({n_marked / args.n:.2%}); {cpu:.1f} CPU s")  # fmt: skip
    print(f"{'class':<14}{'sentences':>10}{'marked':>8}{'rate':>8}{'changed':>8}  labels")
    for c, row in rows.items():
        counts = f"{row['sentences']:>10}{row['marked']:>8}{row['rate']:>8.2%}{row['changed'] or 0:>8}"
        print(f"{c:<14}{counts}  {row['labels']}")
    for c in grammar_classes(args.grammar):
        for sentence, found in examples.get(c, []):
            print(f"  [{c}] {sentence!r} -> {found}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "part": args.part,
                    "grammar": args.grammar,
                    "seed": args.seed,
                    "n": args.n,
                    "marked": n_marked,
                    "cpu_s": cpu,
                    "classes": rows,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
