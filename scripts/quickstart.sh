#!/usr/bin/env bash
# Set up (scripts/setup.sh), then the main job on the embedded default, on the CPU:
# synthesise the offline mini-corpus, train the CPU preset's three stages with the tiny models,
# evaluate on the held-out split across all 20 tasks and three modalities, and write the HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
OUT="${LLASO_QUICKSTART_OUT:-runs/quickstart}"
.venv/bin/llaso plugins
.venv/bin/llaso data synth --out "$OUT/minicorpus" "$@"
.venv/bin/llaso train --preset cpu --data "$OUT/minicorpus" --tasks all --out "$OUT/train"
.venv/bin/llaso eval --model "$OUT/train/instruct/final" --data "$OUT/minicorpus" --out "$OUT/eval/trained" \
    --name tiny-trained
.venv/bin/llaso eval --model "$OUT/train/init" --data "$OUT/minicorpus" --out "$OUT/eval/untrained" \
    --name tiny-untrained
.venv/bin/llaso report "$OUT/eval/trained/results.json" "$OUT/eval/untrained/results.json" --out "$OUT/report"
echo "report: $OUT/report/report.html"
