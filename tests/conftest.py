"""Shared fixtures: the offline guard, and running a notebook with papermill from this process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle_lab.base import env
from lifecycle_lab.base import paths

env.disable_telemetry()
# Child processes (notebook kernels, the API server) inherit this and install the same guard on import.
os.environ["LIFECYCLE_LAB_OFFLINE"] = "1"


def pytest_configure(config):
    # Every test runs offline: a connection outside loopback fails the test that made it.
    env.forbid_network()


@pytest.fixture(scope="session")
def notebook_out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebook-runs")


@pytest.fixture(scope="session")
def run_notebook(notebook_out):
    """Execute a notebook (learner copy by default) with parameters; return its RunResult.

    Fails the test with the notebook, cell and error when the notebook stops.
    """
    from lifecycle_lab.course.runner import run_notebook as _run

    def run(name: str, params: dict | None = None, *, learner: bool = True, tag: str = "run"):
        folder = paths.NOTEBOOKS if learner else paths.SOLUTIONS
        path = folder / f"{name}.ipynb"
        assert path.exists(), f"{path} is missing; run `make learner`"
        result = _run(path, notebook_out / tag, params or {}, progress=False)
        if result.error:
            pytest.fail(result.error)
        assert result.summary is not None, f"{name} printed no SUMMARY line"
        return result

    return run
