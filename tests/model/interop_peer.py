"""Run inside bench/.venv-interop: meds_reader, meds-torch-data, MEDS-Tab and ACES on one of our MEDS roots.

`python tests/model/interop_peer.py ROOT WORK TASK` reads ROOT/meds and ROOT/features/labels_by_split/TASK and
prints one JSON line: what each tool read back (events, subject ids, label rows, feature matrices). The test
(tests/model/test_interop.py) compares it with what our files hold. Tool imports live in the functions, so
pytest's doctest collection in the main venv (which has none of these tools) can import this file.
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def _env() -> dict:
    # The tools' console scripts live beside this interpreter.
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HYDRA_FULL_ERROR": "1"}


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def meds_reader_events(meds: Path, work: Path) -> dict:
    """Convert with meds_reader_convert, then read every event of every subject."""
    import meds_reader

    db = work / "meds_reader"
    _run(["meds_reader_convert", str(meds), str(db), "--num_threads", "1"])
    subjects, events, numeric, codes = [], 0, 0, set()
    with meds_reader.SubjectDatabase(str(db)) as database:
        for sid in database:
            subjects.append(int(sid))
            for ev in database[sid].events:
                events += 1
                numeric += ev.numeric_value is not None
                codes.add(ev.code)
    return {"subjects": sorted(subjects), "events": events, "numeric": numeric, "n_codes": len(codes)}


def meds_torch_data_batches(meds: Path, labels: Path, work: Path) -> dict:
    """MTD_preprocess, then one pass over train in task mode (our labels) and in plain mode."""
    from meds_torchdata import MEDSPytorchDataset, MEDSTorchDataConfig

    out = work / "mtd"
    _run(["MTD_preprocess", f"MEDS_dataset_dir={meds}", f"output_dir={out}"])
    result = {}
    for mode, extra in (
        ("plain", {}),
        ("task", {"task_labels_dir": str(labels), "seq_sampling_strategy": "to_end"}),
    ):
        cfg = MEDSTorchDataConfig(tensorized_cohort_dir=str(out), max_seq_len=64, **extra)
        dataset = MEDSPytorchDataset(cfg, split="train")
        rows = sum(batch.code.shape[0] for batch in dataset.get_dataloader(batch_size=4, num_workers=0))
        ids = sorted(int(s) for s in dataset.schema_df["subject_id"].to_list())
        result[mode] = {"rows": rows, "subject_ids": ids}
    return result


def meds_tab_matrices(meds: Path, labels: Path, task: str, work: Path) -> dict:
    """MEDS-Tab's describe, static and time-series tabularization with its default aggregations, task caching."""
    from MEDS_tabular_automl.utils import load_matrix

    out = work / "meds_tab"
    common = [f"input_dir={meds / 'data'}", f"output_dir={out}", "tabularization.min_code_inclusion_count=1",
              "tabularization.window_sizes=[full]"]  # fmt: skip
    _run(["meds-tab-describe", f"input_dir={meds / 'data'}", f"output_dir={out}"])
    _run(["meds-tab-tabularize-static", *common])  # default aggs: static/present and static/first
    _run(["meds-tab-tabularize-time-series", *common])
    _run(["meds-tab-cache-task", *common, f"task_name={task}", f"input_label_dir={labels}"])
    static_first = sorted((out / "tabularize").glob("*/*/none/static/first.npz"))
    cached = sorted((out / task / "task_cache").glob("*/*/full/code/count.npz"))
    label_rows = sum(load_matrix(p).shape[0] for p in cached)
    first_nnz = sum(load_matrix(p).nnz for p in static_first)
    return {"static_first_files": len(static_first), "static_first_nnz": first_nnz, "task_rows": label_rows}


# An ACES cohort triggered by a coded answer: smoking status (LOINC 72166-2) answered with any SNOMED concept. It
# selects the companion codes `<code>//<value>`, so it finds rows only if coded answers are visible as codes.
ACES_TASK = """
predicates:
  smoking_answer:
    code: {regex: "^LOINC//72166-2//SNOMED//[0-9]+$"}
trigger: smoking_answer
windows:
  input:
    start: null
    end: trigger
    start_inclusive: true
    end_inclusive: true
    index_timestamp: end
"""


def aces_cohort(meds: Path, work: Path) -> dict:
    """aces-cli on every data shard; returns the cohort's (subject_id, prediction_time) rows."""
    import polars as pl

    cohort = work / "aces"
    cohort.mkdir(parents=True, exist_ok=True)
    (cohort / "smoking.yaml").write_text(ACES_TASK)
    rows = []
    for shard in sorted((meds / "data").glob("*/*.parquet")):
        out = cohort / f"{shard.parent.name}_{shard.stem}.parquet"
        _run(["aces-cli", "data.standard=meds", f"data.path={shard}", f"cohort_dir={cohort}",
              "cohort_name=smoking", f"output_filepath={out}"])  # fmt: skip
        frame = pl.read_parquet(out)
        rows += [[int(s), str(t)] for s, t in frame.select("subject_id", "prediction_time").iter_rows()]
    return {"rows": sorted(rows)}


def main() -> None:
    root, work, task = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    work.mkdir(parents=True, exist_ok=True)
    meds, labels = root / "meds", root / "features" / "labels_by_split" / task
    result = {
        "meds_reader": meds_reader_events(meds, work),
        "meds_torch_data": meds_torch_data_batches(meds, labels, work),
        "meds_tab": meds_tab_matrices(meds, labels, task, work),
        "aces": aces_cohort(meds, work),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
