"""Expectation suites: one definition, built from `schemas/` and `quality.plausibility`, run by two engines.

`quality.engine` evaluates a suite with polars (fast; what the Dagster checks use) and `quality.gx` turns the
same suite into a Great Expectations 1.x suite (what the stewards' Data Docs show). Each expectation names a
GX expectation type and its arguments, so the two cannot drift apart; tests run both on planted defects.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa

from quality import plausibility as p
from quality.tables import TableSpec

Severity = Literal["error", "warn"]

# Our kind -> the Great Expectations 1.x expectation class that checks the same thing.
GX_TYPES = {
    "columns_match": "ExpectTableColumnsToMatchOrderedList",
    "type_is": "ExpectColumnValuesToBeInTypeList",
    "not_null": "ExpectColumnValuesToNotBeNull",
    "unique": "ExpectCompoundColumnsToBeUnique",
    "in_set": "ExpectColumnValuesToBeInSet",
    "regex": "ExpectColumnValuesToMatchRegex",
    "between": "ExpectColumnValuesToBeBetween",
    "pair_ge": "ExpectColumnPairValuesAToBeGreaterThanB",
    "pair_equal": "ExpectColumnPairValuesToBeEqual",
}


@dataclass(frozen=True, slots=True)
class Expectation:
    """One rule. `condition` restricts it to rows where each named column equals the value."""

    name: str  # stable id: "<suite>/<rule>", what stewards accept and checks report
    kind: str  # a key of GX_TYPES
    severity: Severity
    doc: str
    column: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    condition: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Suite:
    """Expectations over one view of one table (the table as stored, or with derived columns)."""

    name: str
    table: str
    view: str  # "table", "meds_timeline", "subject_locations", "ledger_balance", "codes_coverage"
    expectations: tuple[Expectation, ...]
    phi: bool = False  # rows come from a PHI zone: outcomes carry counts only, never examples


def schema_suite(spec: TableSpec) -> Suite:
    """Columns in order, types, nullability, key uniqueness and value sets, all from the table's schema."""
    s = spec.name
    exps = [
        Expectation(
            f"{s}.schema/columns",
            "columns_match",
            "error",
            "columns start with the schema's, in order (MEDS allows extra columns after them)"
            if spec.extra_columns
            else "columns are exactly the schema's, in order",
            args={"column_list": list(spec.schema.names), "extra_ok": spec.extra_columns},
        ),
    ]
    for f in spec.schema:
        exps.append(
            Expectation(
                f"{s}.schema/{f.name}/type",
                "type_is",
                "error",
                f"{f.name} is {f.type}",
                column=f.name,
                args={"arrow_type": str(f.type), "pandas_types": arrow_type_names(f.type, f.nullable)},
            )
        )
        if not f.nullable:
            exps.append(
                Expectation(
                    f"{s}.schema/{f.name}/not_null", "not_null", "error", f"{f.name} is never null", column=f.name
                )
            )
    if spec.unique:
        key = "+".join(spec.unique)
        exps.append(
            Expectation(
                f"{s}.schema/{key}/unique",
                "unique",
                "error",
                f"({', '.join(spec.unique)}) identifies a row",
                args={"column_list": list(spec.unique)},
            )
        )
    for col, values in spec.in_sets.items():
        exps.append(
            Expectation(
                f"{s}.schema/{col}/in_set",
                "in_set",
                "error",
                f"{col} is one of {list(values)}",
                column=col,
                args={"value_set": list(values)},
            )
        )
    return Suite(f"{s}.schema", s, "table", tuple(exps), spec.phi)


def meds_plausibility_suite(now: datetime | None = None) -> Suite:
    """Clinical plausibility of MEDS events (warnings) plus the per-subject time order MEDS requires (error)."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    s = "meds_data.plausibility"
    exps = [
        Expectation(
            f"{s}/time_sorted_within_subject",
            "pair_ge",
            "error",
            "a subject's times never decrease (MEDS order; static rows first)",
            args={"column_A": "time", "column_B": "prev_time"},
        ),
        Expectation(
            f"{s}/no_future_time",
            "between",
            "warn",
            f"no event after now + {p.FUTURE_TOLERANCE}",
            column="time",
            args={"max_value": now + p.FUTURE_TOLERANCE},
        ),
        Expectation(
            f"{s}/no_event_before_birth",
            "pair_ge",
            "warn",
            f"no event more than {p.BEFORE_BIRTH_TOLERANCE} before the subject's MEDS_BIRTH",
            args={"column_A": "time", "column_B": "birth_floor"},
        ),
        Expectation(
            f"{s}/no_event_after_death",
            "pair_ge",
            "warn",
            f"no event more than {p.AFTER_DEATH_TOLERANCE.days} days after the subject's MEDS_DEATH",
            args={"column_A": "death_ceiling", "column_B": "time"},
        ),
        Expectation(
            f"{s}/code_not_blank",
            "regex",
            "error",
            "every code is a non-blank string (MEDS allows any string as a code)",
            column="code",
            args={"regex": p.ANY_CODE},
        ),
        Expectation(
            f"{s}/numeric_value_finite",
            "between",
            "warn",
            "numeric values are finite and within ±1e30",
            column="numeric_value",
            args={"min_value": -1e30, "max_value": 1e30},
        ),
    ]
    for vocab, regex in p.CODE_FORMATS.items():
        exps.append(
            Expectation(
                f"{s}/code_format/{vocab}",
                "regex",
                "warn",
                f"{vocab} codes follow {vocab}'s own format ({regex})",
                column="code",
                args={"regex": regex},
                condition={"vocabulary": vocab},
            )
        )
    ranges = f"{len(p.RANGES)} vitals and labs (quality.plausibility.RANGES)"
    exps += [
        Expectation(
            f"{s}/value_above_physiological_low",
            "pair_ge",
            "warn",
            f"{ranges} are at or above their physiological low, in the listed unit",
            args={"column_A": "numeric_value", "column_B": "range_low", "breakdown": "code"},
        ),
        Expectation(
            f"{s}/value_below_physiological_high",
            "pair_ge",
            "warn",
            f"{ranges} are at or below their physiological high, in the listed unit",
            args={"column_A": "range_high", "column_B": "numeric_value", "breakdown": "code"},
        ),
        Expectation(
            f"{s}/value_in_expected_unit",
            "pair_equal",
            "warn",
            f"{ranges} are reported in the unit their range is given in",
            args={"column_A": "unit", "column_B": "expected_unit", "breakdown": "code"},
        ),
    ]
    return Suite(s, "meds_data", "meds_timeline", tuple(exps))


def subject_locations_suite() -> Suite:
    """Split disjointness and shard exclusivity: one data file per subject, the file of its assigned split."""
    s = "meds_data.subjects"
    return Suite(
        s,
        "meds_data",
        "subject_locations",
        (
            Expectation(
                f"{s}/one_file_per_subject",
                "unique",
                "error",
                "each subject lives in exactly one data file (one shard, one split)",
                args={"column_list": ["subject_id"]},
            ),
            Expectation(
                f"{s}/has_assigned_split",
                "not_null",
                "error",
                "each subject in the data has a row in subject_splits",
                column="assigned_split",
            ),
            Expectation(
                f"{s}/file_in_assigned_split",
                "pair_equal",
                "error",
                "a subject's data file is in the split subject_splits assigns it",
                args={"column_A": "split", "column_B": "assigned_split"},
            ),
        ),
    )


def ledger_suite() -> Suite:
    s = "ledger.balance"
    return Suite(
        s,
        "ledger",
        "ledger_balance",
        (
            Expectation(
                f"{s}/in_equals_out_plus_quarantined",
                "pair_equal",
                "error",
                "records in = records out + quarantined, per asset, file and record type",
                args={"column_A": "n_in", "column_B": "n_accounted"},
            ),
            Expectation(
                f"{s}/counts_not_negative",
                "between",
                "error",
                "no negative count",
                column="n_min",
                args={"min_value": 0},
            ),
        ),
    )


def codes_coverage_suite() -> Suite:
    s = "meds_codes.coverage"
    return Suite(
        s,
        "meds_codes",
        "codes_coverage",
        (
            Expectation(
                f"{s}/every_data_code_has_metadata",
                "in_set",
                "error",
                "every code in the data has a row in codes.parquet",
                column="in_metadata",
                args={"value_set": [True]},
            ),
        ),
    )


def arrow_type_names(t: pa.DataType, nullable: bool) -> list[str]:
    """Types a column of arrow type `t` may show in pandas for the GX engine: dtype names, or for object
    columns (strings, lists) the Python type of each value (see `quality.gx_docs.to_pandas`)."""
    if pa.types.is_integer(t):
        name = t.to_pandas_dtype().__name__
        return [name, "float64", "Int64"] if nullable else [name]
    if pa.types.is_floating(t):
        return [t.to_pandas_dtype().__name__]
    if pa.types.is_timestamp(t):
        return [f"datetime64[{t.unit}]", "datetime64[ns]"]
    if pa.types.is_boolean(t):
        return ["bool"]
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return ["list"]
    return ["str"]
