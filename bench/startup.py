"""The start-up floor of the workbook, beside the course run it bounds.

Measures (median of repeats, wall-clock seconds on this machine):
- `python -c "import lifecycle_lab"` against bare `python -c pass` (the package's own import cost);
- an empty notebook executed with papermill from a running process (kernel start + papermill overhead), and
  by the papermill CLI beside it (what one process per notebook would cost);
- the import cost of each heavy library inside a fresh interpreter;
- pytest's own start-up with the project's plugins (collecting the suite, running nothing);
- the heavy imports with the venv's bytecode (.pyc written at install: `uv pip sync --compile-bytecode`) and,
  side by side in the same run, without it (`-X pycache_prefix` at an empty folder: every module compiled from
  source, as in a venv installed without bytecode under PYTHONDONTWRITEBYTECODE=1) (`--bytecode` only runs this);
- optionally (`--course`) the whole `lifecycle-lab run --all`, and its per-notebook seconds;
- optionally (`--tests`) the three stages of `tests/run.sh` (what `make test` runs), each timed alone.

    .venv/bin/python bench/startup.py [--course] [--tests]

Results are recorded in bench/RESULTS-foundation.md with the machine described.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def empty_notebook_seconds(repeats: int = 3) -> tuple[float, float]:
    """An empty notebook executed by papermill from this running process, and by the papermill CLI (a fresh
    process per notebook), side by side: the gap is why the course runner executes notebooks in-process."""
    import nbformat
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "empty.ipynb"
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("x = 1")]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, src)
        papermill.execute_notebook(str(src), str(Path(tmp) / "warm.ipynb"), progress_bar=False)
        samples = []
        for i in range(repeats):
            start = time.perf_counter()
            papermill.execute_notebook(str(src), str(Path(tmp) / f"out{i}.ipynb"), progress_bar=False)
            samples.append(time.perf_counter() - start)
        cli = timed([str(Path(PY).parent / "papermill"), "--no-progress-bar", str(src), str(Path(tmp) / "cli.ipynb")],
                    repeats=repeats)
    return statistics.median(samples), cli


HEAVY = "import sklearn.linear_model, scipy.stats, pandas, matplotlib.pyplot, prefect, evidently"


def bytecode_seconds(repeats: int = 3) -> tuple[float, float]:
    """The heavy imports with the venv's .pyc files and without them, alternating, medians (seconds)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with_pyc, without = [], []
    with tempfile.TemporaryDirectory() as empty:
        for _ in range(repeats):
            for cmd, samples in (([PY, "-c", HEAVY], with_pyc), ([PY, "-X", f"pycache_prefix={empty}", "-c", HEAVY],
                                                                 without)):
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                samples.append(time.perf_counter() - start)
    return statistics.median(with_pyc), statistics.median(without)


def report_bytecode() -> None:
    with_pyc, without = bytecode_seconds()
    print(f"heavy imports, .pyc installed  {with_pyc:6.2f} s  ({HEAVY[7:]})")
    print(f"heavy imports, from source     {without:6.2f} s  (x{without / with_pyc:.1f}; load {os.getloadavg()[0]:.1f})")


def main() -> None:
    if "--bytecode" in sys.argv:
        report_bytecode()
        return
    bare = timed([PY, "-c", "pass"])
    package = timed([PY, "-c", "import lifecycle_lab, lifecycle_lab.exercises, lifecycle_lab.course"])
    print(f"python -c pass                 {bare:6.3f} s")
    print(f"import lifecycle_lab (+course) {package:6.3f} s  (package itself: {package - bare:+.3f} s)")
    in_process, cli = empty_notebook_seconds()
    print(f"empty notebook via papermill   {in_process:6.3f} s  (kernel start + overhead, from this process)")
    print(f"empty notebook, papermill CLI  {cli:6.3f} s  (x{cli / in_process:.1f}: a fresh process per notebook)")
    for lib in ["pandas", "sklearn.linear_model", "scipy.stats", "matplotlib.pyplot", "fairlearn.metrics",
                "mlflow", "evidently", "fastapi", "sqlalchemy"]:
        cost = timed([PY, "-c", f"import {lib}"], repeats=3) - bare
        print(f"import {lib:24} {cost:6.3f} s")
    report_bytecode()
    collect = timed([PY, "-m", "pytest", "-q", "--collect-only", "tests"], repeats=3)
    print(f"pytest start-up (collect only) {collect:6.3f} s")
    if "--course" in sys.argv:
        start = time.perf_counter()
        subprocess.run([PY, "-m", "lifecycle_lab", "run", "--all", "--no-progress", "--out",
                        str(ROOT / "build" / "bench-course")], check=True)
        print(f"lifecycle-lab run --all        {time.perf_counter() - start:6.1f} s")
    if "--tests" in sys.argv:
        env = dict(os.environ, LIFECYCLE_LAB_OFFLINE="1", MPLBACKEND="Agg")
        stages = {
            "1/3 learner --check": [PY, "-m", "lifecycle_lab", "learner", "--check"],
            "2/3 pytest tests": [PY, "-m", "pytest", "-q", "tests"],
            "3/3 nbval solutions": [PY, "-m", "pytest", "-q", "--nbval", "solutions/",
                                    "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"],
        }
        total = 0.0
        for name, cmd in stages.items():
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            total += seconds
            tail = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
            print(f"test stage {name:20} {seconds:6.1f} s  {tail}")
        print(f"test run (three stages)        {total:6.1f} s")


if __name__ == "__main__":
    main()
