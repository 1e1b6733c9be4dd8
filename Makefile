# Everyday commands. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run test test-fast lint format index update info bench chromium postgres clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed          ## venv + pinned deps (torch 2.13.0 CPU)

run: install                         ## the chat on http://127.0.0.1:7860 (builds model and index on first start)
	$(VENV)/bin/assistant serve

chromium:                            ## Debian's Chromium for the browser tests
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

postgres:                            ## Debian's PostgreSQL server binaries (the store's tests start their own server)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

test: install chromium postgres      ## the whole suite: real model, FAISS, Gradio server, Chromium, PostgreSQL
	$(PY) -m pytest -q -n 2 --dist loadfile  # two workers, a test file each: servers and browsers wait as much as they compute

test-fast: install                   ## the one-minute lane: tests that need no model, server, browser or PostgreSQL
	$(PY) -m pytest -q -m "not model and not server and not browser and not postgres"

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

index: install                       ## rebuild index/ from corpus/ (every chunk embedded)
	$(VENV)/bin/assistant index build

update: install                      ## re-index, embedding only new or changed chunks
	$(VENV)/bin/assistant index update

info: install
	$(VENV)/bin/assistant index info

bench: install                       ## benchmarks (need ../shared/eval); each prints JSON
	$(PY) bench/index_build.py
	$(PY) bench/retrieval.py
	$(VENV)/bin/assistant eval ../shared/eval/parsinlu_rc_train.jsonl --json
	$(PY) bench/answers.py

clean:
	rm -rf index artifacts .pytest_cache
