"""Stateless online retrieval: each call reads its subjects' rows from a key-value backend, one version whole.

A call reads the version pointer and the subjects' values in one consistent read (OnlineBackend.get_many),
builds an OnlineStore over just those rows and answers with the same lookups as the in-memory store, so the
values are the offline ones. Nothing is loaded at start; the only memo is the compiled spec of each version
seen (versions are immutable), so a server restarts at once and a new version is served on its next call.
"""

from datetime import datetime
from threading import Lock

import numpy as np
import polars as pl

from featurestore.online import BIRTH_GROUP, STATIC_GROUP, OnlineStore
from featurestore.online_backend import OnlineBackend
from featurestore.online_records import from_values
from featurestore.spec import CompiledSpec
from featurestore.state import STATE_COLUMNS, GroupState

_SPEC_MEMO = 8  # compiled specs kept (by version); a few publishes' worth


def store_from_records(subject_ids: np.ndarray, records: np.ndarray, cs: CompiledSpec) -> OnlineStore:
    """An OnlineStore over stored rows (ascending subject id; per subject in group, key, time order)."""
    groups: list[GroupState | None] = []
    for i in range(len(cs.groups)):
        mask = records["group"] == i
        if not mask.any():
            groups.append(None)
            continue
        part = records[mask]
        columns = {"subject_id": subject_ids[mask], **{c: part[c] for c in STATE_COLUMNS if c != "subject_id"}}
        groups.append(GroupState.from_columns(columns))
    birth_mask = records["group"] == BIRTH_GROUP
    birth = dict(zip(subject_ids[birth_mask].tolist(), records["time"][birth_mask].tolist(), strict=True))
    static: dict[int, list[tuple[int, int]]] = {}
    static_mask = records["group"] == STATIC_GROUP
    for sid, t, key in zip(
        subject_ids[static_mask].tolist(),
        records["time"][static_mask].tolist(),
        records["key"][static_mask].tolist(),
        strict=True,
    ):
        static.setdefault(sid, []).append((t, key))
    return OnlineStore(cs, groups, birth, static, np.where(cs.zero_default, 0.0, np.nan).astype(np.float32))


class OnlineReader:
    """Features of subjects as of now or a given time, read per call from `backend` (the published version)."""

    def __init__(self, backend: OnlineBackend, spec: str = "default") -> None:
        self.backend = backend
        self.spec = spec
        self._specs: dict[str, CompiledSpec] = {}
        self._lock = Lock()

    def _compiled(self, version: str) -> CompiledSpec:
        with self._lock:
            cs = self._specs.get(version)
        if cs is None:
            cs = CompiledSpec.from_json(self.backend.compiled(self.spec, version))
            with self._lock:
                if len(self._specs) >= _SPEC_MEMO:
                    self._specs.pop(next(iter(self._specs)))
                self._specs[version] = cs
        return cs

    def for_subjects(self, subject_ids: list[int]) -> OnlineStore:
        """An in-memory store over these subjects' rows of one published version (read now)."""
        snap = self.backend.get_many(self.spec, [int(s) for s in subject_ids])
        sids, records = from_values(snap.values)
        return store_from_records(sids, records, self._compiled(snap.version))

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.for_subjects([]).feature_names

    def lookup(self, subject_id: int, as_of: datetime | None = None) -> dict[str, float]:
        """Non-default features of one subject (OnlineStore.lookup, from the store)."""
        return self.for_subjects([subject_id]).lookup(subject_id, as_of)

    def vector(self, subject_id: int, as_of: datetime | None = None) -> np.ndarray:
        """All features of one subject as a float32 vector over feature_names (OnlineStore.vector)."""
        return self.for_subjects([subject_id]).vector(subject_id, as_of)

    def get(self, subject_ids: list[int], as_of: datetime | list[datetime] | None = None) -> pl.DataFrame:
        """Wide features of several subjects, all from one version (OnlineStore.get)."""
        return self.for_subjects(list(subject_ids)).get(subject_ids, as_of)
