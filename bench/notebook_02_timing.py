"""Wall-clock time of the graduation-gate notebook (02) under its CI settings and a larger scenario.

Runs, each in this process with papermill (kernel start included, median of `--repeats`):
- default parameters (fast=False), the run nbval and `lifecycle-lab refresh` use;
- fast=True, the run the notebook tests use;
- a larger scenario: fast=False with a 5% planned lift (about 2.5x the A/B sample) and 1,000 req/s target.
Also times `gates.recsys_review` alone (no notebook overhead) for the default and the larger scenario.

    .venv/bin/python bench/notebook_02_timing.py [--repeats 3]

Results are recorded by hand in bench/RESULTS-intermediate.md with the machine described.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "solutions" / "02_intermediate_graduation_gate.ipynb"
RUNS = {
    "default": {},
    "fast": {"fast": True},
    "larger (planned_lift=0.05, 1000 req/s)": {"planned_lift": 0.05, "target_rps": 1000.0},
}


def notebook_seconds(params: dict, repeats: int) -> tuple[float, dict | None]:
    from lifecycle_lab.course.runner import run_notebook

    samples, summary = [], None
    for i in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            result = run_notebook(NB, Path(tmp), dict(params), progress=False)
            samples.append(time.perf_counter() - start)
            if result.error:
                raise SystemExit(result.error)
            summary = result.summary
    return statistics.median(samples), summary


def review_seconds(planned_lift: float) -> float:
    from lifecycle_lab import gates

    gates.recsys_review(None, gates.ReviewSettings.fast(), seed=42)  # warm-up (imports)
    start = time.perf_counter()
    gates.recsys_review(None, gates.ReviewSettings(planned_lift=planned_lift), seed=42)
    return time.perf_counter() - start


def main() -> None:
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3
    for label, params in RUNS.items():
        seconds, summary = notebook_seconds(params, repeats)
        print(f"notebook {label:40} {seconds:6.1f} s  n_per_arm={summary['n_per_arm']:,}  {summary['decision']}")
    for lift in (0.08, 0.05):
        print(f"recsys_review alone, planned_lift={lift}: {review_seconds(lift):.1f} s")


if __name__ == "__main__":
    main()
