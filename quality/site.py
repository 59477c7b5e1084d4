"""The stewards' site: quality/site/index.html, self-contained (inline CSS, PNG data URIs, no script, no CDN)."""

import html
from collections import defaultdict
from pathlib import Path

from quality.plots import plots
from schemas.io import write_text
from schemas.layout import Layout

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
nav a{color:#cfe3f7;margin-right:14px;text-decoration:none}main{padding:8px 24px 40px;max-width:1300px}
h2{border-bottom:2px solid #1f3b57;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:13px;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eef2f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37;font-weight:600}.err{color:#b42318;font-weight:700}.warn{color:#b54708;font-weight:600}
.quiet{color:#667085}.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px}
.b-ok{background:#dcfae6}.b-err{background:#fee4e2}.b-warn{background:#fef0c7}.b-acc{background:#eaecf0}
.status{font-size:18px;padding:10px 14px;border-radius:6px;margin:14px 0}
img{max-width:100%;border:1px solid #ddd;background:#fff;margin:6px 0}code{font-size:12px}
"""


def _e(x: object) -> str:
    return html.escape("" if x is None else str(x))


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status(o) -> str:
    if o.success:
        return '<span class="badge b-ok">pass</span>'
    if o.accepted:
        return '<span class="badge b-acc">accepted</span>'
    return (
        '<span class="badge b-err">FAIL</span>'
        if o.severity == "error"
        else '<span class="badge b-warn">warn</span>'
    )


def _checks(report) -> str:
    grouped: dict[str, list] = defaultdict(list)
    for o in report.outcomes:
        grouped[o.expectation].append(o)
    order = {"error": 0, "warn": 1}
    rows = []
    for name, outs in sorted(grouped.items(), key=lambda kv: (all(o.success for o in kv[1]), kv[0])):
        failed = [o for o in outs if not o.success]
        shown = failed[0] if failed else outs[0]
        parts = ", ".join(sorted({str(o.partition) for o in failed if o.partition is not None}))
        accepted = shown.accepted
        note = ""
        if accepted:
            note = f"accepted by {_e(accepted['who'])} on {_e(accepted['when'])}: {_e(accepted['note'])}"
        elif failed and shown.severity == "error" and f"check:{name}" in report.acceptances:
            note = '<span class="err">blocking: acceptance ignored</span>'
        elif failed and shown.severity == "warn":
            note = f"<code>longitude quality accept check:{_e(name)} --note ...</code>"
        examples = "".join(f"<div><code>{_e(ex)}</code></div>" for ex in shown.examples[:3])
        total: dict[str, int] = defaultdict(int)
        for o in failed:
            for k, v in o.breakdown.items():
                total[k] += v
        breakdown = ", ".join(f"{_e(k)}: {v}" for k, v in sorted(total.items(), key=lambda kv: -kv[1])[:6])
        rows.append(
            [
                _status(shown),
                f"<code>{_e(name)}</code><div class='quiet'>{_e(shown.doc)}</div>",
                _e(shown.severity),
                str(sum(o.unexpected_count for o in outs)),
                str(sum(o.element_count for o in outs)),
                _e(parts),
                breakdown + examples,
                note,
            ]
        )
    rows.sort(
        key=lambda r: (
            0 if "FAIL" in r[0] else 1 if "warn" in r[0] else 2 if "accepted" in r[0] else 3,
            order.get(r[2], 2),
        )
    )
    return _table(
        [
            "status",
            "expectation",
            "severity",
            "unexpected",
            "checked",
            "failing shards",
            "by code / examples (de-identified)",
            "review",
        ],
        rows,
        {3, 4},
    )


def _ledger(report) -> str:
    if report.ledger.is_empty():
        return "<p>No ledger was written.</p>"
    rows = []
    for r in report.ledger.iter_rows(named=True):
        bal = (
            '<span class="ok">balances</span>'
            if not r["unbalanced_rows"]
            else f'<span class="err">{r["unbalanced_rows"]} rows off</span>'
        )
        rows.append(
            [
                _e(r["asset"]),
                _e(r["record_type"]),
                str(r["files"]),
                str(r["n_in"]),
                str(r["n_out"]),
                str(r["n_quarantined"]),
                str(r["n_events"]),
                bal,
            ]
        )
    return _table(
        ["asset", "record type", "files", "in", "out", "quarantined", "events", "in = out + quarantined"],
        rows,
        {2, 3, 4, 5, 6},
    )


def _quarantine(report) -> str:
    if report.quarantine.is_empty():
        return "<p>Nothing is quarantined.</p>"
    rows = []
    for r in report.quarantine.iter_rows(named=True):
        target = f"quarantine:{r['asset']}/{r['reason_code']}"
        acc = report.acceptances.get(target)
        status = (
            f'<span class="badge b-acc">accepted</span> {_e(acc["who"])}, {_e(acc["when"])}: {_e(acc["note"])}'
            if acc
            else '<span class="badge b-warn">to review</span>'
        )
        rows.append(
            [
                _e(r["asset"]),
                f"<code>{_e(r['reason_code'])}</code>",
                _e(r["reason"]),
                str(r["records"]),
                str(r["files"]),
                _e(", ".join(map(str, r["positions"]))),
                status,
                f"<code>{_e(target)}</code>",
            ]
        )
    return (
        "<p>Counts and record positions only: the quarantined records are PHI and stay in "
        "<code>quarantine/</code>.</p>"
        + _table(
            ["asset", "reason code", "reason", "records", "files", "first positions", "review", "review target"],
            rows,
            {3, 4},
        )
    )


def _phi(report) -> str:
    a = report.audit
    if a is None:
        return "<p>The PHI audit did not run.</p>"
    c = a.counts()
    verdict = "No known identifier or PHI pattern found" if a.passed else f"{c['findings']} PHI hits: blocking"
    css = "b-ok" if a.passed else "b-err"
    head = (
        f'<div class="status {css}">{verdict} in {c["files_scanned"]} files, {c["cells_scanned"]:,} cells, '
        f"against {c['subjects_known']} subjects' identifiers ({a.seconds:.1f} s).</div>"
    )
    notes = "".join(f"<p class='quiet'>{_e(n)}</p>" for n in a.notes)
    rows = [
        [_e(r["path"]), _e(r["table"]), _e(r["field"]), _e(r["kind"]), str(r["n"]), str(r["first_row"])]
        for r in a.by_table()
    ]
    return (
        head
        + notes
        + (_table(["file", "table", "field", "kind", "hits", "first row"], rows, {4, 5}) if rows else "")
    )


def _history(report) -> str:
    if not report.history:
        return "<p>No review entries yet: <code>longitude quality accept TARGET --note '...'</code>.</p>"
    rows = [
        [_e(h["when"]), _e(h["who"]), _e(h["action"]), f"<code>{_e(h['target'])}</code>", _e(h["note"])]
        for h in reversed(report.history)
    ]
    return _table(["when (UTC)", "who", "action", "target", "note"], rows)


def render(report, images: dict[str, str], has_docs: bool) -> str:
    ok = report.passed
    n_warn = len(report.warnings)
    status = (
        f'<div class="status {"b-ok" if ok else "b-err"}">'
        f"{'No blocking failure' if ok else f'{len(report.blocking)} blocking expectation failures'}"
        f"{'' if report.audit is None or report.audit.passed else '; PHI audit failed'}; "
        f"{n_warn} open warnings; {len(report.outcomes)} expectation results.</div>"
    )
    docs = (
        '<p><a href="gx/index.html">Great Expectations Data Docs</a>: every suite of the de-identified tables, '
        "as Great Expectations ran it.</p>"
        if has_docs
        else "<p>Data Docs were not built (--no-gx).</p>"
    )
    unreg = (
        "<p class='warn'>Parquet files no schema describes: " + _e(", ".join(report.unregistered)) + "</p>"
        if report.unregistered
        else ""
    )
    figs = "".join(f"<h3>{_e(t)}</h3><img alt='{_e(t)}' src='{uri}'>" for t, uri in images.items())
    sections = [
        ("checks", "Expectations", _checks(report)),
        ("phi", "PHI audit", _phi(report)),
        ("ledger", "Ledger per source", _ledger(report)),
        ("quarantine", "Quarantine by reason", _quarantine(report)),
        ("plots", "Plots", figs or "<p>No MEDS data yet.</p>"),
        ("review", "Review log", _history(report)),
    ]
    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t, _ in sections) + '<a href="gx/index.html">Data Docs</a>'
    body = "".join(f'<h2 id="{k}">{_e(t)}</h2>{s}' for k, t, s in sections)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Longitude quality</title>"
        f"<style>{_CSS}</style></head><body><header><h1>Longitude: data quality and stewardship</h1>"
        f"<nav>{nav}</nav></header><main>{status}{docs}{unreg}{body}</main></body></html>"
    )


def write_site(report, site: Path) -> Path:
    site = Path(site)
    images = plots(Layout(report.root))
    has_docs = (site / "gx" / "index.html").exists()
    return write_text(render(report, images, has_docs), site / "index.html")
