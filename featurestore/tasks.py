"""Prediction tasks as YAML: trigger events give prediction times, a target window after each gives the label.

For a prediction time T (trigger time + offset) the target window is (T + gap, T + horizon]; target events in
(T, T + gap] either drop the row (`on_gap: drop`) or are ignored. A row with no outcome needs follow-up to
T + horizon (the subject's last event, or the dataset's end) or it is censored (dropped); a death inside the
window without the outcome counts as negative or drops the row (`censoring.death`). `new_only` drops rows
whose subject already had a target code at or before T. Only events after T decide a label.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from featurestore.durations import parse_duration
from featurestore.spec import CodeSelector
from schemas.meds import DEATH_CODE

TASKS_DIR = Path(__file__).parent / "tasks"
KINDS = ("any", "next_value")
_OPS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Task:
    name: str
    description: str
    trigger: CodeSelector
    offset: int  # microseconds added to the trigger time
    target: CodeSelector
    kind: str  # any: did a target event happen | next_value: the first numeric value of a target code
    gap: int
    horizon: int
    on_gap: str  # drop | ignore
    threshold: tuple[str, float] | None  # next_value -> boolean_value via (op, value); None -> float_value
    new_only: bool
    follow_up: str  # last_event | dataset_end
    on_death: str  # negative | drop

    @property
    def value_column(self) -> str:
        return "float_value" if self.kind == "next_value" and self.threshold is None else "boolean_value"


def parse_task(raw: dict) -> Task:
    """Validate a task dict (as loaded from YAML); errors say which key is wrong."""
    allowed = {"name", "description", "trigger", "target", "new_only", "censoring"}
    if unknown := set(raw) - allowed:
        raise ValueError(f"unknown task keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    trigger, target, censoring = raw.get("trigger") or {}, raw.get("target") or {}, raw.get("censoring") or {}
    if "codes" not in trigger or "codes" not in target or "horizon" not in target:
        raise ValueError("a task needs trigger.codes, target.codes and target.horizon")
    kind = target.get("kind", "any")
    threshold = target.get("threshold")
    if kind not in KINDS:
        raise ValueError(f"target.kind must be one of {KINDS}, got {kind!r}")
    if threshold is not None:
        if kind != "next_value" or threshold.get("op") not in _OPS:
            raise ValueError(f"target.threshold needs kind next_value and op in {sorted(_OPS)}")
        threshold = (str(threshold["op"]), float(threshold["value"]))
    gap, horizon = parse_duration(target.get("gap", "0s")), parse_duration(target["horizon"])
    if horizon <= gap:  # type: ignore[operator]
        raise ValueError("target.horizon must be longer than target.gap")
    choices = {
        "on_gap": (target.get("on_gap", "drop"), ("drop", "ignore")),
        "censoring.follow_up": (censoring.get("follow_up", "last_event"), ("last_event", "dataset_end")),
        "censoring.death": (censoring.get("death", "negative"), ("negative", "drop")),
    }
    for key, (value, allowed_values) in choices.items():
        if value not in allowed_values:
            raise ValueError(f"{key} must be one of {allowed_values}, got {value!r}")
    return Task(
        name=str(raw.get("name") or ""),
        description=str(raw.get("description", "")),
        trigger=CodeSelector.parse(trigger["codes"]),
        offset=parse_duration(trigger.get("offset", "0s")),  # type: ignore[arg-type]
        target=CodeSelector.parse(target["codes"]),
        kind=kind,
        gap=gap,  # type: ignore[arg-type]
        horizon=horizon,  # type: ignore[arg-type]
        on_gap=choices["on_gap"][0],
        threshold=threshold,
        new_only=bool(raw.get("new_only", False)),
        follow_up=choices["censoring.follow_up"][0],
        on_death=choices["censoring.death"][0],
    )


def load_task(name_or_path: str | Path) -> Task:
    """A shipped task by name (see shipped_tasks()), or a YAML file."""
    path = Path(name_or_path)
    if not path.is_file():
        path = TASKS_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            raise FileNotFoundError(f"no task {str(name_or_path)!r}: not a file, nor one of {shipped_tasks()}")
    task = parse_task(yaml.safe_load(path.read_text()))
    if not task.name:
        raise ValueError(f"task in {path} needs a name")
    return task


def shipped_tasks() -> list[str]:
    return sorted(p.stem for p in TASKS_DIR.glob("*.yaml"))


def build_labels(events: pl.DataFrame, task: Task, dataset_end=None) -> pl.DataFrame:
    """MEDS labels (subject_id, prediction_time, <value column>) for the subjects in `events` (MEDS rows).

    `dataset_end` (a datetime) is the end of follow-up for `censoring.follow_up: dataset_end`; by default the
    latest time in `events`.
    """
    value = task.value_column
    timed = (
        events.filter(pl.col("time").is_not_null())
        .select("subject_id", pl.col("time").cast(pl.Datetime("us")), "code", "numeric_value")
        .sort("subject_id", "time", maintain_order=True)
    )
    t = pl.col("prediction_time")
    gap, horizon = pl.duration(microseconds=task.gap), pl.duration(microseconds=task.horizon)
    subjects = timed.group_by("subject_id").agg(
        last_event=pl.col("time").max(), death=pl.col("time").filter(pl.col("code") == DEATH_CODE).min()
    )
    rows = (
        timed.filter(task.trigger.expr())
        .select("subject_id", prediction_time=pl.col("time") + pl.duration(microseconds=task.offset))
        .unique()
        .sort("subject_id", "prediction_time")
        .join(subjects, on="subject_id", how="left")
        .filter(pl.col("death").is_null() | (pl.col("death") > t))  # nobody is predicted for after death
    )
    target = timed.filter(task.target.expr())
    if task.kind == "next_value":
        target = target.filter(pl.col("numeric_value").is_not_null())
    target = target.select("subject_id", target_time="time", target_value="numeric_value")

    def first_after(frame: pl.DataFrame, start: pl.Expr, name: str) -> pl.DataFrame:
        probe = frame.with_columns(_at=start)
        hit = probe.join_asof(
            target.rename({"target_time": name, "target_value": f"{name}_value"}),
            left_on="_at",
            right_on=name,
            by="subject_id",
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        return hit.drop("_at")

    rows = first_after(rows, t, "first_after_t")
    rows = first_after(rows, t + gap, "outcome")
    if task.new_only:
        prior = target.group_by("subject_id").agg(first_target=pl.col("target_time").min())
        rows = rows.join(prior, on="subject_id", how="left").filter(
            pl.col("first_target").is_null() | (pl.col("first_target") > t)
        )
    if task.gap and task.on_gap == "drop":
        rows = rows.filter(pl.col("first_after_t").is_null() | (pl.col("first_after_t") > t + gap))
    in_window = pl.col("outcome").is_not_null() & (pl.col("outcome") <= t + horizon)
    rows = rows.with_columns(positive=in_window)
    if task.kind == "next_value":
        rows = rows.filter("positive")
        if task.threshold is None:
            label = pl.col("outcome_value").cast(pl.Float32)
        else:
            op, bound = task.threshold
            label = getattr(pl.col("outcome_value"), _OPS[op])(bound)
        return _finish(rows.with_columns(label.alias(value)), value)
    end = pl.lit(dataset_end if dataset_end is not None else timed["time"].max()).cast(pl.Datetime("us"))
    follow_up_end = pl.col("last_event") if task.follow_up == "last_event" else end
    died_in_window = pl.col("death").is_not_null() & (pl.col("death") <= t + horizon)
    complete = follow_up_end >= t + horizon
    keep = (
        pl.col("positive")
        | (died_in_window if task.on_death == "negative" else pl.lit(False))
        | (complete & ~died_in_window)
    )
    return _finish(rows.filter(keep).with_columns(pl.col("positive").alias(value)), value)


def _finish(rows: pl.DataFrame, value: str) -> pl.DataFrame:
    return (
        rows.select("subject_id", "prediction_time", pl.col(value).cast(_polars_type(value)))
        .unique(["subject_id", "prediction_time"], keep="first")
        .sort("subject_id", "prediction_time")
    )


_POLARS_TYPES = {
    "boolean_value": pl.Boolean,
    "integer_value": pl.Int64,
    "float_value": pl.Float32,
    "categorical_value": pl.String,
}


def _polars_type(value: str) -> type[pl.DataType]:
    return _POLARS_TYPES[value]
