"""One de-identified subject's timeline as tidy tables: events by code family, encounters, notes and images.

Reads only the de-identified zones (`meds/`, `notes/`, `imaging/`), never `raw/` or `landing/`.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schemas.codes import SEPARATOR
from schemas.layout import Layout

ENCOUNTER_START = "ENCOUNTER"
ENCOUNTER_END = "ENCOUNTER_END"
# Families drawn as their own markers (from notes/ and imaging/, which say more than the MEDS event does).
MARKER_FAMILIES = ("NOTE", "IMAGING")
# Birth is stated in the title instead of drawn: decades before the first visit, it would squeeze every lane.
BIRTH = "MEDS_BIRTH"
NOTES_LANE = "notes"
IMAGING_LANE = "imaging"


class SubjectNotFoundError(LookupError):
    """The subject id is not in the root's MEDS data."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the chart draws; every frame has a `time` column (shifted, as stored)."""

    subject_id: int
    events: pl.DataFrame  # time, family, code, value: one row per MEDS event with a time
    encounters: pl.DataFrame  # start, end, kind, reason
    notes: pl.DataFrame  # time, lane, label
    images: pl.DataFrame  # time, lane, label
    untimed: int  # static MEDS rows (no time), counted, not drawn
    birth: object = None  # datetime of MEDS_BIRTH (shifted), or None

    @property
    def lanes(self) -> list[str]:
        """Code families, most events first, then notes and imaging."""
        counts = self.events.group_by("family").len().sort(["len", "family"], descending=[True, False])
        extra = [lane for lane, frame in ((NOTES_LANE, self.notes), (IMAGING_LANE, self.images)) if frame.height]
        return [*counts["family"].to_list(), *extra]


def code_family(code: pl.Expr) -> pl.Expr:
    """The vocabulary prefix of a MEDS code (`LOINC//2345-7` -> `LOINC`)."""
    return code.str.split(SEPARATOR).list.first()


def _hint(layout: Layout, subject_id: int) -> str:
    """The closest subject ids (a digit mistyped or dropped), else a few that exist: ids are keyed pseudonyms
    (schemas.meds), which the de-identified tables and the site show, never a source id."""
    import difflib

    path = layout.meds_subject_splits
    if not path.exists():
        return ""
    ids = [str(s) for s in pl.read_parquet(path, columns=["subject_id"])["subject_id"].sort().to_list()]
    close = difflib.get_close_matches(str(subject_id), ids, n=3, cutoff=0.8)
    if close:
        return f"; did you mean {' or '.join(close)}?"
    return f"; e.g. {', '.join(ids[:3])} (of {len(ids)})" if ids else ""


def load_timeline(layout: Layout, subject_id: int) -> Timeline:
    """Gather one subject from the de-identified tables; SubjectNotFoundError when MEDS has no such subject."""
    meds = _subject_rows(source_patterns(layout)["meds"], subject_id)
    if meds is None or meds.height == 0:
        hint = _hint(layout, subject_id)
        raise SubjectNotFoundError(
            f"subject {subject_id} is not in {layout.meds / 'data'} (ids are the pseudonymous ids in meds/, not "
            f"source ids){hint}"
        )
    timed = meds.filter(pl.col("time").is_not_null()).with_columns(family=code_family(pl.col("code")))
    births = timed.filter(pl.col("family") == BIRTH)["time"]
    events = timed.filter(~pl.col("family").is_in([ENCOUNTER_START, ENCOUNTER_END, BIRTH, *MARKER_FAMILIES]))
    events = events.select(
        "time",
        "family",
        "code",
        value=pl.when(pl.col("numeric_value").is_not_null())
        .then(pl.col("numeric_value").round(3).cast(pl.String) + pl.lit(" ") + pl.col("unit").fill_null(""))
        .otherwise(pl.col("text_value")),
    ).sort("time", "code")
    return Timeline(
        subject_id=subject_id,
        events=events,
        encounters=pair_encounters(timed),
        notes=_notes(layout, subject_id, timed),
        images=_images(layout, subject_id, timed),
        untimed=meds.height - timed.height,
        birth=births.min() if births.len() else None,
    )


def pair_encounters(events: pl.DataFrame) -> pl.DataFrame:
    """Each `ENCOUNTER//<kind>` start with the first unpaired `ENCOUNTER_END//<kind>` at or after it.

    A start with no end becomes a zero-length band at its start, so no encounter is dropped.

    >>> from datetime import datetime as dt
    >>> ev = pl.DataFrame({"time": [dt(2020, 1, 1, 9), dt(2020, 1, 1, 10), dt(2020, 1, 2), dt(2020, 1, 3)],
    ...                    "code": ["ENCOUNTER//AMB", "ENCOUNTER_END//AMB", "ENCOUNTER//IMP", "ENCOUNTER//AMB"],
    ...                    "text_value": ["SNOMED//1", "SNOMED//1", None, None]})
    >>> pair_encounters(ev).select("kind", "hours").rows()
    [('AMB', 1.0), ('IMP', 0.0), ('AMB', 0.0)]
    """
    coded = events.filter(pl.col("time").is_not_null()).with_columns(
        family=code_family(pl.col("code")), kind=pl.col("code").str.split(SEPARATOR).list.get(1, null_on_oob=True)
    )
    starts = coded.filter(pl.col("family") == ENCOUNTER_START).sort("time")
    ends = coded.filter(pl.col("family") == ENCOUNTER_END).sort("time")
    open_ends: dict[str | None, list] = {}
    for kind, time in ends.select("kind", "time").iter_rows():
        open_ends.setdefault(kind, []).append(time)
    rows = []
    for kind, time, reason in starts.select("kind", "time", "text_value").iter_rows():
        candidates = open_ends.get(kind, [])
        # ends are sorted; the first one at or after this start closes it
        index = next((i for i, end in enumerate(candidates) if end >= time), None)
        end = candidates.pop(index) if index is not None else time
        rows.append((time, end, kind or "?", reason))
    frame = pl.DataFrame(
        rows,
        schema={"start": pl.Datetime("us"), "end": pl.Datetime("us"), "kind": pl.String, "reason": pl.String},
        orient="row",
    )
    return frame.with_columns(hours=((pl.col("end") - pl.col("start")).dt.total_seconds() / 3600).round(2))


def source_patterns(layout: Layout) -> dict[str, Path]:
    """The files a timeline is read from, by zone: what a drawn page's cache key covers (quality.picture_cache)."""
    return {
        "meds": layout.meds / "data" / "*" / "*.parquet",
        "notes": layout.notes / "*" / "*.parquet",
        "imaging": layout.imaging / "studies" / "*.parquet",
    }


def source_files(layout: Layout) -> list[Path]:
    """Every file `load_timeline` may read, of any subject (a subject's shard is known only once read)."""
    return [f for pattern in source_patterns(layout).values() for f in _matching(pattern)]


def _matching(pattern: Path) -> list[Path]:
    return sorted(pattern.parent.parent.glob(f"{pattern.parent.name}/{pattern.name}"))


def _subject_rows(pattern: Path, subject_id: int) -> pl.DataFrame | None:
    if not _matching(pattern):
        return None
    # one subject lives in one shard; the filter is pushed down to Parquet statistics
    return pl.scan_parquet(str(pattern)).filter(pl.col("subject_id") == subject_id).collect()


def _notes(layout: Layout, subject_id: int, timed: pl.DataFrame) -> pl.DataFrame:
    rows = _subject_rows(source_patterns(layout)["notes"], subject_id)
    if rows is not None and rows.height:
        label = pl.coalesce(pl.col("type_display"), pl.col("note_type"))
        return rows.select("time", lane=pl.lit(NOTES_LANE), label=label).sort("time")
    # no notes/ table (a root without note sources): the MEDS NOTE events still mark when notes were written
    return _from_meds(timed, "NOTE", NOTES_LANE)


def _images(layout: Layout, subject_id: int, timed: pl.DataFrame) -> pl.DataFrame:
    rows = _subject_rows(source_patterns(layout)["imaging"], subject_id)
    if rows is not None and rows.height:
        parts = [pl.col(c).fill_null("") for c in ("modality", "body_part", "study_description")]
        label = pl.concat_str(parts, separator=" ").str.strip_chars() + pl.format(" ({} series)", "n_series")
        timed_rows = rows.filter(pl.col("study_time").is_not_null())
        return timed_rows.select(time="study_time", lane=pl.lit(IMAGING_LANE), label=label).sort("time")
    return _from_meds(timed, "IMAGING", IMAGING_LANE)


def _from_meds(timed: pl.DataFrame, family: str, lane: str) -> pl.DataFrame:
    rows = timed.filter(pl.col("family") == family)
    return rows.select("time", lane=pl.lit(lane), label=pl.col("code")).sort("time")


def site_timelines_dir(layout: Layout) -> Path:
    """Where the stewards' site keeps one page per subject: `quality/site/timelines/`."""
    return layout.quality / "site" / "timelines"


def timeline_href(subject_id: int) -> str:
    """The link to a subject's page, relative to the site's index (for example rows that name a subject)."""
    return f"timelines/{subject_id}.html"


def subjects_in_examples(examples: list, limit: int) -> list[int]:
    """Distinct `subject_id`s of check example rows (de-identified tables only name them), first `limit`.

    The check store keeps example values as text, so `"9"` counts as subject 9.

    >>> rows = [{"subject_id": 3}, {"file": "a.json", "row": "2"}, {"subject_id": "3"}, {"subject_id": "9"}]
    >>> subjects_in_examples(rows, 5), subjects_in_examples(rows, 1)
    ([3, 9], [3])
    """
    found: list[int] = []
    for example in examples:
        subject = str(example.get("subject_id", "")) if isinstance(example, dict) else ""
        if subject.lstrip("-").isdigit() and int(subject) not in found:
            found.append(int(subject))
    return found[:limit]
