#!/usr/bin/env bash
# The test suite: what `make test` and CI run (`bash tests/run.sh`), or the quick one (`bash tests/run.sh fast`:
# everything but whole-notebook executions, the image builds and nbval, for iterating). Each stage names itself; the first
# failure stops it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=1 PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg
# Every process that imports lifecycle_lab (kernels, nbval's, the API server) refuses non-loopback connections.
export LIFECYCLE_LAB_OFFLINE=1
mode=full
if [ "${1:-}" = fast ]; then mode=fast; shift; fi

echo "== 1/3 learner copies are generated from solutions/ and committed"
$PY -m lifecycle_lab learner --check

if [ "$mode" = fast ]; then
  echo "== 2/2 unit, integration and course tests (no whole-notebook runs, no image builds, no nbval)"
  $PY -m pytest -q tests -m "not notebook and not images and not slow" "$@"
  exit 0
fi

echo "== 2/3 unit tests and notebook runs (learner copies, second parameter set)"
# --durations: the 25 slowest tests are listed at the end, so a CI log says where its time went
$PY -m pytest -q --durations=25 tests "$@"

echo "== 3/3 nbval: every solution notebook re-executes and reproduces its committed outputs"
$PY -m pytest -q --nbval solutions/ --nbval-sanitize-with tests/nbval_sanitize.cfg
