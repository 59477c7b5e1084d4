"""The DICOM index in chunks against one parse: CPU seconds and what readers of the index see, byte for byte.

    python bench/dicom_chunks.py ROOT N_CHUNKS   index ROOT's landing/dicom/ in N_CHUNKS chunks, one after another
                                                 (0: one call without chunk arguments, as main's code takes it);
                                                 prints one JSON line: cpu_s (this process and its children) and
                                                 the sha256 of every file the index publishes

Run it with PYTHONPATH set to the checkout to measure (main's `git archive`, or this branch); bench/dicom_chunks.sh
runs the comparison. The shared DICOM sets are ../shared/data/dicom-pydicom and dicom-mr-series.
"""

import hashlib
import json
import resource
import sys
import time
from pathlib import Path

SECRET = b"dicom-chunks-bench-secret-0123456789"


def cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def published(root: Path) -> dict[str, str]:
    """sha256 of each file the index publishes: raw instances, patients, imaging instances, quarantine, ledger."""
    from schemas.layout import Layout
    from schemas.publish import files_under

    layout = Layout(root)
    files = [*files_under(layout.raw / "dicom", "instances/**"), *files_under(layout.raw / "dicom", "patients/**"),
             *files_under(layout.imaging, "instances/*"), *files_under(layout.quarantine("dicom_instances")),
             layout.ledger("dicom_instances")]  # fmt: skip
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def main() -> None:
    root, n_chunks = Path(sys.argv[1]), int(sys.argv[2])
    from pipelines.defs.dicom.build import build_instances
    from pipelines.settings import Settings

    settings = Settings(root=root, secret=SECRET, n_shards=4)
    started, wall = cpu_s(), time.perf_counter()
    if n_chunks == 0:
        summary = build_instances(settings, workers=1)
    else:
        summary = build_instances(settings, workers=1, chunk=None, n_chunks=n_chunks)
    out = {"cpu_s": round(cpu_s() - started, 2), "wall_s": round(time.perf_counter() - wall, 2),
           "files": summary["files"], "published": published(root)}  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
