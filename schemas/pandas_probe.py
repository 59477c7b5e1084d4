"""pyarrow's pandas probe, settled without pandas: `pa.array` of a Python list imports pandas only to ask
whether the list is a pandas object, and no code of ours hands pyarrow one."""

import sys


class RefusePandas:
    """An import finder that refuses pandas; pyarrow takes the refusal as "pandas is not installed"."""

    def find_spec(self, name: str, path=None, target=None) -> None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError("pandas is not loaded in this process", name=name)
        return None


def settle_without_pandas() -> None:
    """Settle pyarrow's probe now, with pandas refused, unless pandas is loaded already: the first `pa.array` of
    a list then imports nothing (it imported pandas: 0.3-0.6 s of CPU a process). pandas still imports for
    whoever imports it (the GX engine, quality.gx_docs), and pyarrow's pandas conversions (`to_pandas`,
    `from_pandas`, polars' `to_pandas`) import it again and re-arm the probe; only `pa.array(<a pandas
    object>)` before any such conversion would take the object for a plain sequence, and none of our code
    passes pyarrow a pandas object."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = RefusePandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)
