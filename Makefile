# Basalt: `make run` starts the service on the embedded defaults; `make test` runs everything.
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)

PYTEST_ARGS ?=

.PHONY: run test lint typecheck unit bench setup setup-system

setup:
	@scripts/setup.sh

setup-system:
	@scripts/setup.sh --system

run: setup
	uv run basalt serve

lint: setup
	uv run ruff check src tests bench
	uv run ruff format --check src tests bench

typecheck: setup
	uv run mypy src

unit: setup
	uv run pytest $(PYTEST_ARGS)

test: setup-system lint typecheck
	uv run pytest $(PYTEST_ARGS)

bench: setup-system
	uv run python bench/run_all.py
