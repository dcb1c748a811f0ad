#!/usr/bin/env bash
# Create or refresh the course's virtual environment in .venv from the pinned
# versions in requirements.lock. Does nothing when .venv is already up to date
# (a stamp file records the hash of requirements.lock and pyproject.toml).
#
#   PYTHON=python3.11 bash tools/venv.sh     # choose the interpreter
#   STYLELAB_VENV=/path/to/venv bash tools/venv.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${STYLELAB_VENV:-.venv}
PY=${PYTHON:-python3}
stamp_file="$VENV/.stylelab-stamp"
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -x "$VENV/bin/python" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
  exit 0
fi

command -v "$PY" >/dev/null 2>&1 || { echo "error: '$PY' not found. Install Python 3.10-3.12 or set PYTHON=/path/to/python3." >&2; exit 1; }
"$PY" -c 'import sys; assert (3, 10) <= sys.version_info[:2] < (3, 14), sys.version' 2>/dev/null || {
  echo "error: $("$PY" --version 2>&1) is not supported; use Python 3.10-3.13 (set PYTHON=...)." >&2; exit 1; }

start=$(date +%s)
# pip warns once per mirror folder it cannot use; those lines are noise here.
quiet_pip() { "$VENV/bin/python" -m pip "$@" --quiet --disable-pip-version-check 2> >(grep -v "is ignored: it is neither" >&2); }
echo "== stylelab: building $VENV from requirements.lock (first time takes a few minutes: torch is large) =="
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
quiet_pip install --upgrade pip
# torch and torchvision are installed together so that pip never pairs a
# torchvision with a torch build it was not compiled against.
quiet_pip install -r requirements.lock
quiet_pip install --no-deps -e .

# The check that matters: torchvision's compiled ops must load with this torch.
if ! "$VENV/bin/python" -c 'import torch, torchvision; torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5); print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")'; then
  echo "error: 'import torchvision' fails in $VENV. torch and torchvision must come from the same" >&2
  echo "       registry as a matching pair (see README, Troubleshooting). Remove $VENV and retry." >&2
  exit 1
fi
echo "$want" > "$stamp_file"
echo "== environment ready in $(( $(date +%s) - start )) s =="
