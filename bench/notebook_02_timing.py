"""Wall-clock time and peak memory of the graduation-gate notebook (02): CI settings, fast, and a larger world.

Scenarios (each run executes `solutions/02_intermediate_graduation_gate.ipynb` with papermill in a fresh
Python process, kernel start included; `--repeats` runs each, 3 by default):
- default: the parameters nbval and `lifecycle-lab refresh` use;
- fast: `fast=True`, what the notebook tests use;
- larger: a genuinely larger world and load: 2,000 items (5x), a 3% plan (about 2.3x the A/B users), the
  load test at 1,000 requests/s (5x).
Also each step of `projects.p02_gate.review.RecsysReview` alone (no notebook, imports warm, one process), default and larger
world, with the world's construction (catalogue, training log, model fits) timed separately.

Peak memory: the largest resident set of the notebook's kernel (`ru_maxrss` of the run's child processes).

    .venv/bin/python bench/notebook_02_timing.py [--repeats 3] [--out bench/RESULTS-intermediate.json]

Writes the numbers as JSON (machine, versions, every sample, medians) and prints a markdown table for
bench/RESULTS-intermediate.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "solutions" / "02_intermediate_graduation_gate.ipynb"
LARGER = {"n_items": 2000, "planned_lift": 0.03, "target_rps": 1000.0}
RUNS = {"default": {}, "fast": {"fast": True}, "larger": LARGER}


def _child(params: dict) -> None:
    """Run the notebook once in this (fresh) process; print one JSON line."""
    import resource

    from lifecycle_lab.course.runner import run_notebook

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_notebook(NB, Path(tmp), dict(params), progress=False)
        seconds = time.perf_counter() - start
    if result.error:
        raise SystemExit(result.error)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the kernel (Linux: kilobytes)
    s = result.summary
    print(json.dumps({"seconds": seconds, "kernel_peak_mb": peak_kb / 1024, "decision": s["decision"],
                      "n_per_arm": s["n_per_arm"]}))


def notebook_runs(params: dict, repeats: int) -> list[dict]:
    out = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(params)], capture_output=True,
                              text=True, cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"})
        if proc.returncode:
            raise SystemExit(proc.stdout + proc.stderr)
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


STEPS = ("offline", "plan", "ab", "audit", "drift", "load_test", "cost", "rollout", "rehearsal", "skew", "gate")


def review_steps(repeats: int) -> dict:
    """Seconds of each step of `RecsysReview` (one process, imports warm), default and larger world."""
    from lifecycle_lab.projects.p02_gate import review as gate_review
    from lifecycle_lab.projects.p02_gate import world as recsys
    from lifecycle_lab.projects.p02_gate.settings import ReviewSettings
    from lifecycle_lab.projects.p02_gate.world import RecsysConfig, RecsysWorld

    gate_review.recsys_review(RecsysConfig(n_items=100), ReviewSettings.fast(load_requests=200))  # imports
    out = {}
    for label, cfg, settings in (
            ("default", RecsysConfig(), ReviewSettings()),
            ("larger", RecsysConfig(n_items=LARGER["n_items"]),
             ReviewSettings(planned_lift=LARGER["planned_lift"], target_rps=LARGER["target_rps"]))):
        samples: dict[str, list[float]] = {"world": [], "baseline": [], **{step: [] for step in STEPS}, "total": []}
        for _ in range(repeats):
            recsys.world_structure.cache_clear()  # time the training of the models too
            start = time.perf_counter()
            world = RecsysWorld(cfg)
            samples["world"].append(time.perf_counter() - start)
            t0 = time.perf_counter()
            review = gate_review.RecsysReview(world, settings, seed=42)  # measures the champion's baseline CTR
            samples["baseline"].append(time.perf_counter() - t0)
            for step in STEPS:
                t0 = time.perf_counter()
                getattr(review, step)()
                samples[step].append(time.perf_counter() - t0)
            samples["total"].append(time.perf_counter() - start)
        out[label] = {step: {"samples": v, "median": statistics.median(v)} for step, v in samples.items()}
    return out


def machine() -> dict:
    import importlib.metadata as md

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
            "versions": {p: md.version(p) for p in ("numpy", "scipy", "pandas", "evidently", "fairlearn",
                                                    "papermill")}}


def main() -> None:
    if "--child" in sys.argv:
        _child(json.loads(sys.argv[sys.argv.index("--child") + 1]))
        return
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3
    out_path = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else \
        ROOT / "bench" / "RESULTS-intermediate.json"
    results = {"machine": machine(), "repeats": repeats, "notebook": {}, "review_steps_seconds": {}}
    for label, params in RUNS.items():
        runs = notebook_runs(params, repeats)
        results["notebook"][label] = {"parameters": params, "runs": runs,
                                      "median_seconds": statistics.median(r["seconds"] for r in runs),
                                      "median_kernel_peak_mb": statistics.median(r["kernel_peak_mb"] for r in runs)}
        print(f"notebook {label}: {[round(r['seconds'], 1) for r in runs]} s", flush=True)
    results["review_steps_seconds"] = review_steps(repeats)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    out_path.write_text(json.dumps(results, indent=2) + "\n")
    base = results["notebook"]["default"]["median_seconds"]
    print(f"\nwritten: {out_path}\n")
    print("| run | parameters | A/B users per arm | seconds (median) | vs default | kernel peak MB | decision |")
    print("|---|---|---|---|---|---|---|")
    for label, r in results["notebook"].items():
        first = r["runs"][0]
        print(f"| {label} | `{r['parameters'] or 'defaults'}` | {first['n_per_arm']:,} | {r['median_seconds']:.1f} | "
              f"{r['median_seconds'] / base:.2f} | {r['median_kernel_peak_mb']:.0f} | {first['decision']} |")
    steps = results["review_steps_seconds"]
    print("\n| step of `RecsysReview` | default (s) | larger (s) | larger / default |")
    print("|---|---|---|---|")
    for step in steps["default"]:
        d, g = steps["default"][step]["median"], steps["larger"][step]["median"]
        print(f"| {step} | {d:.2f} | {g:.2f} | {g / d if d > 0.005 else float('nan'):.1f} |")


if __name__ == "__main__":
    main()
