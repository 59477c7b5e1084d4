"""The stewards' review log: accept a warning or a quarantine reason with a note; append-only, versioned.

Targets are `check:<expectation name>` (e.g. `check:meds_data.plausibility/no_event_after_death`) and
`quarantine:<asset>/<REASON_CODE>`. Each entry records who, when (UTC), the action (accept or revoke) and
why; the state of a target is its last entry, and the whole history stays in the log and on the site.
Accepting only quiets warnings: a failed blocking (error) expectation still blocks, and the site says so.
"""

import getpass
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from quality.engine import Outcome
from quality.records import review_log_path

ACTIONS = ("accept", "revoke")
_TARGET = re.compile(r"^(check:\S+|quarantine:[^/\s]+/[A-Z0-9_]+)$")


class ReviewError(ValueError):
    """A review entry is malformed; the message says how to write it."""


def record(
    quality_dir: Path, target: str, action: str, note: str, who: str | None = None, when: datetime | None = None
) -> dict:
    """Append one entry to quality/review/log.jsonl and return it."""
    if not _TARGET.match(target):
        raise ReviewError(
            f"target must be check:<expectation> or quarantine:<asset>/<REASON_CODE>, got {target!r}"
        )
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {ACTIONS}")
    if not note.strip():
        raise ReviewError("a note saying why is required")
    entry = {
        "target": target,
        "action": action,
        "who": who or getpass.getuser(),
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


def accepted(quality_dir: Path) -> dict[str, dict]:
    """Target -> its accepting entry, for targets whose last entry accepts them."""
    state: dict[str, dict] = {}
    for entry in history(quality_dir):
        state[entry["target"]] = entry
    return {t: e for t, e in state.items() if e["action"] == "accept"}


def apply(outcomes: list[Outcome], acceptances: dict[str, dict]) -> list[Outcome]:
    """Mark failed warnings whose expectation a steward accepted; errors are never quieted."""
    for o in outcomes:
        entry = acceptances.get(f"check:{o.expectation}")
        if entry and not o.success and o.severity == "warn":
            o.accepted = {k: entry[k] for k in ("who", "when", "note")}
    return outcomes
