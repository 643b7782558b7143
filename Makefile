# Lifecycle Lab. `make course` runs every notebook; `make test` runs the tests.
# Both bootstrap .venv from requirements.lock first, and skip that when the venv is current.
SHELL := /bin/bash
# The workbook is locked for CPython 3.11: prefer python3.11 where both it and a newer python3 exist.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)
UV_VERSION := 0.13.8
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lock-installed
TOOLS := .tools
UV := $(TOOLS)/bin/uv
OUT ?= build/course
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: course test test-fast test-latest lab learner learner-check lock env site serve-site bench images clean help check-python
help:
	@echo "make course      run every solution notebook into $(OUT) and print a summary"
	@echo "make test        run the whole test suite (what CI runs)"
	@echo "make test-fast   the suite without whole-notebook runs and nbval (a few minutes)"
	@echo "make test-latest the suite on the newest versions pyproject.toml allows (report in build/latest)"
	@echo "make lab         open JupyterLab on the learner copies in notebooks/"
	@echo "make env         only install (or update) the locked environment in .venv"
	@echo "make learner     rebuild the learner copies from solutions/"
	@echo "make site        build the course website into build/site"
	@echo "make serve-site  build the site and serve it on http://127.0.0.1:8000"
	@echo "make bench       run the benchmarks in bench/"
	@echo "make images      build the service and workbook images with podman, offline (needs root, podman, buildah, mmdebstrap)"
	@echo "make lock        regenerate requirements.lock and environment.yml from pyproject.toml"

# Fail early, with what to do, instead of deep inside an install (run by the bootstrap steps below).
define CHECK_PYTHON
@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
  echo "Lifecycle Lab needs CPython 3.11 (the lock file is resolved for it); '$(PYTHON)' is not 3.11."; \
  echo "Install Python 3.11 (e.g. 'apt install python3.11 python3.11-venv', 'brew install python@3.11'," \
    "'pyenv install 3.11') and run again, or point make at it: make PYTHON=/path/to/python3.11 ..."; \
  exit 1; }
@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { \
  echo "$(PYTHON) has no working venv/ensurepip module: install it (Debian/Ubuntu: apt install python3.11-venv)."; \
  exit 1; }
endef

check-python:
	$(CHECK_PYTHON)

$(UV):
	$(CHECK_PYTHON)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# The venv is rebuilt only when the lock file or the package metadata changed. --compile-bytecode: with
# PYTHONDONTWRITEBYTECODE=1 (set here and in CI) Python never caches bytecode, so without .pyc files written at
# install every process (each kernel, server, worker, test subprocess) compiled scikit-learn, scipy, pandas and
# prefect from source again: their import took 12-18 s instead of ~5 s on a loaded 2-core machine.
$(STAMP): requirements.lock pyproject.toml | $(UV)
	$(CHECK_PYTHON)
	test -x $(PY) || $(UV) venv -q --python $(PYTHON) $(VENV)
	$(UV) pip sync -q --compile-bytecode --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Node tools for the hub and the API collection tests (JupyterHub's proxy; pinned in package-lock.json).
# Optional: without npm the course runs; the tests that need them skip (CI installs Node and fails instead).
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "note: npm not found; the hub and API-collection tests will skip (apt install nodejs npm)"; fi

env: $(STAMP) $(NODE_STAMP)

course: $(STAMP)
	$(PY) -m lifecycle_lab run --all --out $(OUT)

test: $(STAMP) $(NODE_STAMP)
	bash tests/run.sh

test-fast: $(STAMP) $(NODE_STAMP)
	bash tests/run.sh fast

# Maintainers, before moving the lock: resolve the newest allowed versions into build/latest/.venv, run the
# suite there and report which packages moved and what broke (build/latest/REPORT.md).
test-latest: $(STAMP)
	$(PYTHON) tools/test_latest.py

lab: $(STAMP)
	$(PY) -m lifecycle_lab lab

learner: $(STAMP)
	$(PY) -m lifecycle_lab learner

learner-check: $(STAMP)
	$(PY) -m lifecycle_lab learner --check

site: $(STAMP)
	$(PY) -m lifecycle_lab site --out build/site

serve-site: site
	$(PY) -m http.server --bind 127.0.0.1 --directory build/site/html 8000

bench: $(STAMP)
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

# The Debian base (mmdebstrap), the wheelhouse of the lock, then both images (each skipped when current).
images: $(STAMP)
	$(PY) -m lifecycle_lab.deployment.images

lock: | $(UV)
	$(UV) pip compile -q pyproject.toml --extra dev --python-version 3.11 --universal \
	  --no-emit-package rfc3987-syntax --no-emit-package lark -o requirements.lock
	PYTHONPATH=src $(PYTHON) -m lifecycle_lab.course.envfile > environment.yml
	$(MAKE) env
	$(PY) docker/service_lock.py  # the service image's subset of the same pins

clean:
	rm -rf build $(VENV) $(TOOLS)
