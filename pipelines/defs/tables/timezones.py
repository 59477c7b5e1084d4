"""Wall-clock times of a source's zone to UTC with `zoneinfo`'s daylight-saving rules, in any year.

polars' own zone conversion stops applying DST rules after a few decades (a July 2150 time reads as winter
time), and shifted research extracts such as MIMIC's live in the 2100s. zoneinfo applies the zone's rule to
every year, so offsets are looked up per distinct wall-clock hour and joined back: a few thousand Python
calls for millions of rows. An hour with a transition inside it (rare: historical or half-hour zones) is
resolved row by row.
"""

from datetime import UTC, datetime, timedelta
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


def wall_to_utc(local: pl.Series, tz: str) -> pl.Series:
    """Naive wall-clock datetimes in `tz` -> naive UTC datetimes; null where the wall time does not exist."""
    if tz == "UTC" or local.len() == 0:
        return local
    zone = ZoneInfo(tz)
    frame = pl.DataFrame({"t": local.cast(pl.Datetime("us"))}).with_columns(h=pl.col("t").dt.truncate("1h"))
    hours = frame["h"].drop_nulls().unique().to_list()
    rows = []
    for h in hours:
        start, end = _offset(h, zone), _offset(h + _HOUR, zone)
        rows.append((h, start, start != end))
    table = pl.DataFrame(rows, schema={"h": pl.Datetime("us"), "off": pl.Int64, "split": pl.Boolean}, orient="row")
    frame = frame.join(table, on="h", how="left", maintain_order="left")
    out = (pl.col("t") - pl.duration(microseconds=pl.col("off"))).alias("u")
    result = frame.select(out, "split", "t")
    if result["split"].any():
        exact = result["t"].map_elements(
            lambda w: None if (o := _offset(w, zone)) is None else w - timedelta(microseconds=o),
            return_dtype=pl.Datetime("us"),
        )
        result = result.with_columns(pl.when(pl.col("split")).then(exact).otherwise(pl.col("u")).alias("u"))
    return result["u"].alias(local.name)
