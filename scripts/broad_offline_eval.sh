#!/bin/sh
# Score `twistcoach orientation --offline` (the release binary, as a user runs it) on the
# BROAD development subset with the benchmark's own score.py, 9D and 6D.
#   scripts/broad_offline_eval.sh [DATA_DIR] [EXTRA_FLAGS...]
# Needs python3 with numpy (e.g. /work/.venv/bin/python: set PYTHON). Output goes to
# target/broad-offline-eval/.
set -eu
DATA=${1:-../shared/data/broad}
[ $# -gt 0 ] && shift
PYTHON=${PYTHON:-python3}
OUT=target/broad-offline-eval
cargo build --release --quiet
rm -rf "$OUT" && mkdir -p "$OUT/9d" "$OUT/6d"
for imu in "$DATA"/*.imu.csv.gz; do
    name=$(basename "$imu" .imu.csv.gz)
    ./target/release/twistcoach orientation "$imu" -o "$OUT/9d/$name.est.csv.gz" --offline "$@"
    ./target/release/twistcoach orientation "$imu" -o "$OUT/6d/$name.est.csv.gz" --offline --no-mag "$@"
done
echo "== 9D (official metric)"
"$PYTHON" "$DATA/score.py" "$OUT/9d" --truth-dir "$DATA"
echo "== 6D (--mode 6d)"
"$PYTHON" "$DATA/score.py" "$OUT/6d" --truth-dir "$DATA" --mode 6d
