"""Feature specs: YAML in, compiled against a code vocabulary into numbered feature columns.

A spec lists feature groups (a code selector, aggregations, windows) and static features (age, sex). Compiling
resolves the selectors against the codes of the fit split (train, so held-out codes never shape the columns)
and numbers every output column: `<key>/<window>/<agg>`, `static/age_years`, `static/<code>`.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from featurestore.durations import format_duration, parse_duration
from schemas.meds import DATA_SCHEMA

SPECS_DIR = Path(__file__).parent / "specs"
DEFAULT_SPEC = "default"

AGGS = ("count", "present", "last", "mean", "min", "max", "time_since_last")
VALUE_AGGS = frozenset({"last", "mean", "min", "max"})  # need numeric_value; null when no value in the window
ZERO_DEFAULT_AGGS = frozenset({"count", "present"})  # 0 when nothing is in the window, never null
AGE_FEATURE = "static/age_years"
GROUP_PREFIX = "GROUP//"


@dataclass(frozen=True, kw_only=True, slots=True)
class CodeSelector:
    """Which codes: every code, exact codes, code prefixes and/or one regex (any match selects); `set` names
    code sets (featurestore/codesets/) whose codes, prefixes and regexes are added."""

    every: bool = False
    codes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    regex: str | None = None

    @classmethod
    def parse(cls, raw) -> "CodeSelector":
        if raw == "all":
            return cls(every=True)
        if isinstance(raw, str):
            return cls(codes=(raw,))
        if isinstance(raw, list):
            return cls(codes=tuple(str(c) for c in raw))
        if isinstance(raw, dict):
            unknown = set(raw) - {"codes", "prefix", "regex", "set"}
            if unknown:
                raise ValueError(f"unknown code selector keys {sorted(unknown)}; use codes, prefix, regex, set")
            if "set" in raw:  # named code sets (featurestore/codesets/) expand into the other keys
                from featurestore.codesets import expand_sets

                raw = expand_sets(raw)
            prefixes = raw.get("prefix") or ()
            prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(prefixes)
            sel = cls(codes=tuple(raw.get("codes") or ()), prefixes=prefixes, regex=raw.get("regex"))
            if sel.regex is not None:
                re.compile(sel.regex)
            if not (sel.codes or sel.prefixes or sel.regex):
                raise ValueError("a code selector needs codes, prefix or regex")
            return sel
        raise ValueError(f"bad code selector {raw!r}: use 'all', a list of codes, or {{prefix|regex|codes|set}}")

    def expr(self, column: str = "code") -> pl.Expr:
        """Boolean polars expression: does the code match?"""
        if self.every:
            return pl.lit(True)
        col = pl.col(column)
        out = col.is_in(list(self.codes)) if self.codes else pl.lit(False)
        for p in self.prefixes:
            out = out | col.str.starts_with(p)
        if self.regex is not None:
            out = out | col.str.contains(self.regex)
        return out

    def matches(self, code: str) -> bool:
        return (
            self.every
            or code in self.codes
            or any(code.startswith(p) for p in self.prefixes)
            or (self.regex is not None and re.search(self.regex, code) is not None)
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureGroup:
    """Aggregations of the events of selected codes over windows; one key per code, or one pooled key."""

    name: str
    codes: CodeSelector
    aggs: tuple[str, ...]
    windows: tuple[int | None, ...]  # microseconds; None = all history
    pool: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureSpec:
    name: str
    groups: tuple[FeatureGroup, ...]
    description: str = ""
    inclusive: bool = False  # True: events stamped exactly at the prediction time are usable
    age: bool = True
    static_codes: CodeSelector | None = field(default_factory=lambda: CodeSelector(prefixes=("GENDER//",)))
    fit_split: str = "train"
    min_count: int = 1
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True).encode()).hexdigest()[:12]


def parse_spec(raw: dict) -> FeatureSpec:
    """Validate a spec dict (as loaded from YAML)."""
    allowed = {"name", "description", "inclusive", "static", "groups", "fit_split", "min_count"}
    if unknown := set(raw) - allowed:
        raise ValueError(f"unknown spec keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    if not raw.get("name"):
        raise ValueError("a feature spec needs a name")
    static = raw.get("static") or {}
    if unknown := set(static) - {"age", "codes"}:
        raise ValueError(f"unknown static keys {sorted(unknown)}; use age, codes")
    groups = []
    for i, g in enumerate(raw.get("groups") or ()):
        if unknown := set(g) - {"name", "codes", "aggs", "windows", "pool"}:
            raise ValueError(f"group {i}: unknown keys {sorted(unknown)}")
        aggs = tuple(g.get("aggs") or ())
        if not aggs or any(a not in AGGS for a in aggs):
            raise ValueError(f"group {g.get('name', i)!r}: aggs must be a non-empty subset of {AGGS}, got {aggs}")
        windows = tuple(parse_duration(w, allow_all=True) for w in (g.get("windows") or ("all",)))
        if any(w is not None and w <= 0 for w in windows) or len(set(windows)) != len(windows):
            raise ValueError(f"group {g.get('name', i)!r}: windows must be positive and distinct")
        groups.append(
            FeatureGroup(
                name=str(g.get("name", f"group{i}")),
                codes=CodeSelector.parse(g.get("codes", "all")),
                aggs=aggs,
                windows=windows,
                pool=bool(g.get("pool", False)),
            )
        )
    static_codes = static.get("codes", {"prefix": ["GENDER//"]})
    return FeatureSpec(
        name=str(raw["name"]),
        description=str(raw.get("description", "")),
        inclusive=bool(raw.get("inclusive", False)),
        age=bool(static.get("age", True)),
        static_codes=None if static_codes in (None, False, []) else CodeSelector.parse(static_codes),
        groups=tuple(groups),
        fit_split=str(raw.get("fit_split", "train")),
        min_count=int(raw.get("min_count", 1)),
        raw=raw,
    )


def load_spec(name_or_path: str | Path | None = None) -> FeatureSpec:
    """A shipped spec by name (`default`, `all_codes`), or a YAML file."""
    name_or_path = name_or_path or DEFAULT_SPEC
    path = Path(name_or_path)
    if not path.is_file():
        shipped = SPECS_DIR / f"{name_or_path}.yaml"
        if not shipped.is_file():
            names = ", ".join(shipped_specs())
            raise FileNotFoundError(
                f"no feature spec {str(name_or_path)!r}: not a file, nor a shipped spec ({names})"
            )
        path = shipped
    return parse_spec(yaml.safe_load(path.read_text()))


def shipped_specs() -> list[str]:
    return sorted(p.stem for p in SPECS_DIR.glob("*.yaml"))


@dataclass(frozen=True, slots=True)
class CompiledGroup:
    group: FeatureGroup
    keys: tuple[str, ...]  # codes, or ("GROUP//<name>",) when pooled
    numeric: tuple[bool, ...]  # per key: does it carry numeric values (value aggs only then)
    feature_ids: np.ndarray  # (n_keys, n_windows, n_aggs) int32; -1 = no such column

    def key_expr(self, column: str = "code") -> pl.Expr:
        """The key index of an event's code in this group (null: not in the group)."""
        if self.group.pool:
            return pl.when(self.group.codes.expr(column)).then(pl.lit(0, pl.Int32)).otherwise(None)
        mapping = {k: i for i, k in enumerate(self.keys)}
        return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.Int32).cast(pl.Int32)


@dataclass(frozen=True, slots=True)
class CompiledSpec:
    spec: FeatureSpec
    feature_names: tuple[str, ...]
    groups: tuple[CompiledGroup, ...]
    age_id: int | None
    static_codes: tuple[str, ...]
    static_ids: tuple[int, ...]

    @property
    def zero_default(self) -> np.ndarray:
        """Per column: True when an absent value means 0 (count, present, static codes), else null."""
        out = np.zeros(len(self.feature_names), dtype=bool)
        for name_id, name in enumerate(self.feature_names):
            out[name_id] = name.rsplit("/", 1)[-1] in ZERO_DEFAULT_AGGS or (
                name.startswith("static/") and name != AGE_FEATURE
            )
        return out

    def to_json(self) -> str:
        return json.dumps(
            {
                "spec": self.spec.raw,
                "groups": [{"keys": list(g.keys), "numeric": list(g.numeric)} for g in self.groups],
                "static_codes": list(self.static_codes),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> "CompiledSpec":
        data = json.loads(text)
        spec = parse_spec(data["spec"])
        keys = [(tuple(g["keys"]), tuple(g["numeric"])) for g in data["groups"]]
        return _number(spec, keys, tuple(data["static_codes"]))


def vocabulary(data_glob: str | list[str]) -> pl.DataFrame:
    """code, n (rows), n_numeric (rows with a numeric value), timed (any row with a time) over the files.

    No files (an empty root) give an empty vocabulary, so every spec compiles to its defaults.
    """
    events = pl.scan_parquet(data_glob) if data_glob else pl.from_arrow(DATA_SCHEMA.empty_table()).lazy()
    return (
        events.group_by("code")
        .agg(
            n=pl.len(),
            n_numeric=pl.col("numeric_value").is_not_null().sum(),
            timed=pl.col("time").is_not_null().any(),
        )
        .sort("code")
        .collect()
    )


def compile_spec(spec: FeatureSpec, vocab: pl.DataFrame) -> CompiledSpec:
    """Resolve selectors against the vocabulary (codes with at least min_count rows) and number the columns."""
    vocab = vocab.filter(pl.col("n") >= spec.min_count)
    timed = vocab.filter(pl.col("timed"))
    keys = []
    for g in spec.groups:
        hits = timed.filter(g.codes.expr())
        if g.pool:
            keys.append(((GROUP_PREFIX + g.name,), (bool(hits["n_numeric"].sum()),)))
        else:
            keys.append((tuple(hits["code"].to_list()), tuple((hits["n_numeric"] > 0).to_list())))
    static = () if spec.static_codes is None else tuple(vocab.filter(spec.static_codes.expr())["code"].to_list())
    return _number(spec, keys, static)


def _number(spec: FeatureSpec, keys: list, static_codes: tuple[str, ...]) -> CompiledSpec:
    names: list[str] = []
    index: dict[str, int] = {}

    def add(name: str) -> int:
        if name in index:
            return -1  # the same column from an earlier group: computed once
        index[name] = len(names)
        names.append(name)
        return index[name]

    age_id = add(AGE_FEATURE) if spec.age else None
    static_ids = tuple(add(f"static/{c}") for c in static_codes)
    groups = []
    for g, (gkeys, numeric) in zip(spec.groups, keys, strict=True):
        ids = np.full((len(gkeys), len(g.windows), len(g.aggs)), -1, dtype=np.int32)
        for k, key in enumerate(gkeys):
            for w, window in enumerate(g.windows):
                for a, agg in enumerate(g.aggs):
                    if agg in VALUE_AGGS and not numeric[k]:
                        continue
                    ids[k, w, a] = add(f"{key}/{format_duration(window)}/{agg}")
        groups.append(CompiledGroup(g, gkeys, numeric, ids))
    return CompiledSpec(spec, tuple(names), tuple(groups), age_id, static_codes, static_ids)
