"""`longitude quality` on a MEDS set holding +-inf values (ours quarantines them; one from elsewhere may not):
the report and site are written, and the values are flagged by the finite-value expectation, not a crash."""

from pathlib import Path

import polars as pl

from quality.report import run_quality
from tests.quality.conftest import build_root


def test_quality_survives_and_flags_infinite_values(tmp_path: Path):
    root = build_root(tmp_path / "root")
    df = root.data("train", 0)
    row = pl.int_range(pl.len())
    planted = (
        pl.when(row == 3).then(float("inf")).when(row == 4).then(float("-inf")).otherwise(pl.col("numeric_value"))
    )
    root.write_data("train", 0, df.with_columns(planted.cast(pl.Float32).alias("numeric_value")))
    report = run_quality(root.path, keyring=None, gx=False, phi_audit=False)
    assert (root.path / "quality" / "site" / "index.html").exists()
    finite = [r for r in report.rows if r.rule.endswith("numeric_value_finite")]
    assert finite and not all(r.passed for r in finite)


def test_the_finite_value_rule_says_the_bound_it_checks():
    """A finite float32 such as 3e38 breaks the rule too: its text must say so, not call the value infinite."""
    from quality.expectations import meds_plausibility_suite

    [rule] = [e for e in meds_plausibility_suite().expectations if e.name.endswith("numeric_value_finite")]
    bound = rule.args["max_value"]
    assert rule.args["min_value"] == -bound and f"{bound:.0e}".replace("+", "") in rule.doc
