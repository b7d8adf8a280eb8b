#!/usr/bin/env bash
# Set up a virtual environment in .venv with llaso and everything its tests need.
# Safe to re-run: an existing .venv is reused and only what is missing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip "setuptools>=77"
# torch/torchaudio are declared as ranges in pyproject.toml; this pair is the one known to work on
# a CPU-only machine (torchaudio beside the CPU-only torch 2.13 wheel cannot load).
python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt \
    torch torchaudio
# plugins/ and cli/ install as llaso_plugins and llaso_cli, so setuptools serves the editable install
# through an import finder and prints a notice about it on every install: filtered by its text
PYTHONWARNINGS="ignore:Editable installation" \
    python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt \
    -e ".[test,deepspeed]"
python - <<'PY'
import torch, torchaudio, transformers
print(f"llaso environment ready: torch {torch.__version__}, torchaudio {torchaudio.__version__}, "
      f"transformers {transformers.__version__}")
PY
