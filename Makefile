# The two set-up commands of the README: `make run` and `make test`.
# Both create .venv with the machine's python3 and install the project into it.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
# pip's own chatter (its warnings, e.g. an index location that is missing) stays out of
# `make run`, whose last lines are the station's passwords; errors are still printed.
PIP      := $(BIN)/python -m pip install -qq --disable-pip-version-check
# The browser tests drive Debian's chromium (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: run test lint bench clean fleet engines

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/locker serve --demo

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The fleet's engines, from Debian: the tests start them in temporary folders on loopback.
ENGINES := /usr/sbin/mosquitto /usr/bin/mosquitto_passwd /usr/lib/postgresql/15/bin/initdb
$(ENGINES):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients postgresql

engines: $(ENGINES)

# `systemd-analyze verify` checks the units `locker hub service install` and
# `locker service install` write (no running systemd needed).
SYSTEMD_ANALYZE := /usr/bin/systemd-analyze
$(SYSTEMD_ANALYZE):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd

# A hub (PostgreSQL, Mosquitto, `locker hub serve`) and three demo stations, on this machine.
fleet: $(VENV)/.installed-run $(ENGINES)
	$(BIN)/python -m fleet.demo $(if $(filter-out 0,$(FRESH)),--fresh)

# Two workers: most tests wait on a serial line, a browser, a subprocess or an engine.
test: $(VENV)/.installed-dev $(CHROMIUM) $(ENGINES) $(SYSTEMD_ANALYZE)
	$(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
