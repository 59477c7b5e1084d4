"""Turning a quality RuleResult into a Dagster AssetCheckResult (counts as metadata, never values)."""

import dagster as dg

from quality.integrity import RuleResult


def to_check_result(result: RuleResult, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR):
    return dg.AssetCheckResult(
        passed=result.passed,
        severity=severity,
        description=result.summary,
        metadata={k: dg.MetadataValue.int(v) for k, v in result.counts.items()},
    )
