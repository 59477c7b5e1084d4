"""`longitude deid eval`: score the text de-identifier and Presidio's default on an annotated corpus;
`longitude deid train`: rebuild the learned PHI tagger from its pinned recipe."""

import dataclasses
import json
import math
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

FORMATS = ("presidio-research", "clinical-queries", "generator", "brat", "physionet")
PARTS = ("all", "tuning", "check")
SYSTEMS = ("longitude", "presidio-default")
ALL_SYSTEMS = ("longitude", "longitude-rules", "presidio-default")
_SHORT = {"longitude": "ours", "longitude-rules": "rules", "presidio-default": "presidio"}


@click.group("deid")
def command() -> None:
    """Text de-identification: evaluation against annotated corpora."""


@command.command("eval")
@click.option(
    "--corpus",
    "corpus",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Corpus file or folder (for `generator`: the root or its landing/ folder).",
)
@click.option("--format", "fmt", required=True, type=click.Choice(FORMATS), help="How the corpus is annotated.")
@click.option("--limit", type=int, default=None, help="Score only the first N notes.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the JSON report here."
)
@click.option(
    "--system",
    "systems",
    multiple=True,
    type=click.Choice(ALL_SYSTEMS),
    default=SYSTEMS,
    show_default=True,
    help="Systems to score (repeatable): ours and Presidio's default by default, in the same run; "
    "`longitude-rules` is ours without the learned tagger.",
)
@click.option("--processes", type=int, default=1, show_default=True, help="Processes for our de-identifier.")
@click.option("--no-known", is_flag=True, help="Score without the per-subject deny lists (generator format).")
@click.option(
    "--part",
    type=click.Choice(PARTS),
    default="all",
    show_default=True,
    help="Patient-level part of a development corpus: `check` is for scoring only, `tuning` for tuning.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the error report (misses by type and shape, false alarms by class) here as markdown.",
)
@click.option(
    "--examples",
    type=int,
    default=0,
    show_default=True,
    help="Quote up to N examples per error class in the error report (they are PHI: development corpora only).",
)
def eval_command(corpus: Path, fmt: str, limit: int | None, out: Path | None, systems: tuple[str, ...],
                 processes: int, no_known: bool, part: str, errors_path: Path | None,
                 examples: int) -> None:  # fmt: skip
    """Recall, precision and F2 per entity group, at span and token level, and the share of words outside
    gold PHI that each system marks (over-redaction)."""
    from deid.text.corpora import read_corpus, select_part
    from deid.text.error_report import to_markdown
    from deid.text.evaluation import evaluate

    console = Console()
    try:
        docs = read_corpus(corpus, fmt, limit=limit)
    except (FileNotFoundError, KeyError, ValueError) as err:
        raise click.ClickException(f"cannot read {fmt} corpus at {corpus}: {err}") from None
    docs = select_part(docs, part)
    if not docs:
        raise click.ClickException(f"no notes in {corpus} (part {part})")
    if no_known:
        docs = [dataclasses.replace(d, known=None) for d in docs]
    want_errors = errors_path is not None or examples > 0
    with console.status(f"scoring {len(docs)} notes ..."):
        report = evaluate(docs, systems, n_process=processes, errors=want_errors, examples=examples)
    report["corpus"].update(path=str(corpus), format=fmt, part=part)
    for level in ("span", "token"):
        console.print(_table(report, level))
    for name, s in report["systems"].items():
        o = s["over_redaction"]
        console.print(
            f"{name}: {s['notes_per_s']:.1f} notes/s ({s['chars_per_s'] / 1000:.0f}k chars/s); "
            f"marks {o['marked']} of {o['words']} words outside gold PHI ({100 * o['share']:.3f}%)"
        )
    if "speedup" in report:
        console.print(f"speed-up over Presidio default, same run: {report['speedup']:.1f}x")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(_jsonable(report), indent=2))
        console.print(f"report written to {out}")
    if errors_path is not None:
        errors_path.parent.mkdir(parents=True, exist_ok=True)
        errors_path.write_text(to_markdown({name: s["errors"] for name, s in report["systems"].items()}))
        console.print(f"error report written to {errors_path}")


def _table(report: dict, level: str) -> Table:
    systems = report["systems"]
    c = report["corpus"]
    part = f", {c['part']} part" if c.get("part", "all") != "all" else ""
    table = Table(title=f"{level}-level: {c['notes']} notes, {c['format']}{part}")
    table.add_column("group", no_wrap=True)
    table.add_column("gold", justify="right")
    for name in systems:
        short = _SHORT.get(name, name)
        for metric in ("R", "P", "F2"):
            table.add_column(f"{short}\n{metric}", justify="right", no_wrap=True)
    groups = [g for g in next(iter(systems.values()))[level] if g not in ("ALL", "CORE")] + ["CORE", "ALL"]
    for group in groups:
        rows = [s[level].get(group) for s in systems.values()]
        n_gold = next((r["n_gold"] for r in rows if r), 0)
        cells = []
        for r in rows:
            cells += [_fmt(r["recall"]), _fmt(r["precision"]), _fmt(r["f2"])] if r else ["-", "-", "-"]
        style = "bold" if group in ("CORE", "ALL") else None
        table.add_row(group, str(n_gold), *cells, style=style)
    return table


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    return obj


_DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@command.command("train")
@click.option(
    "--data",
    "data_root",
    type=click.Path(file_okay=False, path_type=Path),
    default=_DATA_ROOT,
    show_default=True,
    help="The shared data folder holding the recipe's corpora.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the model and its card here (default: the package's models folder, replacing the shipped one).",
)
def train_command(data_root: Path, out_dir: Path | None) -> None:
    """Rebuild the learned PHI tagger from its pinned recipe (deid.text.tagger_train.RECIPE): the tuning
    part of the PhysioNet development notes, the general PII sentences' tuning part, PHI-free MTSamples
    lines, and the generator's and the nursing generator's notes with their PHI truth; writes
    `<name>.crfsuite` and its JSON card."""
    from deid.text.tagger import MODEL_DIR
    from deid.text.tagger_train import (
        RECIPE,
        drifted,
        hints_digest,
        missing_data,
        train,
        with_rule_hints,
        write_card,
    )

    console = Console()
    missing = missing_data(data_root)
    if missing:
        raise click.ClickException(
            "training needs the recipe's corpora; not found: " + ", ".join(missing)
            + f". Point --data at the shared data folder (default {_DATA_ROOT}). The shipped model still loads."
        )  # fmt: skip
    with console.status("reading the recipe's corpora and generating its notes ..."):
        docs = recipe_training_docs(data_root)
    drift = drifted(docs)
    if drift:
        raise click.ClickException(
            "the recipe made other training data than it pins (deid.text.tagger_train.RECIPE"
            "['data_sha256_16']), so the model would not be the recipe's; nothing was trained:\n  "
            + "\n  ".join(drift)
        )
    with console.status(f"running the rules over {len(docs)} training texts (the tagger's hint features) ..."):
        docs = with_rule_hints(docs)
    shipped = MODEL_DIR / f"{RECIPE['name']}.json"
    recorded = json.loads(shipped.read_text())["training"].get("hints_sha256_16") if shipped.exists() else None
    if hints_digest(docs) != recorded:
        # the rules are the stacked model's features: other hits, another model (the plain one does not read them)
        console.print(
            f"note: the rules' hits on the training texts ({hints_digest(docs)}) are not those {shipped.name} "
            f"was trained with ({recorded or 'not recorded'}): the stacked model will differ from the shipped "
            "one; judge it inside the system on the tuning part before shipping it (bench/deid_tagger_ab.py)."
        )
    directory = out_dir or MODEL_DIR
    plain = RECIPE["plain"]
    plain_model = directory / f"{plain['name']}.crfsuite"
    with console.status(f"training the plain CRF (no rule features) on {len(docs)} sequences ..."):
        plain_facts = train(docs, plain_model, rule_features=False)
    write_card(plain_model, docs, plain_facts, plain["thresholds"], extra={"name": plain["name"], "hints": False})
    console.print(f"{plain_model} ({plain_model.stat().st_size / 1e6:.2f} MB), {plain_facts['seconds']} s")
    model = directory / f"{RECIPE['name']}.crfsuite"
    with console.status(f"training the CRF on {len(docs)} sequences ..."):
        facts = train(docs, model)
    card = write_card(model, docs, facts, RECIPE["thresholds"],
                      extra={"veto": RECIPE["veto"], "strong": RECIPE["strong"]})  # fmt: skip
    console.print(
        f"{model} ({model.stat().st_size / 1e6:.2f} MB, sha256 {card['model_sha256'][:16]}): "
        f"{facts['sequences']} sequences, {facts['tokens']} tokens, {facts['seconds']} s"
    )
    console.print(f"card: {model.with_suffix('.json')}")


def recipe_training_docs(data_root: Path, recipe: dict | None = None, *, exclude_subjects=()) -> list:
    """Every training document of the recipe, in its order: the corpora by part (less `exclude_subjects`),
    the generator's notes, and the nursing generator's notes where the recipe names them."""
    from deid.text.tagger_train import RECIPE, load_corpora

    recipe = recipe or RECIPE
    docs = load_corpora(data_root, recipe, exclude_subjects=exclude_subjects)
    docs += recipe_generator_notes(recipe["generator"])
    if "nursing" in recipe:
        docs += recipe_nursing_notes(recipe["nursing"])
    return docs


def recipe_generator_notes(gen: dict) -> list:
    """The recipe's generator part: the notes of `gen["patients"]` patients of seed `gen["seed"]` with
    their PHI truth, as training documents (`gen["repeat"]` times)."""
    import tempfile

    from deid.text.corpora import read_corpus
    from deid.text.tagger_train import labelled
    from synthetic import generate_landing

    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        generate_landing(landing, gen["patients"], gen["seed"], workers=1)
        notes = [labelled(d, "generator") for d in read_corpus(landing, "generator")]
    return notes * gen.get("repeat", 1)


def recipe_nursing_notes(spec: dict) -> list:
    """The recipe's nursing part: `spec["notes"]` ICU nursing notes of the nursing generator's seed
    `spec["seed"]` (synthetic.nursing: ALL CAPS and lower-case shorthand, dates without a year, wards,
    relatives, clinicians by title, phones in many formats) with their PHI truth, as training documents."""
    from deid.text.corpora import AnnotatedDoc, GoldSpan
    from deid.text.tagger_train import labelled
    from synthetic.nursing import nursing_notes

    notes = nursing_notes(spec["seed"], spec["notes"])
    docs = [
        AnnotatedDoc(f"nursing-{i}", text, tuple(GoldSpan(s["start"], s["end"], s["label"]) for s in spans))
        for i, (text, spans) in enumerate(notes)
    ]
    return [labelled(doc, "nursing") for doc in docs]
