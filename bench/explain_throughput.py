"""Benchmark: explanation time per 1,000 decisions, and the advanced notebook's run time.

    .venv/bin/python bench/explain_throughput.py             # explanations only (~20 s)
    .venv/bin/python bench/explain_throughput.py --notebook  # also run notebook 03 (default and fast, both variants)

Why: the explainability mandate means every adverse decision carries its reasons; the cost of computing
them must be known before it is promised in a service level. The exact linear SHAP of
`lifecycle_lab.evaluation.explain` is one matrix product per batch; the 'by definition' route (one model call per
input per decision) is timed beside it to show what the closed form saves. Prints markdown for
bench/RESULTS-advanced.md. Not part of the test run (timings vary between machines).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in
                         ("numpy", "pandas", "scikit-learn", "scipy", "fairlearn", "evidently", "papermill"))
    return (f"- nproc: {os.cpu_count()}\n- CPU: {cpu}\n- memory: {mem}\n- Python {platform.python_version()} "
            f"on {platform.system()} {platform.release()}\n- {versions}")


def best_of(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def explain_bench() -> list[str]:
    from lifecycle_lab.evaluation import explain
    from lifecycle_lab.projects.p03_governance.exercises import shap_by_definition
    from lifecycle_lab.projects.p03_governance import world as tx

    rows = ["| variant | model | method | decisions | seconds (best of 5 runs; reason codes 3, by definition 1) "
            "| ms per 1,000 decisions |",
            "|---|---|---|---|---|---|"]
    for variant in ("fraud", "credit"):
        world = tx.simulate(variant, n_per_month=4000, seed=0)
        X = tx.features(variant)
        train = world[world.month == 0]
        batch = world[world.month > 0][X].head(10_000)
        background = train[X]
        for kind in ("legacy", "replacement"):
            model = tx.build_model(variant, kind).fit(train[X], train.label)
            t = best_of(lambda: explain.linear_shap(model, batch, background).check_additivity())
            rows.append(f"| {variant} | {kind} | exact linear SHAP + additivity check | {len(batch):,} | {t:.3f} | "
                        f"{1000 * t / len(batch) * 1000:.1f} |")
            expl = explain.linear_shap(model, batch, background)
            cases = list(batch.index[:1000])
            t = best_of(lambda: [explain.reason_codes(expl, c, background=background) for c in cases], 3)
            rows.append(f"| {variant} | {kind} | reason codes, medians recomputed per decision (baseline) | 1,000 | "
                        f"{t:.3f} | {1000 * t:.1f} |")
            medians = explain.typical_values(background)
            t2 = best_of(lambda: [explain.reason_codes(expl, c, medians=medians) for c in cases], 3)
            rows.append(f"| {variant} | {kind} | reason codes, medians computed once | 1,000 | {t2:.3f} | "
                        f"{1000 * t2:.1f} ({t / t2:.1f}x faster) |")
            bg = background.head(500)
            few = batch.head(20)
            t = best_of(lambda: [shap_by_definition(model, r, bg) for _, r in few.iterrows()], 1)
            rows.append(f"| {variant} | {kind} | SHAP by definition (500-row background) | 20 | {t:.3f} | "
                        f"{1000 * t / 20 * 1000:.0f} (extrapolated) |")
    return rows


def notebook_bench() -> list[str]:
    from lifecycle_lab.base import paths
    from lifecycle_lab.course.runner import run_notebook

    path = paths.SOLUTIONS / "03_advanced_governance_sunset.ipynb"
    rows = ["| run | seconds (papermill, in-process, kernel start included) |", "|---|---|"]
    out = paths.BUILD / "bench-nb03"
    for variant in ("fraud", "credit"):
        for fast in (False, True):
            result = run_notebook(path, out / f"{variant}-{fast}", {"variant": variant, "fast": fast}, progress=False)
            if result.error:
                raise SystemExit(result.error)
            rows.append(f"| variant={variant}, fast={fast} | {result.seconds:.1f} |")
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="store_true", help="also time notebook 03 runs")
    args = parser.parse_args(argv)
    print("## Machine\n")
    print(machine())
    print("\n## Explanation throughput\n")
    print("\n".join(explain_bench()))
    if args.notebook:
        print("\n## Notebook 03 run time\n")
        print("\n".join(notebook_bench()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
