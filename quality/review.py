"""The stewards' review log: accept, reject, comment on or revoke a check result or a quarantine reason.

Targets are `check:<rule>` (e.g. `check:meds_data.plausibility/no_event_after_death`, any rule in the check
store) and `quarantine:<asset>/<REASON_CODE>`. Each entry records who, when (UTC), the action and a note;
the log is append-only. A target's state is its last accept, reject or revoke (comments never change it):
accepting quiets a failed warning; rejecting says it must be fixed (it stays open); revoking withdraws either.
A failed blocking (error) rule blocks whatever a review says, and the site says so.
"""

import csv
import difflib
import getpass
import io
import json
import os
import re
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path

from quality.records import review_log_path

ACTIONS = ("accept", "reject", "comment", "revoke")
PAST = {"accept": "accepted", "reject": "rejected", "comment": "commented on", "revoke": "revoked"}
STATE_ACTIONS = ("accept", "reject", "revoke")  # a comment is kept beside the target, never changes its state
FIELDS = ("when", "who", "action", "target", "note")
_TARGET = re.compile(r"^(check:\S+|quarantine:[^/\s]+/[A-Z0-9_]+)$")


class ReviewError(ValueError):
    """A review entry is malformed or names nothing under review; the message says how to write it."""


def validate_target(target: str, known: Collection[str] | None) -> None:
    """Refuse a target of the wrong form, or (given the known targets) one that is not under review."""
    if not _TARGET.match(target):
        hint = _did_you_mean(target, known) if known else ""
        raise ReviewError(f"target must be check:<rule> or quarantine:<asset>/<REASON_CODE>, got {target!r}{hint}")
    if known is not None and target not in known:
        hint = _did_you_mean(target, known) or "; `longitude quality targets` lists them"
        raise ReviewError(f"{target} is not a check result or quarantine reason of this root{hint}")


def _did_you_mean(target: str, known: Collection[str]) -> str:
    """The closest known targets, also for a rule without its `check:` or a reason code in lower case."""
    by_folded = {k.casefold(): k for k in known}
    for guess in (target, f"check:{target}"):
        if guess.casefold() in by_folded:
            return f"; did you mean {by_folded[guess.casefold()]}?"
    close = difflib.get_close_matches(target.casefold(), list(by_folded), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(by_folded[c] for c in close)}?" if close else ""


def record(
    quality_dir: Path,
    target: str,
    action: str,
    note: str,
    who: str | None = None,
    when: datetime | None = None,
    *,
    known: Collection[str] | None = None,
    blocking: Collection[str] = (),
) -> dict:
    """Append one entry to quality/review/log.jsonl and return it. `blocking`: targets of error-level rules,
    which an acceptance would not unblock, so accepting one is refused rather than recorded to no effect."""
    validate_target(target, known)
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(ACTIONS)}")
    if action == "accept" and target in blocking:
        raise ReviewError(f"{target} is a blocking (error) rule: accepting it would not unblock it; fix the data, "
                          "or reject or comment on it")  # fmt: skip
    if action == "revoke" and target not in state(quality_dir):
        raise ReviewError(f"{target} has no acceptance or rejection to revoke")
    if not note.strip():
        raise ReviewError("a note saying why is required")
    entry = {
        "target": target,
        "action": action,
        "who": (who or "").strip() or getpass.getuser(),
        "when": (when or datetime.now(UTC)).isoformat(timespec="seconds"),
        "note": note.strip(),
    }
    path = review_log_path(quality_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as log:  # append-only: earlier entries are never rewritten
        log.write(json.dumps(entry, sort_keys=True) + "\n")
        log.flush()
        os.fsync(log.fileno())
    return entry


def history(quality_dir: Path) -> list[dict]:
    path = review_log_path(quality_dir)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def state(quality_dir: Path, entries: Iterable[dict] | None = None) -> dict[str, dict]:
    """Target -> its last accept or reject entry (a revoke clears it; comments are ignored)."""
    current: dict[str, dict] = {}
    for entry in history(quality_dir) if entries is None else entries:
        if entry["action"] in STATE_ACTIONS:
            current[entry["target"]] = entry
    return {t: e for t, e in current.items() if e["action"] != "revoke"}


def accepted(quality_dir: Path) -> dict[str, dict]:
    """Target -> its accepting entry, for targets whose state is accepted."""
    return {t: e for t, e in state(quality_dir).items() if e["action"] == "accept"}


def by_target(entries: Iterable[dict]) -> dict[str, list[dict]]:
    """Every entry of each target, oldest first (what the site shows beside the target)."""
    out: dict[str, list[dict]] = {}
    for entry in entries:
        out.setdefault(entry["target"], []).append(entry)
    return out


def attach(rows: list, current: dict[str, dict]) -> list:
    """Give each check row (quality.check_store.CheckRow) its target's current review entry."""
    for row in rows:
        row.review = current.get(row.target)
    return rows


def apply(outcomes: list, acceptances: dict[str, dict]) -> list:
    """Mark failed warnings (quality.engine.Outcome) whose rule a steward accepted; errors are never quieted."""
    for o in outcomes:
        entry = acceptances.get(f"check:{o.expectation}")
        if entry and not o.success and o.severity == "warn" and entry["action"] == "accept":
            o.accepted = {k: entry[k] for k in ("who", "when", "note")}
    return outcomes


def export(entries: list[dict], fmt: str) -> str:
    """The log as CSV or JSON text (oldest first), for hand-off outside Longitude."""
    if fmt == "json":
        return json.dumps([{k: e.get(k) for k in FIELDS} for e in entries], indent=1) + "\n"
    if fmt != "csv":
        raise ReviewError(f"export format must be csv or json, got {fmt!r}")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(entries)
    return buf.getvalue()
