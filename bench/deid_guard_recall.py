"""Recall and precision with the final clinical filter (deid.text.clinical_guard) on and off, in one process
on the same rules, so the comparison holds while the rules change.

    .venv/bin/python bench/deid_guard_recall.py physionet ../shared/data/phi-annotated/physionet-nursing-dev check
    .venv/bin/python bench/deid_guard_recall.py presidio-research \
        ../shared/data/phi-annotated/general-pii-sentences check
    .venv/bin/python bench/deid_guard_recall.py clinical-queries ../shared/data/phi-annotated/clinical-queries all
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import deid.text.clinical_guard as guard
    from deid.text.corpora import read_corpus, select_part
    from deid.text.evaluation import evaluate

    fmt, path, part = sys.argv[1], sys.argv[2], sys.argv[3]
    docs = select_part(read_corpus(path, fmt), part)
    keep, keep_reason = guard.drop_clinical, guard.clinical_reason
    out = {}
    for mode in ("on", "off"):
        # the engine imports drop_clinical from the module at each call: patching the module turns it off
        guard.drop_clinical = keep if mode == "on" else (lambda text, results: list(results))
        guard.clinical_reason = keep_reason if mode == "on" else (lambda *args: None)
        s = evaluate(docs, ["longitude"], n_process=1)["systems"]["longitude"]
        out[mode] = {"span": s["span"], "over_redaction": s["over_redaction"], "notes": len(docs)}
        groups = {g: f"{v['recall']:.3f} / {v['precision']:.3f}" for g, v in s["span"].items()}
        print(f"guard {mode}: {fmt} {part}, {len(docs)} notes: {groups}; {s['over_redaction']}", flush=True)
    guard.drop_clinical, guard.clinical_reason = keep, keep_reason
    if len(sys.argv) > 4:
        Path(sys.argv[4]).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
