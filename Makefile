# medspa-warehouse: every entry point a person or CI needs. `make demo` and `make test`
# install first when needed, so a fresh clone needs nothing else.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# uv from PATH when there is one, else the pinned uv the $(UV_TOOL) rule below installs.
UV_TOOL_DIR := $(VENV)-tools/uv-$(UV_VERSION)
UV_TOOL := $(UV_TOOL_DIR)/bin/uv
UV := $(or $(shell command -v uv 2>/dev/null),$(UV_TOOL))
export MEDSPA_DATA_DIR ?= $(CURDIR)/data
# dbt must see the same environment at parse and run time, or it re-parses.
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export DAGSTER_HOME := $(MEDSPA_DATA_DIR)/dagster

.PHONY: install manifest demo demo-tenants test test-fast dev bench lint format clean browser pg pg-packages pg-stop

install: $(VENV)/.installed

# uv installs the locked set in seconds; it comes from PyPI like everything else.
# --compile-bytecode writes every package's .pyc at install time: where Python may not write
# them (PYTHONDONTWRITEBYTECODE), each process would otherwise recompile dlt, dbt and Dagster
# from source on import (seconds per `medspa` command, per ingest, per test worker).
$(VENV)/.installed: pyproject.toml uv.lock Makefile | $(UV)
	@"$(UV)" sync --frozen --quiet --compile-bytecode
	@touch $@

# Without uv on PATH: the pinned uv in a virtualenv of its own under .venv-tools. A Debian or
# Ubuntu Python refuses `pip install` into itself (PEP 668, "externally-managed-environment"),
# and a stock Debian Python has no venv until Debian's python3-venv is installed.
$(UV_TOOL):
	@if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
		echo "python3 has no venv module: installing Debian's python3-venv"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq python3-venv; \
	fi
	@rm -rf "$(UV_TOOL_DIR)"
	@python3 -m venv "$(UV_TOOL_DIR)" && "$(UV_TOOL_DIR)/bin/python" -m pip install --quiet \
		--disable-pip-version-check "uv==$(UV_VERSION)" || { rm -rf "$(UV_TOOL_DIR)"; exit 1; }

# dbt's manifest, built ahead of time so Dagster never parses dbt on load.
manifest: install
	@$(BIN)/python -m orchestration.manifest

# `make demo SCALE=medium` (5 locations in three time zones) or `large`; small by default. A
# data dir that already holds a chain keeps its own (the scale applies to a new one only).
demo: install manifest
	$(BIN)/medspa demo --scale $(or $(SCALE),small)

# Six seeded demo chains as tenants (their landing folders and tenants.yml under
# <data-dir>/demo-tenants), then every tenant's nightly run, two at a time, and the peer
# benchmarks across them (each tenant's site then has its benchmarks page filled).
DEMO_TENANTS := $(MEDSPA_DATA_DIR)/demo-tenants
demo-tenants: install manifest
	@test -f "$(DEMO_TENANTS)/tenants.yml" || $(BIN)/medspa generate --tenants 6 --out "$(DEMO_TENANTS)"
	$(BIN)/medspa run --tenants-file "$(DEMO_TENANTS)/tenants.yml" --all-tenants --parallel 2

# Debian's chromium + chromedriver for the real-browser dashboard test; a no-op once present.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

# Debian's PostgreSQL, pgJDBC, psqlODBC, unixodbc and acl for the serving target and its client
# tests; a no-op once present (medspa/commands/serving.py, serving/pg_cluster.py).
pg-packages: install
	@$(BIN)/medspa serving pg-packages

# A local PostgreSQL serving cluster under the data dir; prints the URL and BI connection fields.
pg: install pg-packages
	@$(BIN)/medspa serving pg-start

pg-stop: install
	@$(BIN)/medspa serving pg-stop

test: install manifest browser pg-packages
	$(BIN)/pytest -n 2 --dist loadgroup --durations=20

# The inner loop: everything but the heavy groups (whole-pipeline runs and dbt builds,
# the browser, Dagster's own tools); under a minute on 2 cores. `make test` runs them all.
HEAVY := e2e or browser or dagster_ui
test-fast: install manifest
	$(BIN)/pytest -n 2 --dist loadgroup -m "not ($(HEAVY))"

# The code location comes from `[tool.dagster]` in pyproject.toml (named `medspa`, as in the
# Docker and Kubernetes workspaces): a schedule or sensor turned on or off keeps its state
# whichever way Dagster is started. Dagster wants DAGSTER_HOME absolute, and a data dir may hold spaces: made absolute and quoted
# in the shell (make's own path functions split at spaces).
dev: install manifest
	export DAGSTER_HOME="$$(realpath -m -- "$$MEDSPA_DATA_DIR")/dagster" \
		&& mkdir -p -- "$$DAGSTER_HOME" && cp dagster.yaml "$$DAGSTER_HOME/dagster.yaml" \
		&& $(BIN)/dagster dev -h 127.0.0.1 -p 3000

# `make bench` runs every benchmark; `make bench SCALE=medium|large` only the goals table.
bench: install manifest
	SCALE=$(SCALE) $(BIN)/python -m benchmarks $(if $(SCALE),goals,)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# Macros are Jinja fragments (CTE generators) that sqlfluff cannot lay out; models and tests are linted.
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests --processes 2

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project/models

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
