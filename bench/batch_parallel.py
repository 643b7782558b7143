"""The batch job on one core, on every core (worker processes) and on a dask.distributed cluster, side by side.

    .venv/bin/python bench/batch_parallel.py [--rows 100000] [--repeats 3] [--kinds w1 w2 dask1 dask2]
                                             [--big-rows 0]

Kinds, all `run_batch` on the same file into a fresh SQLite file (chunks of 2,000 rows, one transaction each):
- `model`: predict_proba alone on the same texts in chunks of 2,000, one core: the floor of the model's cost;
- `w1`: the single-process job (workers=1, the job as it was); `wN`: N worker processes (engine processes);
- `daskN`: engine dask on a LocalCluster of N worker processes (one thread each) on this machine, started
  and warmed up (imports) before the clock; the clock includes shipping the artifact and loading the model
  on each worker, as the processes engine's includes its workers' start and model load.
Each measurement runs in its own process, and the kinds are interleaved run by run (w1, w2, dask1, ... then
again), so a change in the machine's load hits all kinds alike; the 1-minute load average is recorded before
each one. "peak MB" is the measuring process's maximum RSS (the job's parent: it reads and writes), "worker
MB" the largest of its child processes (the scoring workers; for dask, the cluster's worker processes).
For dask the measuring process also runs the LocalCluster's scheduler: `bench/batch_dask_memory.py` measures
client, scheduler and workers as separate processes.
`--big-rows N` also runs w2 and dask2 once on an N-row file: memory must not grow with the file.
`--base-src DIR` also runs each kind with DIR (the `src` folder of another checkout, e.g. a `git worktree` of an
older commit) first on PYTHONPATH, as `KIND@base`, interleaved with the current code's runs: a change's cost
measured side by side on one machine, not against a figure recorded on another.
"CPU s" are the CPU seconds (user + system) the parent and its worker processes used: on a machine shared
with other jobs the wall-clock rate is noisy, the CPU a row costs much less so. For dask the cluster's
worker processes are children of the measuring process too, so their CPU includes their start-up.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from batch_throughput import make_inputs  # noqa: E402  (the same model and ticket files as the chunked bench)


def _warm_up() -> None:
    """What a long-lived dask worker has imported already (the libraries, not the model)."""
    import pandas  # noqa: F401
    import skops.io  # noqa: F401
    import sklearn.pipeline  # noqa: F401

    import lifecycle_lab.projects.p01_tickets.batch  # noqa: F401


def worker(kind: str, path: str, artifact: str, db: str) -> None:
    import pandas  # noqa: F401
    import skops.io  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sqlalchemy  # noqa: F401

    from lifecycle_lab.projects.p01_tickets.batch import read_csv_chunks, run_batch

    cluster = None
    if kind.startswith("dask"):
        from distributed import Client, LocalCluster

        n = int(kind[4:])
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, memory_limit="2GiB")
        with Client(cluster.scheduler_address) as warm:  # imports on the workers, outside the clock
            warm.run(_warm_up)
    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # CPU seconds (user + system) before the clock
    start = time.perf_counter()
    if kind == "model":
        from lifecycle_lab.deployment.registry import load_artifact

        model, _ = load_artifact(artifact)
        rows = 0
        for chunk, _ in read_csv_chunks(Path(path), 2000):
            model.predict_proba(chunk["text"].tolist())
            rows += len(chunk)
    elif cluster is not None:
        rows = run_batch(path, db, artifact, create_db=True, engine="dask", scheduler=cluster.scheduler_address).rows_in
    else:
        rows = run_batch(path, db, artifact, create_db=True, workers=int(kind[1:])).rows_in
    seconds = time.perf_counter() - start
    if cluster is not None:
        cluster.close()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"kind": kind, "rows": rows, "seconds": seconds, "peak_mb": own.ru_maxrss / 1024,
                      "worker_mb": children.ru_maxrss / 1024, "cpu_parent": own.ru_utime + own.ru_stime - cpu0,
                      "cpu_workers": children.ru_utime + children.ru_stime}))


def measure(kind: str, path: Path, artifact: Path, folder: Path, run: int, base_src: str | None = None) -> dict:
    db = folder / f"{kind}_{path.stem}_{run}.db"
    load = os.getloadavg()[0]
    code, _, base = kind.partition("@")
    env = dict(os.environ)
    if base:  # the other checkout's package shadows the installed (editable) one
        env["PYTHONPATH"] = os.pathsep.join(p for p in (base_src, env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, __file__, "--worker", code, str(path), str(artifact), f"sqlite:///{db}"],
                          capture_output=True, text=True, env=env)
    db.unlink(missing_ok=True)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(load_before=load, rate=result["rows"] / result["seconds"])
    print(f"  {kind:>11} run {run}: {result['rate']:>8,.0f} rows/s, {result['seconds']:.1f} s, parent "
          f"{result['peak_mb']:.0f} MB, workers {result['worker_mb']:.0f} MB, load {load:.2f}, CPU s parent "
          f"{result.get('cpu_parent', 0):.1f} workers {result.get('cpu_workers', 0):.1f}", flush=True)
    return result


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    import platform

    return {"cpu": cpu, "usable_cores": len(os.sched_getaffinity(0)), "nproc": os.cpu_count(), "mem_mb": mem,
            "python": platform.python_version(), "kernel": platform.release()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", default=["model", "w1", "w2", "dask1", "dask2"])
    parser.add_argument("--big-rows", type=int, default=0)
    parser.add_argument("--base-src", default=None, help="also run each kind on this checkout's src (KIND@base)")
    parser.add_argument("--json", default=None, help="also write the raw results to this file")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    info = machine()
    if args.base_src:
        args.base_src = str(Path(args.base_src).resolve())
        if not (Path(args.base_src) / "lifecycle_lab").is_dir():
            parser.error(f"--base-src {args.base_src}: no lifecycle_lab package there (give a checkout's src folder)")
        args.kinds = [k for kind in args.kinds for k in (kind, f"{kind}@base")]
        info["base_src"] = args.base_src
    print("machine:", json.dumps(info), flush=True)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results: dict[str, list] = {k: [] for k in args.kinds}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sizes = [args.rows] + ([args.big_rows] if args.big_rows else [])
        artifact, files = make_inputs(folder, sizes)
        print(f"{args.rows:,} tickets: {files[args.rows].stat().st_size / 1e6:.1f} MB", flush=True)
        for run in range(args.repeats):
            for kind in args.kinds:
                results[kind].append(measure(kind, files[args.rows], artifact, folder, run, args.base_src))
        big = {}
        if args.big_rows:
            print(f"{args.big_rows:,} tickets: {files[args.big_rows].stat().st_size / 1e6:.1f} MB", flush=True)
            for kind in ("w2", "dask2"):
                big[kind] = measure(kind, files[args.big_rows], artifact, folder, 0)
    end_load = os.getloadavg()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in end_load)}")
    base = statistics.median(r["rate"] for r in results["w1"]) if results.get("w1") else None
    print(f"\n{'kind':>11} | {'rows/s median (range)':>26} | {'vs w1':>6} | {'parent MB':>9} | {'worker MB':>9} | load")
    for kind, runs in results.items():
        rates = [r["rate"] for r in runs]
        med = statistics.median(rates)
        ratio = f"{med / base:.2f}x" if base else "-"
        loads = "-".join(f"{r['load_before']:.1f}" for r in runs)
        print(f"{kind:>11} | {med:>10,.0f} ({min(rates):,.0f}-{max(rates):,.0f}) | {ratio:>6} | "
              f"{statistics.median(r['peak_mb'] for r in runs):>9.0f} | "
              f"{statistics.median(r['worker_mb'] for r in runs):>9.0f} | {loads}")
    for kind, r in big.items():
        print(f"{args.big_rows:,} rows, {kind}: {r['rate']:,.0f} rows/s, parent {r['peak_mb']:.0f} MB, "
              f"workers {r['worker_mb']:.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "rows": args.rows, "results": results, "big": big,
                                               "load_end": end_load}, indent=1) + "\n")


if __name__ == "__main__":
    main()
