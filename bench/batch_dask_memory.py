"""Where the dask engine's memory goes: the client (the batch job), the scheduler and the workers, each its own process.

    .venv/bin/python bench/batch_dask_memory.py [--rows 100000 300000] [--workers 2] [--tracemalloc]
                                                [--json FILE]

`bench/batch_parallel.py` runs the LocalCluster inside the measuring process, so its "parent MB" is the job's
client and the cluster's scheduler together. Here the scheduler (`dask scheduler`) and the workers (`dask worker
--nworkers N --nthreads 1`) are separate processes on loopback, started once and warmed up, and the job runs in
this process (`run_batch(engine="dask")`, chunks of 2,000 rows, a fresh SQLite file per size). A sampling thread
records the RSS of this process, of the scheduler and of each worker every 0.25 s; the table gives each one's
RSS before the run, its peak and its RSS at the end, per file size. `--tracemalloc` also traces this process's
Python allocations and prints the largest live ones at the end of each run (grouped by line): what the client
still holds, as opposed to what the allocator has not given back. The 1-minute load average is recorded
before each run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from batch_throughput import make_inputs  # noqa: E402  (the same model and ticket files as the other batch benches)


def _warm_up() -> None:
    import pandas  # noqa: F401
    import skops.io  # noqa: F401
    import sklearn.pipeline  # noqa: F401

    import lifecycle_lab.projects.p01_tickets.batch  # noqa: F401


class Sampler(threading.Thread):
    """RSS in MB of named processes every `every` seconds: before (first sample), peak, last."""

    def __init__(self, procs: dict, every: float = 0.25):
        super().__init__(daemon=True)
        self.procs, self.every, self.stop = procs, every, threading.Event()
        self.first: dict = {}
        self.peak: dict = {}
        self.last: dict = {}
        self.series: list = []

    def sample(self):
        now = {}
        for name, proc in self.procs.items():
            try:
                now[name] = proc.memory_info().rss / 2**20
            except Exception:  # a process gone (a restarted worker shows as a missing sample)
                continue
        for name, mb in now.items():
            self.first.setdefault(name, mb)
            self.peak[name] = max(self.peak.get(name, 0.0), mb)
            self.last[name] = mb
        self.series.append((time.monotonic(), now))

    def run(self):
        while not self.stop.is_set():
            self.sample()
            time.sleep(self.every)
        self.sample()


def main() -> None:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from distributed import Client

    from lifecycle_lab.projects.p01_tickets.batch import run_batch

    bindir = Path(sys.executable).parent
    out = {"load_start": os.getloadavg(), "runs": []}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        artifact, files = make_inputs(folder, args.rows)
        sched_file = folder / "scheduler.json"
        env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
        sched = subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(sched_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while not sched_file.exists():
            time.sleep(0.2)
        time.sleep(0.5)
        workers = subprocess.Popen([str(bindir / "dask"), "worker", "--scheduler-file", str(sched_file),
                                    "--nworkers", str(args.workers), "--nthreads", "1", "--memory-limit", "2GiB",
                                    "--no-dashboard", "--host", "127.0.0.1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            address = json.loads(sched_file.read_text())["address"]
            with Client(address, set_as_default=False) as warm:
                warm.wait_for_workers(args.workers, timeout=60)
                warm.run(_warm_up)
                pids = warm.run(os.getpid)
            procs = {"client": psutil.Process(), "scheduler": psutil.Process(sched.pid)}
            procs.update({f"worker{i}": psutil.Process(pid) for i, pid in enumerate(sorted(pids.values()))})
            if args.tracemalloc:
                import tracemalloc

                tracemalloc.start(5)
            for n in args.rows:
                load = os.getloadavg()[0]
                sampler = Sampler(procs)
                sampler.start()
                time.sleep(0.3)
                start = time.perf_counter()
                report = run_batch(files[n], f"sqlite:///{folder / f'd{n}.db'}", artifact, create_db=True,
                                   engine="dask", scheduler=address)
                seconds = time.perf_counter() - start
                top = []
                if args.tracemalloc:
                    import tracemalloc

                    snap = tracemalloc.take_snapshot()
                    top = [(str(s.traceback[0]), round(s.size / 2**20, 2), s.count)
                           for s in snap.statistics("lineno")[:8]]
                    traced, peak = tracemalloc.get_traced_memory()
                    top.insert(0, ("traced now / peak MB", round(traced / 2**20, 1), round(peak / 2**20, 1)))
                time.sleep(0.6)
                sampler.stop.set()
                sampler.join()
                run = {"rows": n, "rows_in": report.rows_in, "seconds": seconds, "rate": report.rows_in / seconds,
                       "load_before": load, "before_mb": sampler.first, "peak_mb": sampler.peak,
                       "end_mb": sampler.last, "tracemalloc_top": top}
                out["runs"].append(run)
                print(f"{n:,} rows: {run['rate']:,.0f} rows/s ({seconds:.1f} s), load {load:.2f}", flush=True)
                for name in procs:
                    print(f"  {name:>9}: before {sampler.first.get(name, 0):6.0f} MB, peak "
                          f"{sampler.peak.get(name, 0):6.0f} MB, end {sampler.last.get(name, 0):6.0f} MB", flush=True)
                for line in top:
                    print("   ", line, flush=True)
        finally:
            workers.terminate()
            sched.terminate()
            workers.wait(timeout=30)
            sched.wait(timeout=30)
    out["load_end"] = os.getloadavg()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in out['load_end'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
