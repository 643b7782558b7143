"""The weekly continuous-training pipeline as a real Prefect 3 flow, offline, with MLflow's registry.

Tasks: extract the week -> validate it with a pandera schema (a failing validation stops the flow: the
champion stays) -> drift check -> train a challenger on the newest labelled weeks -> evaluate and gate it
(`policies.promotion`, the gate engine) -> register it in MLflow (local SQLite store) and move the
`champion` alias when the gate says GO (`deployment.registry`). The extract task has retries (the upstream
store is flaky: `flaky_failures` makes its first attempts fail, to show them). Idempotent per week: a week
whose model is already registered is not registered again (the run is found by its `pipeline_week` tag).

Prefect runs on a local server in this process (`local_server`) with its scheduler service on (the other
background services off). Every file it writes (its database, logs, results) goes under PREFECT_HOME, set
here to a folder of the build directory before prefect is imported; telemetry off. Run history comes
from Prefect's own API (`flow_runs`).

Triggers: `deploy` registers the flow as a deployment with a cron schedule (every Monday 06:00 UTC, the
week's scoring day) on a `process` work pool. Prefect's scheduler service creates the schedule's flow runs
(auto-scheduled, the next Mondays; `scheduled_runs` reads them) and the engine holds each until its time;
a run of the schedule works out its week from its scheduled start (`world.week_of`, weeks since the
`go_live` parameter, the world's calendar by default). The drift alert starts a run too: `alert_trigger` is
a webhook handler that creates a flow run of the deployment for the alert's week, and `backfill` creates
the schedule's runs of weeks that have passed. A Prefect worker (`worker`: `prefect worker start` in a
subprocess) polls the pool and executes each run when its time comes, in a process of its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.deployment import registry
from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.monitoring.alerts import parse_payload
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn import policies
from lifecycle_lab.projects.p04_churn.world import (GO_LIVE, NUMERIC, PLANS, REGIONS, ChurnWorld, week_of,
                                                  week_start)

MODEL_NAME = "churn"
EXPERIMENT = "p04-churn-ct"
CHAMPION = "champion"
TRAIN_WEEKS = 6
HOLDOUT_WEEKS = 2
FLOW_NAME = "churn-weekly-ct"
DEPLOYMENT = "weekly"
CRON = "0 6 * * 1"
"""Every Monday at 06:00 (UTC): the week's scoring data is complete by then."""
WORK_POOL = "p04-process"
"""The `process` work pool the deployment's runs go to; a worker polling it runs each in a subprocess."""
SERVICES = {"scheduler": True, "late_runs": False, "cancellation_cleanup": False, "foreman": False,
            "pause_expirations": False, "repossessor": False, "cleanup_reconciler": False}
"""Prefect's periodic server services for `local_server`: the scheduler only. The others are off (they
tend to runs this workbook does not have: crashed workers, paused or cancelled runs, leases); the event and
task-run services a temporary server runs stay on."""
SCHEDULER_LOOP_SECONDS = 10.0
"""How often the scheduler service tops up the deployments' future runs (Prefect's default: 60 s)."""
RECENT_DEPLOYMENTS_LOOP_SECONDS = 2.0
"""How often it looks for deployments created or changed since its last look (default 5 s): a new
deployment's runs appear within about this long."""


class PipelineError(LifecycleLabError, RuntimeError):
    """The pipeline stopped on purpose (bad data, a flaky store out of retries); the champion stays."""


def configure(home: str | Path | None = None) -> Path:
    """Point Prefect at a folder of the build directory (before it is imported) and switch telemetry off."""
    root = Path(home) if home is not None else paths.BUILD / "p04" / "prefect"
    root.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_HOME"] = str(root.resolve())
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"  # logs stay local; the run states are in the API
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.pop("PREFECT_API_URL", None)
    return root


def schema():
    """The pandera schema of a scored week: types, ranges a unit or join bug breaks, known categories."""
    import pandera.pandas as pa

    return pa.DataFrameSchema({
        "usage_hours": pa.Column(float, [pa.Check.ge(0), pa.Check.le(168)],  # hours in a week
                                 description="weekly active hours; minutes would exceed 168"),
        "seats": pa.Column(int, pa.Check.ge(1)),
        "support_tickets": pa.Column(int, pa.Check.ge(0)),
        "billing_failures": pa.Column(int, pa.Check.ge(0)),
        "tenure_months": pa.Column(float, pa.Check.ge(0)),
        "plan": pa.Column(str, pa.Check.isin(list(PLANS))),
        "region": pa.Column(str, pa.Check.isin(list(REGIONS))),
    }, checks=[pa.Check(lambda df: (df["support_tickets"] == 0).mean() < 0.6,
                        error="more than 60% of rows have no support tickets: is the support join broken?")],
        strict=False, coerce=False)


def _sha(frame) -> str:
    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


def _registered_week(uri: str, week: int) -> dict | None:
    mlflow = registry._mlflow(uri)
    from mlflow import MlflowClient

    client = MlflowClient()
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is None:
        return None
    runs = client.search_runs([exp.experiment_id], f"tags.pipeline_week = '{week}'")
    if not runs:
        return None
    versions = [v for v in client.search_model_versions(f"name='{MODEL_NAME}'") if v.run_id == runs[0].info.run_id]
    del mlflow
    return {"run_id": runs[0].info.run_id, "version": int(versions[0].version) if versions else None}


def _fastapi_compat() -> bool:
    """Let prefect 3.8.8's server import under fastapi 0.165 (the versions of the lock).

    Why: `prefect.server.api.concurrency_limits_v2` declares `Body(..., min_items=1)`, a pydantic-v1
    keyword that fastapi 0.165 no longer accepts, so the temporary local server fails to start (TypeError).
    This wraps `fastapi.Body` to pass `min_items` on as `min_length` (its pydantic-v2 name) and changes
    nothing else. Remove it once the lock moves to a prefect whose server passes `min_length` itself.
    Returns whether the wrapper was installed.
    """
    import inspect

    import fastapi

    if "min_items" in inspect.signature(fastapi.Body).parameters or getattr(fastapi.Body, "_p04_compat", False):
        return False
    original = fastapi.Body

    @functools.wraps(original)
    def Body(*args, **kwargs):  # noqa: N802 - the name prefect imports
        for old, new in (("min_items", "min_length"), ("max_items", "max_length")):
            if old in kwargs:
                kwargs.setdefault(new, kwargs.pop(old))
        return original(*args, **kwargs)

    Body._p04_compat = True
    fastapi.Body = Body
    return True


def _sqlalchemy_compat() -> bool:
    """Let prefect 3.8.8's scheduler service insert its runs under sqlalchemy 2.1 (the lock's version).

    Why: the scheduler inserts the runs it creates with one bulk INSERT of dictionaries that carry a
    `state` key, which Prefect then writes as flow-run-state rows itself. `FlowRun.state` is a hybrid
    property; sqlalchemy 2.0 ignored such a key in a bulk INSERT, 2.1 calls the hybrid's `bulk_dml` hook
    and raises (InvalidRequestError "please supply a bulk_dml decorated function") when it has none, so
    every pass of the scheduler failed and no run was ever scheduled. This gives the `state` hybrids of
    flow and task runs a `bulk_dml` hook that leaves the dictionary as it is: 2.0's behaviour. Remove it
    once the lock moves to a prefect that declares the hook. Returns whether a hook was installed.
    """
    from prefect.server.database import orm_models
    from sqlalchemy.ext.hybrid import hybrid_property

    done = False
    for model in (orm_models.FlowRun, orm_models.TaskRun):
        hybrid = model.__dict__.get("state")
        if isinstance(hybrid, hybrid_property) and hasattr(hybrid.inplace, "bulk_dml") \
                and getattr(hybrid, "bulk_dml_setter", True) is None:
            hybrid.inplace.bulk_dml(lambda cls, mapping, value: None)  # Prefect inserts the states itself
            done = True
    return done


# -- the steps, as plain functions (the flow wraps each in a task; bench/ runs them bare to price Prefect) ---

def extract(scenario: dict, week: int, flaky_failures: int, counter: str):
    """The week's rows from the (simulated) feature store; the first `flaky_failures` attempts time out."""
    path = Path(counter) if counter else None
    attempts = (int(path.read_text()) + 1 if path.exists() else 1) if path else 1
    if path:
        path.write_text(str(attempts))
    if attempts <= flaky_failures:
        raise PipelineError(f"the feature store timed out (attempt {attempts}): retrying")
    return ChurnWorld(**scenario).week(week)


def validate(frame):
    """The schema check; a failure stops the pipeline before anything is trained or registered."""
    from pandera.errors import SchemaError

    try:
        return schema().validate(frame)
    except SchemaError as err:
        raise PipelineError(f"week {int(frame['week'].iloc[0])} failed validation, champion kept: "
                            f"{str(err).splitlines()[0][:160]}") from None


def drift_check(scenario: dict, frame) -> float:
    """The largest PSI of a numeric input against the champion's training data (the history)."""
    ref = ChurnWorld(**scenario).history()
    return max(monitor.psi(ref[c], frame[c]) for c in NUMERIC)


def train(scenario: dict, week: int):
    """A challenger fitted on the newest labelled weeks but the last two, which are its holdout."""
    world = ChurnWorld(**scenario)
    data = policies.labelled_by(world, week, TRAIN_WEEKS + HOLDOUT_WEEKS)
    cut = sorted(data["week"].unique())[-HOLDOUT_WEEKS]
    fit, holdout = data[data["week"] < cut], data[data["week"] >= cut]
    return churn_model.train(fit), holdout, _sha(churn_model.features(fit))


def evaluate(uri: str, challenger, holdout) -> dict:
    """The gate on champion vs challenger (`policies.promotion`), with the champion from the registry."""
    champion = registry.load_registered(uri, MODEL_NAME, CHAMPION)
    promote, result = policies.promotion(champion, challenger, holdout)
    cost = result.table().loc["cost_change"]
    return {"promote": bool(promote), "decision": result.decision, "cost_change": float(cost["value"]),
            "cost_change_ci": [float(x) for x in cost["ci"]]}


def register(uri: str, artifact_root: str, week: int, model, data_sha: str, verdict: dict, psi: float) -> dict:
    """Register the week's challenger once (idempotent) and move the champion alias if the gate said so."""
    done = _registered_week(uri, week)
    if done is not None:  # this week's model exists already
        return {**done, "new": False, "alias_moved": False}
    out = registry.log_and_register(
        model, uri=uri, artifact_root=artifact_root, experiment=EXPERIMENT, name=MODEL_NAME,
        params={"seed": 0, "week": week, "train_weeks": TRAIN_WEEKS},
        metrics={"cost_change": verdict["cost_change"], "max_psi": psi},
        tags={"pipeline_week": str(week), "gate": verdict["decision"]}, training_data_sha256=data_sha,
        review_threshold=churn_model.THRESHOLD)
    if verdict["promote"]:
        registry.set_alias(uri, MODEL_NAME, CHAMPION, out["version"])
    return {"run_id": out["run_id"], "version": out["version"], "new": True, "alias_moved": verdict["promote"]}


def steps(scenario: dict, week: int, uri: str, artifact_root: str, *, flaky_failures: int = 0, counter: str = "",
          call=lambda fn, *a: fn(*a)) -> dict:
    """The pipeline's order of steps; `call` runs each (directly, or as a Prefect task)."""
    frame = call(extract, scenario, week, flaky_failures, counter)
    frame = call(validate, frame)
    psi = call(drift_check, scenario, frame)
    challenger, holdout, data_sha = call(train, scenario, week)
    verdict = call(evaluate, uri, challenger, holdout)
    reg = call(register, uri, artifact_root, week, challenger, data_sha, verdict, psi)
    return {"week": week, "max_psi": psi, **verdict, **reg}


@functools.lru_cache(maxsize=1)
def build_flow():
    """The flow: each step a Prefect task (extract with 2 retries). Imports prefect: `configure` first."""
    if "PREFECT_HOME" not in os.environ:
        configure()
    _fastapi_compat()
    from prefect import flow, task
    from prefect.cache_policies import NONE

    tasks = {fn: task(fn, cache_policy=NONE, **({"retries": 2, "retry_delay_seconds": 0} if fn is extract else {}))
             for fn in (extract, validate, drift_check, train, evaluate, register)}

    def weekly_pipeline(scenario: dict, uri: str, artifact_root: str, week: int | None = None,
                        flaky_failures: int = 0, counter: str = "", go_live: str | None = None) -> dict:
        if week is None:  # a run of the cron schedule: the week it was scheduled for
            from prefect.runtime import flow_run

            week = scheduled_week(flow_run.scheduled_start_time, go_live)
        return steps(scenario, week, uri, artifact_root, flaky_failures=flaky_failures, counter=counter,
                     call=lambda fn, *a: tasks[fn](*a))

    weekly_pipeline.__qualname__ = "weekly_pipeline"  # its entrypoint: this module's `weekly_pipeline`
    # results persisted (JSON under PREFECT_HOME): a run executed by a worker process can be read back
    return flow(name=FLOW_NAME, validate_parameters=False, persist_result=True,
                result_serializer="json")(weekly_pipeline)


def scheduled_week(start, go_live: str | dt.datetime | None = None) -> int:
    """The scored week a run scheduled at `start` (a datetime) is for: whole weeks since `go_live` (the
    flow's parameter: an ISO text or a datetime; None is the world's `GO_LIVE`, Monday of week 0)."""
    if isinstance(go_live, str):
        go_live = dt.datetime.fromisoformat(go_live)
    return week_of(start, GO_LIVE if go_live is None else go_live)


def __getattr__(name):  # the deployment's entrypoint `...pipeline:weekly_pipeline` loads the built flow
    if name == "weekly_pipeline":
        return build_flow()
    raise AttributeError(name)


@contextlib.contextmanager
def local_server(timeout: float = 120.0):
    """A temporary local Prefect server for the duration of the block (a uvicorn thread on 127.0.0.1),
    with Prefect's scheduler service running in it (`SERVICES`, loop intervals from Prefect's settings).

    Why not Prefect's own temporary server or `prefect server start`: both start the server in a
    subprocess, where the fastapi shim above does not apply (that server exits with code 1 under the lock's
    versions). This is the same app (`prefect.server.api.server.create_app`, as `prefect server start`
    builds it: not ephemeral, so its periodic services run; UI off, database under PREFECT_HOME) served
    from this process. The services read their settings in the server's thread, and the scheduler its
    loop intervals when `prefect.server` is first imported: both happen inside `temporary_settings` here.
    Flows inside the block talk to it through PREFECT_API_URL.
    """
    build_flow()
    import socket
    import threading
    import time

    import prefect.settings as ps
    import uvicorn
    from prefect.settings import PREFECT_API_URL, temporary_settings

    updates = {getattr(ps, f"PREFECT_SERVER_SERVICES_{name.upper()}_ENABLED"): on for name, on in SERVICES.items()}
    updates.update({ps.PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS: SCHEDULER_LOOP_SECONDS,
                    ps.PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS:
                        RECENT_DEPLOYMENTS_LOOP_SECONDS, ps.PREFECT_UI_ENABLED: False})
    with temporary_settings(updates=updates):
        from prefect.server.api.server import create_app

        app = create_app(ephemeral=False, final=True, ignore_cache=True)
        _sqlalchemy_compat()
        context = contextvars.copy_context()  # the server thread runs with these settings
    loops = scheduler_loops()
    if loops != {"schedule_deployments": SCHEDULER_LOOP_SECONDS,
                 "schedule_recent_deployments": RECENT_DEPLOYMENTS_LOOP_SECONDS}:
        raise PipelineError(f"prefect.server was imported before local_server() (its scheduler loops are {loops}):"
                            f" start the local server before anything else imports prefect.server (in a notebook: restart"
                            f" the kernel and run the cells from the top)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
    thread = threading.Thread(target=context.run, args=(server.run,), name="prefect-local-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise PipelineError(f"the local Prefect server did not start within {timeout:g} s; see its log above")
        time.sleep(0.05)
    try:
        with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
            yield f"http://127.0.0.1:{port}/api"
    finally:
        server.should_exit = True
        thread.join(30)


def scheduler_loops() -> dict[str, float]:
    """The loop intervals (s) of Prefect's two scheduler services as they were registered (read from the
    services themselves: Prefect fixes them when `prefect.server` is imported)."""
    from docket import Perpetual
    from docket.dependencies import get_single_dependency_parameter_of_type
    from prefect.server.services import scheduler

    return {fn.__name__: get_single_dependency_parameter_of_type(fn, Perpetual).every.total_seconds()
            for fn in (scheduler.schedule_deployments, scheduler.schedule_recent_deployments)}


def ensure_champion(world: ChurnWorld, uri: str, artifact_root: str | Path) -> int:
    """Register the week-0 champion (trained on the history) once; return the champion's version."""
    registry._mlflow(uri)
    done = _registered_week(uri, 0)
    if done is None:
        hist = world.history()
        model = churn_model.train(hist)
        registry.log_and_register(model, uri=uri, artifact_root=artifact_root, experiment=EXPERIMENT,
                                  name=MODEL_NAME, params={"seed": 0, "week": 0}, metrics={},
                                  tags={"pipeline_week": "0", "gate": "initial"}, alias=CHAMPION,
                                  training_data_sha256=_sha(churn_model.features(hist)),
                                  review_threshold=churn_model.THRESHOLD)
    return registry.aliases(uri, MODEL_NAME)[CHAMPION]


def run_week(world: ChurnWorld, week: int, folder: str | Path, *, flaky_failures: int = 0):
    """Run the flow for one week against the registry in `folder`; returns Prefect's final state."""
    from dataclasses import asdict

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uri = registry.tracking_uri(folder)
    artifacts = folder / "artifacts"
    ensure_champion(world, uri, artifacts)
    counter = folder / f"extract-attempts-week{week}.txt"
    counter.unlink(missing_ok=True)
    flow = build_flow()
    return flow(scenario=asdict(world.scenario), week=week, uri=uri, artifact_root=str(artifacts),
                flaky_failures=flaky_failures, counter=str(counter), return_state=True)


def flow_runs(limit: int = 200, deployment_id=None) -> list[dict]:
    """The run history from Prefect's API (oldest expected start first): name, state, week, tags,
    deployment, whether the scheduler created it (`auto`), expected and actual start time. A run of the cron
    schedule carries no `week` parameter: its week is the one it was scheduled for (`go_live` parameter)."""
    build_flow()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    only = None if deployment_id is None else DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=limit, sort=FlowRunSort.EXPECTED_START_TIME_ASC, deployment_filter=only)

    def week(r):
        w = r.parameters.get("week")
        return scheduled_week(r.expected_start_time, r.parameters.get("go_live")) if w is None and r.deployment_id \
            else w

    return [{"id": str(r.id), "name": r.name, "state": r.state_name, "week": week(r), "tags": sorted(r.tags),
             "deployment": str(r.deployment_id) if r.deployment_id else None, "auto": bool(r.auto_scheduled),
             "expected": r.expected_start_time, "start": r.start_time} for r in runs]


def _blocking(fn, *args, **kwargs):
    """Call one of Prefect's dual sync/async functions and get its value, even inside a notebook.

    Why: Prefect's public functions that talk to the server (`State.result`, `Flow.to_deployment`,
    `RunnerDeployment.apply`, `run_deployment`) return a coroutine when an event loop is running in the
    thread, as it is in a Jupyter kernel. In a worker thread (no loop; a copy of the caller's context, where
    the API URL of `local_server` lives) they return the value.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(contextvars.copy_context().run, fn, *args, **kwargs).result()


def run_result(state):
    """The flow's return value from its final state, through Prefect's public `State.result()` (in a
    notebook too: `_blocking`). Raises the flow's error if it failed."""
    return _blocking(state.result)


# -- the deployment: a cron schedule and the drift alert start runs -------------------------------------

def deploy(world: ChurnWorld, folder: str | Path, *, cron: str = CRON, name: str = DEPLOYMENT,
           go_live: dt.datetime | None = None, pool: str = WORK_POOL) -> str:
    """Register the flow as a deployment with a cron schedule on the server in use (inside
    `local_server`), its runs going to the `process` work pool `pool` (created if missing); its default
    parameters point at the registry in `folder` (champion registered) and at `go_live`, the Monday of
    week 0 its scheduled runs count weeks from (None: the world's `GO_LIVE`). From then on the server's
    scheduler service creates the schedule's runs. Deploying again updates the same deployment (and the
    scheduler replaces its future runs). Returns the deployment's id."""
    from dataclasses import asdict

    from prefect.deployments.runner import EntrypointType

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uri = registry.tracking_uri(folder)
    ensure_champion(world, uri, folder / "artifacts")
    ensure_pool(pool)
    params = {"scenario": asdict(world.scenario), "uri": uri, "artifact_root": str(folder / "artifacts")}
    if go_live is not None:
        params["go_live"] = go_live.isoformat()
    deployment = _blocking(
        build_flow().to_deployment, name=name, cron=cron, entrypoint_type=EntrypointType.MODULE_PATH,
        parameters=params, description="weekly continuous training of the churn model", tags=["p04"])
    return str(_blocking(deployment.apply, work_pool_name=pool))


def ensure_pool(name: str = WORK_POOL, concurrency: int = 1) -> None:
    """Create the `process` work pool (if missing) with Prefect's default job template for it. One run at a
    time (`concurrency`): two runs of the same week at once could both find it unregistered."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        with contextlib.suppress(ObjectAlreadyExists):
            client.create_work_pool(WorkPoolCreate(name=name, type="process", concurrency_limit=concurrency,
                                                   base_job_template=ProcessWorker.get_default_base_job_template()))


def deployment_info(deployment_id) -> dict:
    """The deployment as the server holds it: name, entrypoint, work pool and schedules (cron, timezone,
    active)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        d = client.read_deployment(deployment_id)
    return {"name": d.name, "entrypoint": d.entrypoint, "parameters": sorted(d.parameters),
            "work_pool": d.work_pool_name,
            "schedules": [{"cron": s.schedule.cron, "timezone": s.schedule.timezone, "active": s.active}
                          for s in d.schedules]}


def scheduled_runs(deployment_id, *, wait: float = 60.0) -> list[dict]:
    """The runs of the deployment that Prefect's scheduler service created (auto-scheduled, from the
    API), oldest first; waits up to `wait` s for the service's first pass over a new deployment."""
    import time

    deadline = time.monotonic() + wait
    while True:
        runs = [r for r in flow_runs(deployment_id=deployment_id) if r["auto"]]
        if runs or time.monotonic() > deadline:
            return runs
        time.sleep(0.5)


def trigger(deployment_id, *, week: int | None = None, scheduled: dt.datetime | None = None,
            tags=()) -> str:
    """Create a flow run of the deployment (state Scheduled) for `week`, or for the week of its
    `scheduled` time (a schedule's run, as `backfill` makes it). Returns the run's id; a worker runs it."""
    from prefect.deployments import run_deployment

    if scheduled is not None and scheduled > dt.datetime.now(dt.timezone.utc):
        raise PipelineError(f"scheduled={scheduled.isoformat()} is in the future: that run is the scheduler's "
                            f"to create; backfill a week whose fire time has passed")
    params = {} if week is None else {"week": int(week)}
    run = _blocking(run_deployment, deployment_id, parameters=params, scheduled_time=scheduled, timeout=0,
                    tags=list(tags), as_subflow=False)
    return str(run.id)


def fire_time(deployment_id, week: int) -> dt.datetime:
    """When the deployment's cron schedule fires in scored week `week`: its first fire time from the week's
    Monday 00:00 on, in the deployment's calendar (its `go_live` parameter, else the world's `GO_LIVE`)."""
    from prefect.client.orchestration import get_client
    from prefect.server.schemas.schedules import CronSchedule

    with get_client(sync_client=True) as client:
        d = client.read_deployment(deployment_id)
    go_live = d.parameters.get("go_live")
    monday = week_start(week, dt.datetime.fromisoformat(go_live) if go_live else GO_LIVE)
    (cron,) = [s.schedule for s in d.schedules if getattr(s.schedule, "cron", None)]
    schedule = CronSchedule(cron=cron.cron, timezone=cron.timezone or "UTC", day_or=cron.day_or)
    return next(iter(schedule._get_dates_generator(n=1, start=monday)))


def backfill(deployment_id, weeks) -> list[str]:
    """The schedule's runs of scored weeks that have passed (a pipeline that was down, or deployed late):
    for each week a run of the deployment at the cron's fire time in that week (`fire_time`), without a
    `week` parameter, as the scheduler would have created it then. Returns the runs' ids; a worker runs
    them at once (their time has come). Refuses a week whose fire time is still ahead."""
    return [trigger(deployment_id, scheduled=fire_time(deployment_id, w), tags=["backfill"]) for w in weeks]


@contextlib.contextmanager
def worker(pool: str = WORK_POOL, *, limit: int = 1, poll_seconds: float = 2.0, start_timeout: float = 120.0):
    """A Prefect worker for the block: `prefect worker start --pool POOL --type process` in a subprocess
    (its own process group), polling the pool every `poll_seconds` and running each flow run whose time
    has come in a process of its own, at most `limit` at once. Call inside `local_server`; yields the
    worker's name. On exit the worker and any run it started are stopped (their process group)."""
    import signal
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise PipelineError("no Prefect server for the worker: call worker() inside `local_server()`")
    name = f"p04-worker-{os.getpid()}"
    log = Path(os.environ["PREFECT_HOME"]) / f"{name}.log"
    env = {**os.environ, "PREFECT_API_URL": url, "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "INFO",
           "PREFECT_WORKER_QUERY_SECONDS": str(poll_seconds), "PREFECT_WORKER_PREFETCH_SECONDS": str(poll_seconds)}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type",
                                 "process", "--limit", str(limit), "--name", name, "--no-create-pool-if-not-found"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_worker(pool, name, proc, log, start_timeout)
        yield name
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _wait_for_worker(pool: str, name: str, proc, log: Path, timeout: float) -> None:
    """Until the worker has sent its first heartbeat to the pool (it is polling)."""
    import time

    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while not any(w.name == name for w in client.read_workers_for_work_pool(pool, limit=50, offset=0)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise PipelineError(f"the Prefect worker did not start within {timeout:g} s "
                                    f"(exit {proc.poll()}); its log {log}:\n{log.read_text()[-600:]}")
            time.sleep(0.5)


def wait_for(*flow_run_ids, timeout: float = 600.0) -> list:
    """Wait until each flow run is in a final state (a worker ran it) and return the states, read from the
    server (`run_result` reads a run's persisted result); PipelineError if one is still open at `timeout`."""
    import time

    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            states = [client.read_flow_run(i).state for i in flow_run_ids]
            if all(s.is_final() for s in states):
                return states
            if time.monotonic() > deadline:
                waiting = [f"{i}: {s.name}" for i, s in zip(flow_run_ids, states) if not s.is_final()]
                raise PipelineError(f"flow runs not finished within {timeout:g} s (is a worker running?): {waiting}")
            time.sleep(0.5)


def alert_trigger(deployment_id, signals=("drift", "performance")):
    """A webhook handler (for `monitoring.alerts.LocalReceiver(handler=...)`) that starts a flow run of
    the deployment for each alert of one of `signals`; the ids of the runs it started are in
    `handler.started`. It runs in the receiver's request thread, in a copy of the caller's context (the
    Prefect API URL of `local_server` lives there)."""
    context = contextvars.copy_context()
    started: list[str] = []

    def handler(payload):
        alert = parse_payload(payload)
        if alert is not None and alert["signal"] in signals:
            run_id = context.copy().run(trigger, deployment_id, week=alert["week"],
                                        tags=["alert", f"{alert['signal']}-alert"])
            started.append(run_id)

    handler.started = started
    return handler
