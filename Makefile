# restyle: `make run` starts the service, `make test` runs the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_SYSTEM := $(VENV)/.installed-system
# Debian packages: a CJK font for the visible "AI生成" label; chromium for the web studio's browser tests; libturbojpeg0 for the JPEG fast paths (imaging/turbojpeg.py)
SYSTEM_PACKAGES := fonts-wqy-microhei wrk chromium libturbojpeg0
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: run test lint bench demo clean cluster cluster-stop

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel

$(STAMP_SYSTEM): | $(PY)
	@if ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES); \
	  else echo "Please install the Debian packages $(SYSTEM_PACKAGES) (sudo apt-get install $(SYSTEM_PACKAGES))."; exit 1; fi; \
	fi
	touch $@

$(STAMP_RUN): pyproject.toml | $(PY) $(STAMP_SYSTEM)
	$(PIP) install --quiet -e .
	$(PIP) install --quiet --no-deps "nudenet==3.4.2"  # its model only; its opencv wheel would replace ours
	touch $@

$(STAMP_TEST): pyproject.toml | $(PY) $(STAMP_SYSTEM)
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[all,test]" "torch==2.13.0"
	$(PIP) install --quiet --no-deps "nudenet==3.4.2"
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	$(VENV)/bin/restyle serve

demo: $(STAMP_RUN)
	$(VENV)/bin/restyle run sample:astronaut --style all -o out/demo

test: $(STAMP_TEST)
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q

lint: $(STAMP_TEST)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

# a scale-out deployment on loopback: Redis, PostgreSQL, S3 (moto), 2 API processes behind a proxy,
# 2 Celery workers; prints url: and api_key:, pid files in data/cluster/ (see docs/DEPLOY.md)
cluster: $(STAMP_TEST)
	$(PY) -m restyle.commands.cluster start $(CLUSTER_ARGS)

cluster-stop:
	$(PY) -m restyle.commands.cluster stop $(CLUSTER_ARGS)

bench: $(STAMP_TEST)
	$(PIP) install --quiet -e ".[bench]" "torch==2.13.0"
	OMP_NUM_THREADS=1 $(PY) bench/processing.py
	OMP_NUM_THREADS=1 $(PY) bench/quality.py
	OMP_NUM_THREADS=1 $(PY) bench/engine_speed.py
	OMP_NUM_THREADS=1 $(PY) bench/api_load.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
