#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the main job on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/llaso plugins
.venv/bin/llaso tasks list
