"""How much of a machine one learner takes, and how many learners one 2-core machine holds.

Two measurements, both of the learner copies run unattempted (what a learner's kernel does in a workshop):

1. Per notebook: the kernel's peak resident memory (RSS, sampled every 0.2 s), the peak of the kernel with
   every process it starts (servers, workers, background builds), and the kernel's CPU seconds (user +
   system), one notebook at a time. These size a hub's per-user
   limits (Zero to JupyterHub's `singleuser.memory` and `singleuser.cpu`).
2. Concurrency on notebook 00: K learners start it at the same moment (K = 1, 2, 4, 6, 8), each in its own
   kernel; the median and worst completion time against K = 1 run in the same session (this machine is
   shared and noisy, so only ratios measured side by side are compared). "Holds K learners" means the worst
   learner waits at most twice as long as a learner alone.

    .venv/bin/python bench/hub_capacity.py [--notebooks 00 01 02 03] [--concurrency 1 2 4 6 8]

Results are recorded in bench/RESULTS-workshops.md with the machine described.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _run(stem: str, out: Path, samples: list, stop: threading.Event) -> float:
    """Run one learner copy with papermill in a subprocess; sample its kernel's memory meanwhile."""
    code = ("import papermill, sys; papermill.execute_notebook(sys.argv[1], sys.argv[2], kernel_name='python3', "
            "progress_bar=False, parameters={'output_dir': sys.argv[3]})")
    path = ROOT / "notebooks" / f"{stem}.ipynb"
    start = time.perf_counter()
    proc = subprocess.Popen([PY, "-c", code, str(path), str(out / f"{stem}.ipynb"), str(out / stem)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "LIFECYCLE_LAB_OFFLINE": "1", "MPLBACKEND": "Agg"})
    parent = psutil.Process(proc.pid)

    def sample():
        while not stop.is_set() and proc.poll() is None:
            try:
                kernels = [k for k in parent.children(recursive=True) if "ipykernel" in " ".join(k.cmdline())]
                # the kernel and what it starts (notebook 04's Evidently build and Prefect worker, the API
                # servers of 01 and 07): all of it runs in a learner's server
                tree = {p.pid: p for k in kernels for p in [k, *k.children(recursive=True)]}.values()
                rss = sum(k.memory_info().rss for k in kernels)
                cpu = sum(sum(k.cpu_times()[:2]) for k in kernels)
                samples.append((rss, cpu, sum(p.memory_info().rss for p in tree)))
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    sampler.join(timeout=2)
    if code:
        raise RuntimeError(f"{stem} failed (exit {code})")
    return time.perf_counter() - start


def per_notebook(stems: list[str]) -> list[dict]:
    rows = []
    for stem in stems:
        with tempfile.TemporaryDirectory() as tmp:
            samples: list = []
            seconds = _run(stem, Path(tmp), samples, threading.Event())
        rows.append({"notebook": stem, "seconds": seconds, "peak_rss_mb": max(s[0] for s in samples) / 2**20,
                     "peak_tree_rss_mb": max(s[2] for s in samples) / 2**20, "cpu_s": max(s[1] for s in samples)})
        print(f"{stem}: {seconds:.1f} s wall, peak kernel RSS {rows[-1]['peak_rss_mb']:.0f} MB "
              f"(with the processes it starts {rows[-1]['peak_tree_rss_mb']:.0f} MB), "
              f"kernel CPU {rows[-1]['cpu_s']:.1f} s, load {os.getloadavg()[0]:.1f}", flush=True)
    return rows


def concurrency(levels: list[int], stem: str = "00_start_here") -> list[dict]:
    rows = []
    for k in levels:
        times: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            def one(i: int) -> None:
                out = Path(tmp) / f"learner{i}"
                out.mkdir()
                times.append(_run(stem, out, [], threading.Event()))

            threads = [threading.Thread(target=one, args=(i,)) for i in range(k)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        rows.append({"learners": k, "median_s": statistics.median(times), "worst_s": max(times)})
        print(f"{k} learners at once: median {rows[-1]['median_s']:.1f} s, worst {rows[-1]['worst_s']:.1f} s",
              flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", default=["00", "01", "02", "03"])
    parser.add_argument("--concurrency", nargs="*", type=int, default=[1, 2, 4, 6, 8])
    args = parser.parse_args(argv)
    stems = [next(p.stem for p in sorted((ROOT / "notebooks").glob(f"{n}_*.ipynb"))) for n in args.notebooks]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}")
    per_notebook(stems)
    rows = concurrency(args.concurrency)
    alone = rows[0]["worst_s"] if rows and rows[0]["learners"] == 1 else None
    if alone:
        for r in rows:
            print(f"{r['learners']} learners: worst / alone = {r['worst_s'] / alone:.2f}")
        held = max([r["learners"] for r in rows if r["worst_s"] <= 2 * alone] or [1])
        print(f"holds {held} concurrent learners running notebook 00 with the worst waiting <= 2x a learner alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
