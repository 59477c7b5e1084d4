"""What the quality layer persists under `quality/`: PHI audit findings, check outcomes, the review log.

Paths (relative to the root):
    quality/phi_audit/findings.parquet   one row per PHI audit hit (PHI_FINDINGS_SCHEMA)
    quality/phi_audit/summary.json       counts per kind and table, files and cells scanned
    quality/checks/<asset>/<check>/<partition>.parquet   every check's stored result (schemas.checks)
    quality/results/latest.json          the stored check results as the last report read them, with reviews
    quality/review/log.jsonl             the stewards' review log: append-only, one JSON object a line
    quality/site/index.html              the stewards' site (GX Data Docs under quality/site/gx/; the review log
                                         as reviews.csv and reviews.json beside it)
    quality/site_cache/                  what the site's pictures were drawn from (quality.picture_cache): the
                                         plots with their key, each timeline page's key, the Vega bundle

Invariants:
1. Nothing here holds a value from a PHI zone: findings name the file, row, column and kind of identifier,
   never the value; examples in outcomes come only from de-identified tables (pseudonymous subject_id,
   shifted times, codes and numbers).
2. The review log is only appended to; the current state of a target is its last entry.
"""

from pathlib import Path

from schemas.audit import PHI_FINDINGS_SCHEMA

__all__ = ["CATALOG_KIND", "KNOWN_KINDS", "PATTERN_KINDS", "PHI_FINDINGS_SCHEMA"]

# The findings table's schema lives with every other table's, in schemas/.


# What the PHI audit looks for: known identifiers of any subject, and residual patterns of anyone's.
KNOWN_KINDS = ("name", "identifier", "phone", "address", "birth_date", "birth_time")
PATTERN_KINDS = ("ssn_pattern", "phone_pattern", "email_pattern")
CATALOG_KIND = "catalog_view_reads_phi_zone"


def findings_path(quality_dir: Path) -> Path:
    return Path(quality_dir) / "phi_audit" / "findings.parquet"


def audit_summary_path(quality_dir: Path) -> Path:
    return Path(quality_dir) / "phi_audit" / "summary.json"


def results_path(quality_dir: Path) -> Path:
    return Path(quality_dir) / "results" / "latest.json"


def review_log_path(quality_dir: Path) -> Path:
    return Path(quality_dir) / "review" / "log.jsonl"


def site_dir(quality_dir: Path) -> Path:
    return Path(quality_dir) / "site"


def site_cache_dir(quality_dir: Path) -> Path:
    """Beside the site, not in it: the offline hand-off copies quality/site/ and nothing of this."""
    return Path(quality_dir) / "site_cache"
