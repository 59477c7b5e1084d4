"""Golden examples: for each pure transform, small checked-in inputs and the exact output they must give.

Layout (the MEDS-Transforms habit): `tests/golden/<transform>/<case>/` holds `in.*` (the input; `in/` when it is
several files, `labels.csv` beside it for features), an optional `cfg.yaml` (the transform's settings: a
tables mapping, a tokenizer config, a feature spec) and `out.json` (the expected output, readable and diffable). Each transform
kind has one parametrized test that collects its case folders, so adding a case means adding a folder.

Regenerate after an intended change, then read the diff before committing it:

    LONGITUDE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/golden
    git diff tests/golden

A case folder without `out.json` fails until it is generated this way. Every input is synthetic.
"""

import json
import math
import os
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

HERE = Path(__file__).parent
UPDATE = os.environ.get("LONGITUDE_UPDATE_GOLDEN", "") in ("1", "true", "yes")
# A fixed, synthetic secret: surrogates and pseudonyms in the golden outputs depend on it.
GOLDEN_SECRET = b"golden-secret-7f3a9c1e5b2d8f4a6c0e"


def _cases(kind: str) -> list:
    folders = sorted(p for p in (HERE / kind).iterdir() if p.is_dir()) if (HERE / kind).is_dir() else []
    return [pytest.param(p, id=p.name) for p in folders]


def _plain(value: object) -> object:
    """JSON-ready, stable across platforms: times as ISO text, floats to 6 significant digits."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return value if not math.isfinite(value) or value == 0 else float(f"{value:.6g}")
    return value


def _cfg(case: Path) -> dict:
    path = case / "cfg.yaml"
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def _compare(case: Path, actual: object) -> None:
    path = case / "out.json"
    text = json.dumps(_plain(actual), indent=1, ensure_ascii=False) + "\n"
    if UPDATE:
        path.write_text(text)
        return
    assert path.exists(), f"{path} is missing: run with LONGITUDE_UPDATE_GOLDEN=1 and review it"
    assert json.loads(text) == json.loads(path.read_text()), f"{case.relative_to(HERE)} differs from out.json"


def _rows(frame: pl.DataFrame) -> list[dict]:
    return frame.to_dicts()


# --- FHIR resource -> events (pipelines.defs.fhir.extract) -----------------------------------------------------


def _fhir(case: Path) -> object:
    from pipelines.defs.fhir.extract import EXTRACTORS, MEDICATION_EXTRACTORS, check_events
    from pipelines.defs.fhir.primitives import InvalidRecordError

    resource = json.loads((case / "in.json").read_text())
    rtype = resource["resourceType"]
    try:
        if rtype in MEDICATION_EXTRACTORS:
            contained = {c.get("id"): c for c in resource.get("contained") or () if isinstance(c, dict)}
            patient, events = MEDICATION_EXTRACTORS[rtype](resource, contained)
        else:
            patient, events = EXTRACTORS[rtype](resource)
        check_events(events, rtype)
    except InvalidRecordError as err:
        return {"rejected": {"reason_code": err.reason_code, "reason": err.reason}}
    keys = ("time", "code", "numeric_value", "text_value", "unit", "description")
    return {"patient": patient, "events": [dict(zip(keys, e, strict=True)) for e in events]}


# --- a tables mapping on small CSVs -> events (pipelines.defs.tables.engine) ------------------------------------


def _tables(case: Path, tmp_path: Path) -> object:
    from deid.pseudonym import Keyring
    from pipelines.defs.tables.engine import map_source
    from pipelines.defs.tables.mapping import load_mapping
    from pipelines.defs.tables.read import FILE, ROW

    source = tmp_path / "source"
    source.mkdir()
    for f in (case / "in").iterdir():
        (source / f.name).write_bytes(f.read_bytes())
    mapped = map_source(load_mapping(case / "cfg.yaml"), source, tmp_path, Keyring(GOLDEN_SECRET))
    events = mapped.events.select(
        "source_patient", "time", "code", "numeric_value", "text_value", "unit",
        pl.col(FILE).alias("file"), pl.col(ROW).alias("row"),
    ).sort("file", "row", "code")  # fmt: skip
    rejects = mapped.rejects.select(pl.col(FILE).alias("file"), pl.col(ROW).alias("row"), "table", "reason_code")
    return {"events": _rows(events), "rejects": _rows(rejects.sort("file", "row"))}


# --- tokenizer: MEDS rows -> token sequences (model.tokenizer) --------------------------------------------------


def _meds(path: Path) -> pl.DataFrame:
    return pl.read_csv(
        path,
        schema_overrides={"subject_id": pl.Int64, "time": pl.Datetime("us"), "code": pl.String,
                          "numeric_value": pl.Float32, "text_value": pl.String, "unit": pl.String},
    )  # fmt: skip


def _tokenizer(case: Path) -> object:
    from model.tokenizer.encode import tokenize_events
    from model.tokenizer.vocab import TokenizerConfig, fit_tokenizer

    events = _meds(case / "in.csv")
    tok = fit_tokenizer(events.lazy(), TokenizerConfig(**_cfg(case)))
    table = pl.from_arrow(tokenize_events(tok, events))
    names = tok.vocabulary["token"].to_list()
    return [
        {
            "subject_id": row["subject_id"],
            "origin": row["origin"],
            "tokens": [names[i] for i in row["input_ids"]],
            "years": [round(t, 4) for t in row["times"]],
        }
        for row in table.iter_rows(named=True)
    ]


# --- packing documents into fixed-capacity rows (model.packing) -------------------------------------------------


def _packing(case: Path) -> object:
    from model import packing

    spec = json.loads((case / "in.json").read_text())
    lengths = np.array(spec["lengths"], dtype=np.int64)
    out: dict = {}
    if "max_len" in spec:
        w = packing.windows(lengths, spec["max_len"], spec["stride"])
        out["windows"] = [list(x) for x in zip(w.subject.tolist(), w.start.tolist(), w.stop.tolist(),
                                               w.label_from.tolist(), strict=True)]  # fmt: skip
        lengths = w.lengths
    capacity = spec["capacity"]
    methods = {
        "bfd": lambda: packing.pack_bfd(lengths, capacity),
        "stream": lambda: packing.pack_stream(lengths, capacity, spec.get("buffer_size", 2048)),
        "greedy": lambda: packing.pack_greedy(lengths, capacity),
    }
    for name, pack in methods.items():
        p = pack()
        out[name] = [p.order[p.offsets[b] : p.offsets[b + 1]].tolist() for b in range(p.n_packs)]
    return out


# --- text de-identification: date surrogates under a fixed secret (deid.text.surrogates) ------------------------


def _deid_dates(case: Path) -> object:
    from deid.pseudonym import Keyring
    from deid.text.surrogates import Surrogates

    spec = json.loads((case / "in.json").read_text())
    keyring = Keyring(GOLDEN_SECRET)
    out = {}
    for subject in spec["subjects"]:
        shift = keyring.shift_days(subject)
        by_policy = {}
        for policy in spec["policies"]:
            s = Surrogates(keyring.surrogate_seed(subject), shift, policy)
            by_policy[policy] = {d: s.replace("DATE", d) for d in spec["dates"]}
        out[subject] = {"shift_days": shift, **by_policy}
    return out


# --- point-in-time features on tiny MEDS (featurestore) ---------------------------------------------------


def _features(case: Path) -> object:
    from featurestore.engine import compute_long
    from featurestore.offline import read_labels, to_wide
    from featurestore.spec import compile_spec, parse_spec

    events = _meds(case / "in.csv")
    labels, value = read_labels(
        pl.read_csv(case / "labels.csv", schema_overrides={"prediction_time": pl.Datetime("us")})
    )
    vocab = events.group_by("code").agg(
        n=pl.len(), n_numeric=pl.col("numeric_value").is_not_null().sum(), timed=pl.col("time").is_not_null().any()
    )
    cs = compile_spec(parse_spec(_cfg(case)), vocab.sort("code"))
    wide = pl.from_arrow(to_wide(compute_long(events, labels, cs), labels, cs, value))
    return [
        {k: v for k, v in row.items() if v is not None and k != "label_index"}
        for row in wide.sort("label_index").iter_rows(named=True)
    ]


# One folder per transform kind under tests/golden/; each has its test below.
KINDS = ("fhir_extract", "tables_mapping", "tokenizer", "packing", "deid_dates", "features")


@pytest.mark.parametrize("case", _cases("fhir_extract"))
def test_fhir_resource_to_events(case: Path):
    _compare(case, _fhir(case))


@pytest.mark.parametrize("case", _cases("tables_mapping"))
def test_tables_mapping_to_events(case: Path, tmp_path: Path):
    _compare(case, _tables(case, tmp_path))


@pytest.mark.parametrize("case", _cases("tokenizer"))
def test_meds_rows_to_tokens(case: Path):
    _compare(case, _tokenizer(case))


@pytest.mark.parametrize("case", _cases("packing"))
def test_documents_to_packs(case: Path):
    _compare(case, _packing(case))


@pytest.mark.parametrize("case", _cases("deid_dates"))
def test_date_surrogates_under_a_fixed_secret(case: Path):
    _compare(case, _deid_dates(case))


@pytest.mark.parametrize("case", _cases("features"))
def test_meds_to_point_in_time_features(case: Path):
    _compare(case, _features(case))


def test_every_transform_has_a_golden_case():
    """A kind whose folder went missing would otherwise pass with zero cases."""
    for kind in KINDS:
        assert _cases(kind), f"tests/golden/{kind}/ has no case folders"
