"""Checks of the model artifacts: a run's tokenizer copy is intact and matches the tokens it was trained on.

A model run's tokenizer Parquet files are artifacts, not data tables (quality.tables leaves models/ out of
the table inventory); this check is what validates them.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.checks_util import store_rule
from pipelines.defs.resources import LongitudeResource
from quality.integrity import RuleResult


@dg.asset_check(asset="timeline_model", blocking=True)
def timeline_model_tokenizer_intact(
    context: dg.AssetCheckExecutionContext, longitude: LongitudeResource
) -> dg.AssetCheckResult:
    """Every run under models/ has a tokenizer whose files match their tokenizer.json fingerprint."""
    root = Path(longitude.root).resolve()
    return store_rule(context, root, runs_intact(root / "models"), failed_key="broken_runs", checked_key="runs")


def runs_intact(models: Path) -> RuleResult:
    """Each run directory (with a run.json) loads its tokenizer with a matching fingerprint."""
    from model.checkpoint import TOKENIZER_DIR
    from model.tokenizer.vocab import Tokenizer

    runs = sorted(p.parent for p in models.glob("*/run.json")) if models.is_dir() else []
    broken = []
    for run in runs:
        try:
            Tokenizer.load(run / TOKENIZER_DIR)
        except (OSError, ValueError, KeyError) as err:  # missing file, fingerprint mismatch, bad tokenizer.json
            broken.append({"run": run.name, "problem": type(err).__name__})
    counts = {"runs": len(runs), "broken_runs": len(broken)}
    if broken:
        return RuleResult(False, f"{len(broken)} of {len(runs)} model runs have a missing or altered tokenizer",
                          counts, broken[:5])  # fmt: skip
    return RuleResult(True, f"{len(runs)} model runs, each tokenizer matches its fingerprint", counts)
