#!/bin/bash
# Ingest in chunks vs main: curated output identity and CPU seconds (user+sys, children included).
#   bench/ingest_chunks.sh BASE_SRC NEW_SRC DEMO_ROOT OUT_DIR
# BASE_SRC: a checkout of main (`git archive`), NEW_SRC: this branch; DEMO_ROOT: a root `longitude demo` made
# with LONGITUDE_SECRET below (its landing and longitude.json go into fresh roots). The shared FHIR set is
# ../shared/data/synthea-fhir-r4/bundles. Every build selects the night run's assets short of training and the
# stewards' site (the crash-safety test's selection).
set -u
BASE=$1 NEW=$2 DEMO=$3 OUT=$4
mkdir -p "$OUT"
SELECT=(--select '*catalog' --select '*trajectories' --select '*online_features' --select '*features_readmission_30d'
        --select '*imaging_series' --select '*imaging_studies' --select '*imaging_fhir_links'
        --select '*notes_deidentified' --select '*meds_dataset_metadata' --select '*vocabulary')
SHARED=${SHARED:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data/synthea-fhir-r4/bundles}
export LONGITUDE_SECRET=chunks-bench-secret-0123456789abcdef

demo_root() {  # a fresh root with the demo's landing (hard links) and settings
    mkdir -p "$1" && cp -al "$DEMO/landing" "$1/landing" && cp "$DEMO/longitude.json" "$1/"
}
shared_root() { mkdir -p "$1/landing" && ln -s "$SHARED" "$1/landing/fhir"; }
build() {  # label src root chunks [args...]
    local label=$1 src=$2 root=$3 chunks=$4; shift 4
    ( cd "$src" && env PYTHONPATH="$src" LONGITUDE_INGEST_CHUNKS="$chunks" \
        /usr/bin/time -f "$label cpu_s=%U+%S wall_s=%e" -a -o "$OUT/times.txt" \
        /work/main/.venv/bin/longitude materialize --root "$root" "$@" > "$OUT/$label.log" 2>&1 )
    echo "$label rc=$? $(uptime | sed 's/.*load/load/')" >> "$OUT/times.txt"
}
# What was run for BENCHMARKS.md (load 12-16 on 2 cores): each build in process, one after another.
STEPS=${STEPS:-"demo-base demo-c1 shared-base shared-c1 shared-c3 shared-c3-rerun demo-c3"}
for step in $STEPS; do
    kind=${step%%-*} rest=${step#*-}
    case $rest in
        base) ${kind}_root "$OUT/$step"; build "$step" "$BASE" "$OUT/$step" 1 "${SELECT[@]}" ;;
        c[0-9]) ${kind}_root "$OUT/$step"; build "$step" "$NEW" "$OUT/$step" "${rest#c}" "${SELECT[@]}" ;;
        c[0-9]-rerun) c=${rest%-rerun}; build "$step" "$NEW" "$OUT/$kind-$c" "${c#c}" "${SELECT[@]}" ;;
    esac
done
