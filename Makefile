# MediaFlow: `make run` processes the sample photographs on the local runtime; `make test` proves it.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup setup-run run up test lint bench clean

setup:
	./scripts/setup.sh

setup-run:
	./scripts/setup.sh run

samples: setup-run
	$(BIN)/mediaflow samples samples

run: setup-run
	$(BIN)/mediaflow samples samples
	$(BIN)/mediaflow process --fresh samples/*

up: setup-run
	$(BIN)/mediaflow samples samples
	$(BIN)/mediaflow up

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python bench/bench_renditions.py
	$(BIN)/python bench/bench_frames.py --clips .bench-clips
	$(BIN)/python bench/bench_detect.py
	$(BIN)/python bench/bench_long_video.py --clips .bench-clips

clean:
	rm -rf .mediaflow mediaflow-output samples test-artifacts .pytest_cache .ruff_cache
