#!/bin/bash
# The DICOM index in chunks vs main: CPU seconds and identical published index (bench/dicom_chunks.py).
#   bench/dicom_chunks.sh BASE_SRC NEW_SRC OUT_DIR [ROUNDS]
# BASE_SRC: a checkout of main (`git archive`), NEW_SRC: this branch. Each round indexes fresh roots holding the
# shared DICOM sets (dicom-pydicom and dicom-mr-series: 371 files) and, with GEN set to a `longitude generate`
# output, its dicom/ (300 patients, seed 0: 1,126 files), with main, 1 chunk and 3 chunks, then reruns the
# 3-chunk root (every chunk reused), one after another; results go to OUT_DIR/results.jsonl.
set -eu
BASE=$1 NEW=$2 OUT=$3 ROUNDS=${4:-3}
DATA=${DATA:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data}
mkdir -p "$OUT"
fresh() {  # a root with the shared DICOM sets under landing/dicom/ (copied: landing must be inside the root)
    rm -rf "$1" && mkdir -p "$1/landing/dicom"
    cp -r "$DATA/dicom-pydicom" "$DATA/dicom-mr-series" "$1/landing/dicom/"
    if [ -n "${GEN:-}" ]; then cp -r "$GEN/dicom" "$1/landing/dicom/generated"; fi
}
run() {  # label src root chunks
    echo "{\"label\": \"$1\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\", \"result\": $(
        cd "$2" && PYTHONPATH="$2" nice /work/main/.venv/bin/python "$NEW/bench/dicom_chunks.py" "$3" "$4")}" \
        >> "$OUT/results.jsonl"
}
for r in $(seq "$ROUNDS"); do
    fresh "$OUT/main"; run main "$BASE" "$OUT/main" 0
    fresh "$OUT/c1"; run c1 "$NEW" "$OUT/c1" 1
    fresh "$OUT/c3"; run c3 "$NEW" "$OUT/c3" 3
    run c3-rerun "$NEW" "$OUT/c3" 3
done
