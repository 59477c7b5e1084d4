"""The whole de-identifier with the shipped tagger models and with other builds of them (`longitude deid
train --out-dir DIR`), scored in one process on the same rules, so a rebuild is judged by what it does
inside the system and not by its own numbers.

    .venv/bin/python bench/deid_tagger_ab.py physionet ../shared/data/phi-annotated/physionet-nursing-dev \
        tuning /tmp/rebuild [more model folders] [--out report.json]

Each folder holds `phi_crf_v1.crfsuite` and `phi_crf_v1_plain.crfsuite` with their cards; `shipped` names
the package's own. The systems run in turn (A, B, ..., then A, B, ... again when --rounds 2).
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from deid.text.combine import StackedPhiRecognizer
    from deid.text.corpora import read_corpus, select_part
    from deid.text.engine import analyzer
    from deid.text.evaluation import evaluate
    from deid.text.tagger import MODEL_DIR, MODEL_NAME, PLAIN_MODEL_NAME, PhiTagger

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("format")
    ap.add_argument("corpus")
    ap.add_argument("part", choices=("tuning", "check", "all"))
    ap.add_argument("models", nargs="+", help="model folders, or `shipped`")
    ap.add_argument("--limit", type=int, default=None, help="only the first N notes of the part")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    docs = select_part(read_corpus(args.corpus, args.format), args.part)[: args.limit]
    stacked = next(r for r in analyzer().registry.recognizers if isinstance(r, StackedPhiRecognizer))
    out: dict[str, list] = {}
    for _ in range(args.rounds):
        for name in args.models:
            folder = MODEL_DIR if name == "shipped" else Path(name)
            stacked.tagger = PhiTagger.load(MODEL_NAME, folder)
            stacked.plain = PhiTagger.load(PLAIN_MODEL_NAME, folder)
            cpu = time.process_time()
            s = evaluate(docs, ["longitude"], n_process=1)["systems"]["longitude"]
            cpu = time.process_time() - cpu
            groups = {g: f"{v['recall']:.3f} / {v['precision']:.3f}" for g, v in s["span"].items()}
            print(f"{name}: {args.format} {args.part}, {len(docs)} notes: {groups}; "
                  f"marked outside gold {s['over_redaction']}; {cpu:.0f} CPU s", flush=True)  # fmt: skip
            out.setdefault(name, []).append({"span": s["span"], "over_redaction": s["over_redaction"]})
    if args.out:
        args.out.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
