# Lifecycle Lab. `make course` runs every notebook; `make test` runs the tests.
# Both bootstrap .venv from requirements.lock first, and skip that when the venv is current.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lock-installed
TOOLS := .tools
UV := $(TOOLS)/bin/uv
OUT ?= build/course
# Offline JupyterLab: no extension lookups on PyPI; --allow-root only where we are root (containers, CI).
LAB_FLAGS := --ServerApp.root_dir=notebooks --LabApp.extension_manager=readonly \
  $(if $(filter 0,$(shell id -u)),--allow-root,)
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: course test lab learner learner-check lock env site serve-site bench clean help
help:
	@echo "make course   run every solution notebook into $(OUT) and print a summary"
	@echo "make test     run the whole test suite (what CI runs)"
	@echo "make lab      open JupyterLab on the learner copies in notebooks/"
	@echo "make learner  rebuild the learner copies from solutions/"
	@echo "make site     build the course website into build/site"
	@echo "make lock     regenerate requirements.lock and environment.yml from pyproject.toml"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# The venv is rebuilt only when the lock file or the package metadata changed.
$(STAMP): requirements.lock pyproject.toml | $(UV)
	test -x $(PY) || $(UV) venv -q --python $(PYTHON) $(VENV)
	$(UV) pip sync -q --python $(PY) requirements.lock
	$(UV) pip install -q --python $(PY) --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

env: $(STAMP)

course: $(STAMP)
	$(PY) -m lifecycle_lab run --all --out $(OUT)

test: $(STAMP)
	bash tests/run.sh

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_FLAGS)

learner: $(STAMP)
	$(PY) -m lifecycle_lab learner

learner-check: $(STAMP)
	$(PY) -m lifecycle_lab learner --check

site: $(STAMP)
	$(PY) -m lifecycle_lab site --out build/site

serve-site: site
	$(PY) -m http.server --directory build/site/html 8000

bench: $(STAMP)
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

lock: | $(UV)
	$(UV) pip compile -q pyproject.toml --extra dev --python-version 3.11 \
	  --no-emit-package rfc3987-syntax --no-emit-package lark -o requirements.lock
	$(PY) -m lifecycle_lab.envfile > environment.yml

clean:
	rm -rf build $(VENV) $(TOOLS)
