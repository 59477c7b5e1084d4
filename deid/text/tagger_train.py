"""Training the PHI tagger from its pinned recipe: which corpora (and which part of each), how the
generator's notes are made, the CRF's hyperparameters; writes the model and a card with digests."""

import hashlib
import json
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import regex as re

from deid.text.corpora import AnnotatedDoc, in_check_part, read_corpus
from deid.text.scoring import group_of
from deid.text.tagger import MODEL_DIR, MODEL_NAME, TYPES
from deid.text.tagger_features import Hint, base_features, features, lexicon_fingerprint, tokenize

# The pinned recipe. Paths are relative to the shared data folder (../shared/data from the project root).
# Each corpus is used by its `part` only: development corpora keep their check part for scoring.
RECIPE: dict = {
    "name": MODEL_NAME,
    "seed": 14,
    "corpora": [
        {
            "name": "physionet-nursing-dev",
            "format": "physionet",
            "path": "phi-annotated/physionet-nursing-dev",
            "part": "tuning",
            "repeat": 2,
        },
        {
            "name": "general-pii-sentences",
            "format": "presidio-research",
            "path": "phi-annotated/general-pii-sentences",
            "part": "tuning",
            "repeat": 1,
        },
        {
            "name": "mtsamples-negative-lines",
            "format": "negative-lines",
            "path": "notes-mtsamples/curated",
            "part": "all",
            "lines": 4000,
        },
    ],
    # The generator's notes with their PHI truth (`longitude generate`), made afresh by the train command.
    "generator": {"patients": 40, "seed": 14, "repeat": 1},
    # A recipe may also name {"nursing": {"notes": N, "seed": S}}: N notes of the nursing generator
    # (synthetic.nursing) with their PHI truth, pinned as source `nursing`. Tried in session 27 (300 notes,
    # seed 27): no change on the PhysioNet tuning part, two general-PII facilities fewer, not adopted
    # (bench/results/deidtagger-27.md).
    # What each source of training texts makes (data_digest of its texts and gold spans, repeats included;
    # keyed like the card's `by_source`). `longitude deid train` checks them before it trains and stops on
    # a difference, so a change to a corpus, its reader, the negative-line filter or the generator's notes
    # cannot change the training data silently. Changing the data on purpose means new pins, a retrain and
    # the new model judged inside the system against the shipped one (bench/deid_tagger_ab.py).
    "data_sha256_16": {
        "physionet-nursing-dev": "c2b5d0c3ad58912b",
        "general-pii-sentences": "95f92e8bd8f678d9",
        "negative": "e1e8a70b3fcdb853",
        "generator": "03834677b7c6849c",
    },
    "crf": {
        "algorithm": "lbfgs",
        "c1": 0.05,
        "c2": 0.02,
        "max_iterations": 200,
        "feature.possible_transitions": True,
        "feature.minfreq": 1,
    },
    # Per-type thresholds on the tagger's marginal probability, and the least probability a rule hit of an
    # ambiguous kind needs to stand (deid.text.combine): chosen on the tuning part by two-fold
    # cross-validation over its patients (docs/deidentification.md).
    "thresholds": {"NAME": 0.7, "DATE": 0.5, "LOCATION": 0.5, "CONTACT": 0.5, "ID": 0.5, "AGE": 0.5},
    "veto": {
        "pattern:DATE": 0.02,
        "shape:NAME": 0.2,
        "shape:LOCATION": 0.4,
        "spacy:NAME": 0.01,
        "spacy:LOCATION": 0.01,
    },
    # no rule hit stands on its score alone: the tuning found none that the tagger's word did not improve
    "strong": 1.01,
    # The plain tagger: the same data and CRF without the rules' hits; only its confident names and places
    # are added (a threshold over 1 turns a type off).
    "plain": {
        "name": "phi_crf_v1_plain",
        "thresholds": {"NAME": 0.7, "LOCATION": 0.5, "DATE": 1.01, "CONTACT": 1.01, "ID": 1.01, "AGE": 1.01},
    },
}
# What the card's thresholds mean and how they were set (the card carries it beside them; the values, type
# by type, are also tabled in docs/deidentification.md).
THRESHOLDS_DOC = (
    "A token is PHI of a type when the tagger's marginal probability of that type (B and I together) reaches "
    "the type's threshold; a run of such tokens is one span. Chosen on the tuning part of the development "
    "split by two-fold cross-validation over its patients, maximising recall while precision stays at or "
    "above 0.86 (docs/deidentification.md, the learned PHI tagger). A threshold over 1 turns a type off."
)
_TYPE_OF_GROUP = {"NAME": "NAME", "DATE": "DATE", "LOCATION": "LOCATION", "FACILITY": "LOCATION",
                  "CONTACT": "CONTACT", "ID": "ID", "AGE": "AGE"}  # fmt: skip
# A line that may go in as all-O: no digit (dates, times, numbers), no title before a name.
_NEGATIVE_LINE_BLOCK = re.compile(r"\d|(?i:\b(?:dr|mr|mrs|ms|miss|doctor)\b\.?)")


@dataclass(frozen=True, slots=True)
class TrainingDoc:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # (start, end, tagger type)
    source: str
    hints: tuple[Hint, ...] = ()  # the rules' hits on the text (features)


def with_rule_hints(docs: Sequence[TrainingDoc]) -> list[TrainingDoc]:
    """Each document with the rules' hits on it, as the stacked recognizer gives them to the tagger at
    run time (each distinct text analysed once)."""
    from deid.text.combine import StackedPhiRecognizer, hints
    from deid.text.engine import MIN_SCORE, analyzer

    engine = analyzer()
    stacked = next(r for r in engine.registry.recognizers if isinstance(r, StackedPhiRecognizer))
    texts = sorted({d.text for d in docs})
    found: dict[str, tuple[Hint, ...]] = {}
    for text, (_, artifacts) in zip(texts, engine.nlp_engine.process_batch(texts), strict=True):
        results = [r for r in stacked.rule_results(text, [], artifacts) if r.score >= MIN_SCORE]
        found[text] = tuple(hints(results))
    return [TrainingDoc(d.text, d.spans, d.source, found[d.text]) for d in docs]


def missing_data(data_root: Path, recipe: dict | None = None) -> list[str]:
    """The recipe's corpora that are not under `data_root`."""
    recipe = recipe or RECIPE
    return [str(data_root / c["path"]) for c in recipe["corpora"] if not (data_root / c["path"]).exists()]


def labelled(doc: AnnotatedDoc, source: str) -> TrainingDoc:
    spans = []
    for g in doc.spans:
        type_ = _TYPE_OF_GROUP.get(group_of(g.label, doc.text[g.start : g.end]))
        if type_ is not None:
            spans.append((g.start, g.end, type_))
    return TrainingDoc(doc.text, tuple(spans), source)


def negative_lines(folder: Path, n: int, seed: int) -> list[TrainingDoc]:
    """`n` lines of clinical prose without PHI as all-O sequences: lines with no digit and no title (where
    dates and named clinicians would be), picked by a seeded shuffle of the sorted files' lines."""
    lines = []
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(errors="replace").splitlines():
            line = line.strip()
            if len(line) >= 30 and not _NEGATIVE_LINE_BLOCK.search(line):
                lines.append(line)
    random.Random(seed).shuffle(lines)
    return [TrainingDoc(line, (), "negative") for line in lines[:n]]


def load_corpora(
    data_root: Path, recipe: dict | None = None, *, exclude_subjects: Iterable[str] = ()
) -> list[TrainingDoc]:
    """The recipe's annotated corpora, each restricted to its part; notes of `exclude_subjects` are left
    out (cross-validation within the tuning part)."""
    recipe = recipe or RECIPE
    excluded = set(exclude_subjects)
    out: list[TrainingDoc] = []
    for c in recipe["corpora"]:
        path = data_root / c["path"]
        if c["format"] == "negative-lines":
            out.extend(negative_lines(path, c["lines"], recipe["seed"]))
            continue
        docs = read_corpus(path, c["format"])
        for d in docs:
            key = d.subject if d.subject is not None else d.doc_id
            part = "check" if in_check_part(key) else "tuning"
            if c["part"] != "all" and part != c["part"]:
                continue
            if d.subject is not None and d.subject in excluded:
                continue
            out.extend([labelled(d, c["name"])] * c.get("repeat", 1))
    return out


def bio(doc: TrainingDoc, rule_features: bool = True) -> tuple[list[list[str]], list[str]]:
    """Features and BIO labels of a document's tokens; a token takes the type of the first gold span it
    overlaps. Without `rule_features` (the plain model) no feature says anything of the rules, not even
    that they found nothing (`r=none`, which would be on every token: a per-label bias the shipped plain
    model was trained without; at run time the tagger ignores the attribute it never saw)."""
    tokens = tokenize(doc.text)
    labels = []
    spans = sorted(doc.spans)
    prev_span = None
    for s, e in tokens:
        hit = next((sp for sp in spans if sp[0] < e and s < sp[1]), None)
        if hit is None:
            labels.append("O")
            prev_span = None
            continue
        labels.append(("I-" if hit == prev_span else "B-") + hit[2])
        prev_span = hit
    if not rule_features:
        return [list(f) for f in base_features(doc.text, tokens)], labels
    return features(doc.text, tokens, doc.hints), labels


def train(docs: Sequence[TrainingDoc], model_path: Path, recipe: dict | None = None, *,
          rule_features: bool = True) -> dict:  # fmt: skip
    """Train the CRF on `docs` into `model_path`; returns training facts for the card, among them a digest
    of exactly what the CRF was given (features and labels of every sequence, in order): the same input,
    hyperparameters and python-crfsuite give the same model file, byte for byte."""
    import pycrfsuite

    recipe = recipe or RECIPE
    trainer = pycrfsuite.Trainer(algorithm=recipe["crf"]["algorithm"], verbose=False)
    trainer.set_params({k: v for k, v in recipe["crf"].items() if k != "algorithm"})
    n_tokens = 0
    given = hashlib.sha256()
    for doc in docs:
        xseq, yseq = bio(doc, rule_features)
        given.update(json.dumps([xseq, yseq]).encode())
        if xseq:
            trainer.append(xseq, yseq)
            n_tokens += len(xseq)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    trainer.train(str(model_path))
    return {"sequences": len(docs), "tokens": n_tokens, "seconds": round(time.perf_counter() - t0, 1),
            "input_sha256_16": given.hexdigest()[:16]}  # fmt: skip


def without_hints(docs: Sequence[TrainingDoc]) -> list[TrainingDoc]:
    return [TrainingDoc(d.text, d.spans, d.source) for d in docs]


def data_digest(docs: Sequence[TrainingDoc]) -> str:
    """The first 16 hex digits of the sha256 of the documents' texts and gold spans, in order."""
    h = hashlib.sha256()
    for d in docs:
        h.update(d.text.encode())
        h.update(json.dumps(d.spans).encode())
    return h.hexdigest()[:16]


def hints_digest(docs: Sequence[TrainingDoc]) -> str:
    """The same over the rules' hits on each document: what the rules said when the model was trained."""
    h = hashlib.sha256()
    for d in docs:
        h.update(json.dumps(d.hints).encode())
    return h.hexdigest()[:16]


def sources(docs: Sequence[TrainingDoc]) -> dict[str, dict]:
    """{source: {"sequences", "sha256_16"}} of the training texts, each source's documents in order."""
    parts: dict[str, list[TrainingDoc]] = {}
    for d in docs:
        parts.setdefault(d.source, []).append(d)
    return {name: {"sequences": len(part), "sha256_16": data_digest(part)} for name, part in sorted(parts.items())}


_DRIFT_CAUSE = {
    "generator": "the generator's notes changed (synthetic/, or deid.text.corpora.read_generator)",
    "negative": "the MTSamples lines or the negative-line filter (negative_lines) changed",
    "nursing": "the nursing generator's notes changed (synthetic/nursing.py)",
}


def drifted(docs: Sequence[TrainingDoc], recipe: dict | None = None) -> list[str]:
    """One line per source whose texts and gold spans differ from the recipe's pin (digests and counts
    only, never a text); empty when the recipe pins nothing (a recipe under test)."""
    recipe = recipe or RECIPE
    pins: dict[str, str] = recipe.get("data_sha256_16") or {}
    if not pins:
        return []
    made = sources(docs)
    out = []
    for name in sorted(set(pins) | set(made)):
        got = made.get(name, {"sequences": 0, "sha256_16": None})
        if got["sha256_16"] == pins.get(name):
            continue
        cause = _DRIFT_CAUSE.get(
            name, "the corpus, its reader (deid.text.corpora) or the label mapping (deid.text.scoring) changed"
        )
        out.append(f"{name}: {got['sequences']} sequences, sha256 {got['sha256_16']}, the recipe pins "
                   f"{pins.get(name)} ({cause})")  # fmt: skip
    return out


def write_card(model_path: Path, docs: Sequence[TrainingDoc], facts: dict, thresholds: dict[str, float],
               recipe: dict | None = None, extra: dict | None = None) -> dict:  # fmt: skip
    """The model's card beside it: name, recipe, training data digests (all, per source, the rules' hits
    when the model reads them, the CRF's input) and counts, the model's sha256, the lexicon fingerprint its
    features were computed with, and the per-type thresholds."""
    recipe = recipe or RECIPE
    by_source: dict[str, int] = {}
    for d in docs:
        by_source[d.source] = by_source.get(d.source, 0) + 1
    training = {**facts, "by_source": by_source, "data_sha256_16": data_digest(docs), "sources": sources(docs)}
    if any(d.hints for d in docs) and (extra or {}).get("hints", True):
        training["hints_sha256_16"] = hints_digest(docs)
    card = {
        "name": recipe["name"],
        "types": list(TYPES),
        "recipe": recipe,
        "training": training,
        "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "lexicon_fingerprint": lexicon_fingerprint(),
        "thresholds": thresholds,
        "thresholds_doc": THRESHOLDS_DOC,
        **(extra or {}),
    }
    model_path.with_suffix(".json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return card


def default_model_path() -> Path:
    return MODEL_DIR / f"{MODEL_NAME}.crfsuite"
