"""Project 04's costs: the Prefect flow beside the same steps as plain calls, retraining, a monitored year.

    .venv/bin/python bench/p04_pipeline.py [--weeks 3]
    .venv/bin/python bench/p04_pipeline.py --scheduler   # only the scheduler service and the worker

Prefect runs on a temporary local server in this process (`pipeline.local_server`), its database and
MLflow's SQLite registry under build/bench/p04/. "plain" runs `pipeline.steps` with direct calls against a
second registry; "flow" runs the same steps as Prefect tasks. Both register one model per week, so the
difference is what the orchestrator adds (task and flow runs recorded through its API). Wall times on a
shared machine: compare the two columns of one run, not runs across machines. Not part of the test suite.

`--scheduler` prices the deployment's moving parts: the server's start with its scheduler service, the time
from `deploy` until the scheduler's runs are readable through the API, a `prefect worker start` until its
first heartbeat, and a backfilled week from its creation to Completed through the worker (a process of its
own per run) beside the same week run by `run_week` in this process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from dataclasses import asdict

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")

from lifecycle_lab.base import paths  # noqa: E402
from lifecycle_lab.deployment import registry  # noqa: E402
from lifecycle_lab.projects.p04_churn import model as churn_model  # noqa: E402
from lifecycle_lab.projects.p04_churn import operate, pipeline, policies  # noqa: E402
from lifecycle_lab.projects.p04_churn.world import ChurnWorld  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=3, help="weeks run through each path after the first")
    ap.add_argument("--scheduler", action="store_true", help="only the scheduler service and the worker")
    args = ap.parse_args()
    root = paths.BUILD / "bench" / "p04"
    shutil.rmtree(root, ignore_errors=True)
    out: dict = {}
    world = ChurnWorld(n_weeks=36)
    if args.scheduler:
        return report(root, scheduler_and_worker(root, world))
    scenario = asdict(world.scenario)

    t = time.perf_counter()
    hist = world.history()
    fits = []
    for _ in range(5):
        t1 = time.perf_counter()
        churn_model.train(policies.labelled_by(world, 26, 8))
        fits.append(time.perf_counter() - t1)
    out["retrain_s_median_of_5"] = statistics.median(fits)
    out["rows_per_retrain"] = 8 * world.scenario.n_per_week
    del hist, t

    t = time.perf_counter()
    operate.operate(ChurnWorld())
    out["operate_year_s"] = time.perf_counter() - t
    t = time.perf_counter()
    policies.compare_policies(ChurnWorld(n_weeks=36))
    out["compare_policies_36_weeks_s"] = time.perf_counter() - t

    plain = root / "plain"
    plain.mkdir(parents=True)
    uri = registry.tracking_uri(plain)
    pipeline.ensure_champion(world, uri, plain / "artifacts")
    times = []
    for week in range(26, 27 + args.weeks):
        t = time.perf_counter()
        pipeline.steps(scenario, week, uri, str(plain / "artifacts"))
        times.append(time.perf_counter() - t)
    out["plain_first_week_s"], out["plain_later_weeks_s"] = times[0], statistics.median(times[1:])

    pipeline.configure(root / "prefect")
    t = time.perf_counter()
    with pipeline.local_server():
        out["prefect_import_and_server_start_s"] = time.perf_counter() - t
        times = []
        for week in range(26, 27 + args.weeks):
            t = time.perf_counter()
            state = pipeline.run_week(world, week, root / "flow")
            times.append(time.perf_counter() - t)
            assert state.is_completed(), state.message
        out["flow_first_week_s"], out["flow_later_weeks_s"] = times[0], statistics.median(times[1:])
        t = time.perf_counter()
        pipeline.run_week(world, 26, root / "flow")
        out["flow_rerun_of_a_registered_week_s"] = time.perf_counter() - t
    out["orchestrator_overhead_later_weeks_s"] = out["flow_later_weeks_s"] - out["plain_later_weeks_s"]
    report(root, out)


def scheduler_and_worker(root, world) -> dict:
    """The scheduler service's and the worker's costs (see the module's docstring)."""
    out = {"load_average_1min_at_start": os.getloadavg()[0]}
    pipeline.configure(root / "prefect")
    t = time.perf_counter()
    with pipeline.local_server():
        out["prefect_import_and_server_start_with_scheduler_s"] = time.perf_counter() - t
        pipeline.ensure_champion(world, registry.tracking_uri(root / "flow"), root / "flow" / "artifacts")
        t = time.perf_counter()
        dep = pipeline.deploy(world, root / "flow")
        out["deploy_s"] = time.perf_counter() - t
        t = time.perf_counter()
        out["scheduler_runs"] = len(pipeline.scheduled_runs(dep))
        out["deploy_to_scheduler_runs_visible_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with pipeline.worker():
            out["worker_start_to_heartbeat_s"] = time.perf_counter() - t
            t = time.perf_counter()
            (state,) = pipeline.wait_for(*pipeline.backfill(dep, [26]))
            out["backfilled_week_created_to_completed_by_worker_s"] = time.perf_counter() - t
            assert state.is_completed(), state.message
        t = time.perf_counter()
        assert pipeline.run_week(world, 27, root / "flow").is_completed()
        out["same_steps_run_week_in_this_process_s"] = time.perf_counter() - t
    return out


def report(root, out: dict) -> None:
    out["cpus"] = os.cpu_count()
    out["load_average_1min"] = os.getloadavg()[0]
    rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps(rounded, indent=2))
    for k, v in rounded.items():
        print(f"{k:50} {v}")


if __name__ == "__main__":
    main()
