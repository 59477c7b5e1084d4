"""Wall-clock times of a source's zone to UTC with `zoneinfo`'s daylight-saving rules, in any year.

polars' own zone conversion stops applying DST rules after a few decades (a July 2150 time reads as winter
time), and shifted research extracts such as MIMIC's live in the 2100s. zoneinfo applies the zone's rule to
every year, so offsets are looked up per distinct wall-clock day and joined back: a few thousand Python
calls for millions of rows. A day with a transition is looked up per hour, and an hour with a transition
inside it (rare: historical or half-hour zones) row by row.
"""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import polars as pl

_HOUR = timedelta(hours=1) - timedelta(microseconds=1)


def _offset(wall: datetime, zone: ZoneInfo) -> int | None:
    """UTC offset in microseconds of a wall time; None where the time does not exist (spring gap).
    An ambiguous time (autumn fold) takes the earlier instant (fold=0)."""
    aware = wall.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != wall:
        return None
    off = aware.utcoffset()
    return None if off is None else int(off.total_seconds() * 1_000_000)


@lru_cache(maxsize=1 << 18)
def _period(t: datetime, span: timedelta, zone: ZoneInfo) -> tuple[int | None, bool]:
    first = _offset(t, zone)
    return first, first != _offset(t + span, zone)


def _offsets(starts: list[datetime], span: timedelta, zone: ZoneInfo) -> pl.DataFrame:
    """Per period start: the offset at its start, and whether the offset changes within the period (cached:
    a source's time columns share their days)."""
    rows = [(t, *_period(t, span, zone)) for t in starts]
    return pl.DataFrame(rows, schema={"p": pl.Datetime("us"), "off": pl.Int64, "split": pl.Boolean}, orient="row")


def wall_to_utc(local: pl.Series, tz: str) -> pl.Series:
    """Naive wall-clock datetimes in `tz` -> naive UTC datetimes; null where the wall time does not exist.

    Offsets are looked up per distinct day (a few thousand for decades of data); only days with a transition
    are looked up per hour, and only hours with a transition inside (rare) row by row.
    """
    if tz == "UTC" or local.len() == 0:
        return local
    zone = ZoneInfo(tz)
    frame = pl.DataFrame({"t": local.cast(pl.Datetime("us"))}).with_columns(p=pl.col("t").dt.truncate("1d"))
    days = _offsets(
        frame["p"].drop_nulls().unique().to_list(), timedelta(days=1) - timedelta(microseconds=1), zone
    )
    frame = frame.join(days, on="p", how="left", maintain_order="left")
    if frame["split"].any():
        changing = frame.filter(pl.col("split")).select(pl.col("t").dt.truncate("1h").alias("h"))
        hours = _offsets(changing["h"].unique().to_list(), _HOUR, zone).rename(
            {"p": "h", "off": "h_off", "split": "h_split"}
        )
        frame = (
            frame.with_columns(h=pl.col("t").dt.truncate("1h"))
            .join(hours, on="h", how="left", maintain_order="left")
            .with_columns(
                pl.when(pl.col("split")).then(pl.col("h_off")).otherwise(pl.col("off")).alias("off"),
                (pl.col("split") & pl.col("h_split")).fill_null(False).alias("split"),
            )
        )
    result = frame.select((pl.col("t") - pl.duration(microseconds=pl.col("off"))).alias("u"), "split", "t")
    if result["split"].any():
        exact = result["t"].map_elements(
            lambda w: None if (o := _offset(w, zone)) is None else w - timedelta(microseconds=o),
            return_dtype=pl.Datetime("us"),
        )
        result = result.with_columns(pl.when(pl.col("split")).then(exact).otherwise(pl.col("u")).alias("u"))
    return result["u"].alias(local.name)
