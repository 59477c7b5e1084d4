"""Events derived from a shard's own rows so that code-only MEDS tools see them: coded values and birth year.

MEDS tools (MEDS-Tab, ACES, meds-torch-data) group by `code` and aggregate `numeric_value`; they never read
`text_value`. Two facts would otherwise stay invisible to them:

1. A coded value (a FHIR `valueCodeableConcept`, an encounter's type, a mapped table's coded answer) lives in
   `text_value` as a code of its own. Each such row gets a companion row at the same time whose code is the row's
   code and its value joined: `LOINC//72166-2//SNOMED//266919005` (smoking status: never smoker). The original
   row stays as it was, so selectors on `LOINC//72166-2` keep working.
2. Static rows (sex, race) carry no value, so MEDS-Tab's default `static/first` aggregation has nothing to
   aggregate and stops. Each subject with a birth gets one static `BIRTH//YEAR` row whose numeric_value is the
   year of its MEDS_BIRTH (after the date shift and the age cap, as every other date).

A text_value is a code when it has the code grammar `VOCAB//value`: an upper-case vocabulary name, `//`, and
a value without spaces (schemas.codes); free text (a note, a comment with spaces) never is.
"""

import polars as pl

from schemas.codes import SEPARATOR
from schemas.meds import BIRTH_CODE

BIRTH_YEAR_CODE = "BIRTH//YEAR"
CODED_VALUE = rf"^[A-Z][A-Z0-9_\-]*{SEPARATOR}\S+$"


def _cleared(data: pl.DataFrame, *columns: str) -> list[pl.Expr]:
    return [pl.lit(None, data.schema[c]).alias(c) for c in columns if c in data.columns]


def coded_value_rows(data: pl.DataFrame) -> pl.DataFrame:
    """One companion row per row whose text_value is a code: code `<code>//<text_value>`, no value.

    >>> from datetime import datetime
    >>> rows = pl.DataFrame({"time": [datetime(2020, 1, 1)] * 3, "code": ["LOINC//72166-2", "LOINC//x", "N//y"],
    ...                      "numeric_value": [None, 5.0, None],
    ...                      "text_value": ["SNOMED//266919005", None, "a//b c"]})
    >>> coded_value_rows(rows)["code"].to_list()
    ['LOINC//72166-2//SNOMED//266919005']
    """
    coded = data.filter(pl.col("text_value").str.contains(CODED_VALUE).fill_null(False))
    return coded.with_columns(
        pl.concat_str("code", pl.lit(SEPARATOR), "text_value").alias("code"),
        *_cleared(data, "numeric_value", "text_value", "unit"),
    )


def birth_year_rows(data: pl.DataFrame, subject: str = "subject_id") -> pl.DataFrame:
    """One static `BIRTH//YEAR` row per subject with a MEDS_BIRTH: numeric_value is the earliest birth's year.

    >>> from datetime import datetime
    >>> rows = pl.DataFrame({"subject_id": [1, 1, 2], "time": [datetime(1960, 5, 1), datetime(2020, 1, 1), None],
    ...                      "code": ["MEDS_BIRTH", "X//1", "GENDER//F"], "numeric_value": [None, 2.0, None],
    ...                      "text_value": [None, None, None]}, schema_overrides={"numeric_value": pl.Float32})
    >>> birth_year_rows(rows).select("subject_id", "time", "code", "numeric_value").rows()
    [(1, None, 'BIRTH//YEAR', 1960.0)]
    """
    births = (
        data.filter((pl.col("code") == BIRTH_CODE) & pl.col("time").is_not_null())
        .sort(subject, "time", maintain_order=True)
        .unique(subject, keep="first", maintain_order=True)
    )
    return births.with_columns(
        pl.col("time").dt.year().cast(data.schema["numeric_value"]).alias("numeric_value"),
        pl.lit(BIRTH_YEAR_CODE, data.schema["code"]).alias("code"),
        *_cleared(data, "time", "text_value", "unit"),
    )


def with_derived_events(data: pl.DataFrame, subject: str = "subject_id") -> pl.DataFrame:
    """The shard's rows plus their coded-value companions and birth-year rows (the caller sorts)."""
    return pl.concat([data, coded_value_rows(data), birth_year_rows(data, subject)], how="vertical")
