"""The stacked tagger's recipe choices (CRF regularisation c1, c2; how many nursing generator notes) judged
by two-fold cross-validation over the patients of the PhysioNet tuning part: each fold's patients are left
out of the recipe's training data, a stacked model is trained on the rest, and the whole de-identifier with
it is scored on the left-out notes.

    nice -n 10 .venv/bin/python bench/deid_tagger_cv.py --out-dir /tmp/cv 0.05,0.02,0 0.05,0.02,300

A setting is `c1,c2` (the recipe's data) or `c1,c2,N` (N nursing generator notes of the recipe's seed in
place of the recipe's count; 0 for none). The check part is never read (the recipe trains on the tuning part
only, and the folds split that). The plain model is the shipped one throughout (trained on every tuning
patient, so the left-out notes are in its training data; the same for every setting, so it favours none).
One training at a time; each result is appended to `<out-dir>/cv.jsonl` as it comes, so a cut-off run keeps
what it measured.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PHYSIONET = "phi-annotated/physionet-nursing-dev"


def fold_of(subject: str) -> int:
    """Two folds by a hash of the patient id (never the order or number of notes)."""
    return int(hashlib.sha256(f"cv:{subject}".encode()).hexdigest(), 16) % 2


def main() -> None:
    from deid.text.combine import StackedPhiRecognizer
    from deid.text.corpora import read_corpus, select_part
    from deid.text.engine import analyzer
    from deid.text.evaluation import evaluate
    from deid.text.tagger import MODEL_DIR, MODEL_NAME, PLAIN_MODEL_NAME, PhiTagger
    from deid.text.tagger_train import RECIPE, TrainingDoc, train, with_rule_hints, write_card
    from pipelines.commands.deid import recipe_training_docs

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", nargs="+", help="c1,c2 or c1,c2,N")
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--folds", default="0,1", help="which folds to train and score (each is one training)")
    args = ap.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    log = args.out_dir / "cv.jsonl"

    notes = select_part(read_corpus(args.data / PHYSIONET, "physionet"), "tuning")
    subjects = sorted({d.subject for d in notes})
    folds = {k: [s for s in subjects if fold_of(s) == k] for k in (0, 1)}
    held = {k: [d for d in notes if fold_of(d.subject) == k] for k in (0, 1)}
    print({k: f"{len(folds[k])} patients, {len(held[k])} notes" for k in folds}, flush=True)

    hinted: dict[str, tuple] = {}
    stacked = next(r for r in analyzer().registry.recognizers if isinstance(r, StackedPhiRecognizer))
    stacked.plain = PhiTagger.load(PLAIN_MODEL_NAME, MODEL_DIR)
    for setting in args.settings:
        c1, c2, *more = (float(x) for x in setting.split(","))
        recipe = {**RECIPE, "crf": {**RECIPE["crf"], "c1": c1, "c2": c2}, "data_sha256_16": {}}
        if more:
            recipe.pop("nursing", None)
            if more[0]:
                recipe["nursing"] = {**RECIPE.get("nursing", {"seed": 27}), "notes": int(more[0])}
        n_nursing = (recipe.get("nursing") or {}).get("notes", 0)
        for k in (int(x) for x in args.folds.split(",")):
            docs = recipe_training_docs(args.data, recipe, exclude_subjects=folds[k])
            todo = [d for d in docs if d.text not in hinted]
            hinted.update({d.text: d.hints for d in with_rule_hints(todo)} if todo else {})
            docs = [TrainingDoc(d.text, d.spans, d.source, hinted[d.text]) for d in docs]
            folder = args.out_dir / f"c1={c1}_c2={c2}_n={n_nursing}" / f"fold{k}"
            model = folder / f"{MODEL_NAME}.crfsuite"
            facts = train(docs, model, recipe)
            write_card(model, docs, facts, RECIPE["thresholds"], recipe,
                       extra={"veto": RECIPE["veto"], "strong": RECIPE["strong"]})  # fmt: skip
            stacked.tagger = PhiTagger.load(MODEL_NAME, folder)
            s = evaluate(held[k], ["longitude"], n_process=1)["systems"]["longitude"]
            row = {"c1": c1, "c2": c2, "nursing": n_nursing, "fold": k, "train_seconds": facts["seconds"],
                   "tokens": facts["tokens"], "model_bytes": model.stat().st_size, "span": s["span"],
                   "token": s["token"], "over_redaction": s["over_redaction"]}  # fmt: skip
            with log.open("a") as f:
                f.write(json.dumps(row, default=str) + "\n")
            a = s["span"]["ALL"]
            print(f"c1={c1} c2={c2} +{n_nursing} nursing, fold {k}: {a['found']}/{a['n_gold']} found, "
                  f"{a['correct']}/{a['n_pred']} correct; CRF {facts['seconds']} s", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
