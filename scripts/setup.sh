#!/usr/bin/env bash
# Set up everything MediaFlow's run, tests and CI need on a fresh Debian machine with Python 3.11+.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# The pins live in pyproject.toml; a stamp avoids re-resolving on every `make`.
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  .venv/bin/pip install --quiet --upgrade "pip==26.3"
  .venv/bin/pip install --quiet -e ".[dev]"
  touch .venv/.installed
fi
