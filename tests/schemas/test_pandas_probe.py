"""pyarrow's pandas probe settled without pandas: lists become arrays without importing pandas, and pandas
conversions still work afterwards (each case in a fresh interpreter: the probe is settled once a process)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_arrays_of_lists_no_longer_import_pandas():
    settled = _run(
        "import sys, pyarrow as pa\n"
        "from schemas.pandas_probe import settle_without_pandas\n"
        "settle_without_pandas()\n"
        "pa.table({'code': ['x', None], 'n': [1, 2]})\n"
        "print('pandas' in sys.modules)"
    )
    unsettled = _run("import sys, pyarrow as pa\npa.table({'code': ['x', None]})\nprint('pandas' in sys.modules)")
    assert (settled, unsettled) == ("False", "True")


def test_pandas_conversions_work_after_settling():
    out = _run(
        "import polars as pl, pyarrow as pa\n"
        "from schemas.pandas_probe import settle_without_pandas\n"
        "settle_without_pandas()\n"
        "frame = pl.DataFrame({'a': [1, None]}).to_pandas()  # what quality.gx_docs does\n"
        "import pandas as pd\n"
        "print(pa.array(pd.Series([1, None], dtype='Int64')).type, pa.Table.from_pandas(frame).num_rows)"
    )
    assert out == "int64 2"
