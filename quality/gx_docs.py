"""The Great Expectations engine: the same suites as GX 1.x expectation suites, run on pandas, with Data Docs.

Great Expectations is imported inside these functions only (it takes seconds to import). Views of PHI-zone
tables run with result_format BOOLEAN_ONLY, so no value of theirs reaches the Data Docs.
"""

import re
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from quality.engine import Outcome, View
from quality.expectations import GX_TYPES, Expectation, Suite

SITE_NAME = "longitude"
GX_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
VENDOR = Path(__file__).parent / "static" / "vendor"
_BT = "https://unpkg.com/bootstrap-table@1.19"
# CDN address (prefix) -> vendored file; None drops the tag (see static/vendor/README.md).
CDN_MAP: dict[str, str | None] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    f"{_BT}.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table-filter-control.min.js"
    ),
    f"{_BT}.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker.min.css"
    ),
}


def to_gx_expectation(e: Expectation) -> Any:
    """The GX 1.x expectation object for one of ours."""
    import great_expectations.expectations as gxe

    a = e.args
    kw: dict[str, Any] = {}
    if e.kind == "columns_match" and a.get("extra_ok"):  # GX has no ordered prefix rule: the set, not exact
        return _finish(gxe.ExpectTableColumnsToMatchSet(column_set=a["column_list"], exact_match=False), e)
    if e.kind == "columns_match":
        kw = {"column_list": a["column_list"]}
    elif e.kind == "type_is":
        kw = {"column": e.column, "type_list": a["pandas_types"]}
    elif e.kind == "not_null":
        kw = {"column": e.column}
    elif e.kind == "unique":
        if len(a["column_list"]) == 1:
            return _finish(gxe.ExpectColumnValuesToBeUnique(column=a["column_list"][0]), e)
        kw = {"column_list": a["column_list"]}
    elif e.kind == "in_set":
        kw = {"column": e.column, "value_set": a["value_set"]}
    elif e.kind == "regex":
        kw = {"column": e.column, "regex": a["regex"]}
    elif e.kind == "between":
        kw = {"column": e.column, "min_value": a.get("min_value"), "max_value": a.get("max_value")}
    elif e.kind == "pair_ge":
        kw = {
            "column_A": a["column_A"],
            "column_B": a["column_B"],
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        }
    elif e.kind == "pair_equal":
        kw = {"column_A": a["column_A"], "column_B": a["column_B"], "ignore_row_if": "either_value_is_missing"}
    if e.condition:
        kw["row_condition"] = " & ".join(f"{c}=={v!r}" for c, v in e.condition.items())
        kw["condition_parser"] = "pandas"
    return _finish(getattr(gxe, GX_TYPES[e.kind])(**kw), e)


def _finish(expectation: Any, e: Expectation) -> Any:
    from great_expectations.expectations.metadata_types import FailureSeverity

    expectation.meta = {"longitude": e.name, "severity": e.severity}
    expectation.notes = e.doc
    expectation.severity = FailureSeverity.CRITICAL if e.severity == "error" else FailureSeverity.WARNING
    return expectation


def to_gx_suite(suite: Suite) -> Any:
    import great_expectations as gx

    return gx.ExpectationSuite(name=suite.name, expectations=[to_gx_expectation(e) for e in suite.expectations])


def run_gx(
    jobs: list[tuple[str, Suite, View, str | None]], docs_dir: Path | None = None, *, progress: bool = False
) -> list[Outcome]:
    """Validate each (unique label, suite, view, partition) with GX; with `docs_dir`, build Data Docs there.
    GX's per-metric progress bars (hundreds of lines) are off unless `progress`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=progress, metric_calculations=progress)
    if docs_dir is not None:
        docs_dir = Path(docs_dir)
        shutil.rmtree(docs_dir, ignore_errors=True)
        context.add_data_docs_site(
            site_name=SITE_NAME,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            },
        )
    source = context.data_sources.add_pandas("longitude")
    outcomes: list[Outcome] = []
    for i, (label, suite, view, partition) in enumerate(jobs):
        batch = source.add_dataframe_asset(f"{i:03d}_{label}").add_batch_definition_whole_dataframe("all")
        gx_suite = context.suites.add(_named(suite, label))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=label, data=batch, suite=gx_suite)
        )
        result_format = (
            "BOOLEAN_ONLY" if suite.phi else {"result_format": "SUMMARY", "partial_unexpected_count": 5}
        )
        result = definition.run(batch_parameters={"dataframe": to_pandas(view)}, result_format=result_format)
        outcomes += _outcomes(suite, result, partition)
    if docs_dir is not None:
        context.build_data_docs(site_names=[SITE_NAME])
        make_offline(docs_dir)
    return outcomes


def to_pandas(view: View) -> Any:
    """pandas frame for GX: strings and lists as object columns of Python values (pandas 3 would give `str`
    dtype and numpy arrays, which GX's type rules do not know)."""
    import pandas as pd

    df = view.frame.to_pandas()
    for col, dtype in zip(view.frame.columns, view.frame.dtypes, strict=True):
        if dtype == pl.String:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
        elif isinstance(dtype, pl.List):
            df[col] = pd.Series(view.frame[col].to_list(), index=df.index, dtype=object)
    return df


def _named(suite: Suite, label: str) -> Any:
    gx_suite = to_gx_suite(suite)
    gx_suite.name = label
    return gx_suite


def _outcomes(suite: Suite, result: Any, partition: str | None) -> list[Outcome]:
    by_name = {e.name: e for e in suite.expectations}
    out = []
    for r in result.results:
        e = by_name[r.expectation_config.meta["longitude"]]
        res = r.result or {}
        n = int(res.get("element_count") or 0)
        bad = int(res.get("unexpected_count") or 0)
        if not r.success and not bad:
            bad = 1  # table-level rules (columns) and BOOLEAN_ONLY results carry no counts
        out.append(
            Outcome(suite.name, e.name, e.kind, e.severity, e.doc, suite.table, bool(r.success), n, bad, partition)
        )
    return out


_EXTERNAL = re.compile(r"https?://[^\s\"'<>()]+")
_ALLOWED = (
    "http://www.w3.org/",  # XML namespaces: identifiers, never fetched
    # Strings inside the Vega bundle inlined in timelines/ pages: a schema id, an issue link in an error message,
    # the editor link of the actions menu (switched off). Never fetched: tests/quality/test_timeline.py loads a
    # page with every request to another host aborted and recorded.
    "https://vega.github.io/schema/",
    "https://github.com/vega/vega-lite/issues/",
    "https://vega.github.io/editor/",
)


def make_offline(site: Path) -> None:
    """Point every CDN asset of the GX pages at vendored copies, and drop links to other hosts."""
    vendor = Path(site) / "vendor"
    shutil.copytree(VENDOR, vendor, dirs_exist_ok=True)
    for css in (Path(site) / "static" / "styles").glob("*.css"):
        text = css.read_text(encoding="utf-8").replace(GX_IMAGES + "full_logo_dark.png", "../images/logo-long.png")
        css.write_text(text.replace(GX_IMAGES, "../images/"), encoding="utf-8")
    for page in Path(site).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        up = "../" * (len(page.relative_to(site).parts) - 1)
        for url, local in CDN_MAP.items():
            if local is not None:
                html = html.replace(url, f"{up}vendor/{local}")
        html = html.replace(GX_IMAGES, f"{up}static/images/")  # GX ships its logo in the site's static/
        # The CDN tags pin subresource-integrity hashes of the CDN builds; vendored files are checked in instead.
        html = re.sub(r'\s(integrity|crossorigin)="[^"]*"', "", html)
        html = _drop_external(html)
        page.write_text(html, encoding="utf-8")


def _drop_external(html: str) -> str:
    """Remove tags that load from other hosts; turn links to them into plain text."""
    html = re.sub(r"<(script|link)\b[^>]*https?://(?!www\.w3\.org/)[^>]*>(\s*</script>)?", "", html)
    html = re.sub(r"<img\b[^>]*https?://(?!www\.w3\.org/)[^>]*>", "", html)
    html = re.sub(r'\shref="https?://(?!www\.w3\.org/)[^"]*"', "", html)
    html = re.sub(r"\shref='https?://(?!www\.w3\.org/)[^']*'", "", html)
    return _EXTERNAL.sub(
        lambda m: m.group(0) if m.group(0).startswith(_ALLOWED) else m.group(0).split("://")[1], html
    )


def external_references(site: Path) -> list[tuple[str, str]]:
    """(file, address) of every http(s) address in the site's html/css/js outside comments: must be empty."""
    found = []
    for path in sorted(Path(site).rglob("*")):
        if path.suffix not in (".html", ".htm", ".css", ".js", ".svg") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # license headers of vendored files
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        for m in _EXTERNAL.finditer(text):
            if not m.group(0).startswith(_ALLOWED):
                found.append((str(path.relative_to(site)), m.group(0)))
    return found
