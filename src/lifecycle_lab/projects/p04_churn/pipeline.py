"""The weekly continuous-training pipeline as a real Prefect 3 flow, offline, with MLflow's registry.

Tasks: extract the week -> validate it with a pandera schema (a failing validation stops the flow: the
champion stays) -> drift check -> train a challenger on the newest labelled weeks -> evaluate and gate it
(`policies.promotion`, the gate engine) -> register it in MLflow (local SQLite store) and move the
`champion` alias when the gate says GO (`deployment.registry`). The extract task has retries (the upstream
store is flaky: `flaky_failures` makes its first attempts fail, to show them). Idempotent per week: a week
whose model is already registered is not registered again (the run is found by its `pipeline_week` tag).

Prefect runs on a local server in this process (`local_server`). Every file it writes (its database, logs)
goes under PREFECT_HOME, set here to a folder of the build directory before prefect is imported; telemetry
off. Run history comes from Prefect's own API (`flow_runs`).

Triggers: `deploy` registers the flow as a deployment with a cron schedule (every Monday 06:00 UTC, the
week's scoring day) on that server; a scheduled run without a `week` parameter works out its week from its
scheduled start time (weeks since `GO_LIVE`). The drift alert starts a run too: `alert_trigger` is a
webhook handler that creates a flow run of the deployment for the alert's week. A worker process
(`prefect worker start`, or `flow.serve()`) would pick those runs up; here `execute` runs one in this
process the way a worker's subprocess does (`prefect.flow_engine.run_flow` on the run the server holds).
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
from lifecycle_lab.projects.p04_churn.world import NUMERIC, PLANS, REGIONS, ChurnWorld

MODEL_NAME = "churn"
EXPERIMENT = "p04-churn-ct"
CHAMPION = "champion"
TRAIN_WEEKS = 6
HOLDOUT_WEEKS = 2
FLOW_NAME = "churn-weekly-ct"
DEPLOYMENT = "weekly"
CRON = "0 6 * * 1"
"""Every Monday at 06:00 (UTC): the week's scoring data is complete by then."""
GO_LIVE = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
"""Monday of scored week 0: a scheduled run's week is the number of whole weeks from here to its start.
In the past on purpose: a run scheduled in the future waits for its time (the engine holds it)."""


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
                        flaky_failures: int = 0, counter: str = "") -> dict:
        if week is None:  # a run of the cron schedule: the week it was scheduled for
            from prefect.runtime import flow_run

            week = scheduled_week(flow_run.scheduled_start_time)
        return steps(scenario, week, uri, artifact_root, flaky_failures=flaky_failures, counter=counter,
                     call=lambda fn, *a: tasks[fn](*a))

    weekly_pipeline.__qualname__ = "weekly_pipeline"  # its entrypoint: this module's `weekly_pipeline`
    # results persisted (JSON under PREFECT_HOME): a run executed by a worker process can be read back
    return flow(name=FLOW_NAME, validate_parameters=False, persist_result=True,
                result_serializer="json")(weekly_pipeline)


def scheduled_week(start) -> int:
    """The scored week a run scheduled at `start` (a datetime) is for: whole weeks since GO_LIVE."""
    start = start if start.tzinfo else start.replace(tzinfo=dt.timezone.utc)
    return (start - GO_LIVE).days // 7


def __getattr__(name):  # the deployment's entrypoint `...pipeline:weekly_pipeline` loads the built flow
    if name == "weekly_pipeline":
        return build_flow()
    raise AttributeError(name)


@contextlib.contextmanager
def local_server(timeout: float = 120.0):
    """A temporary local Prefect server for the duration of the block (a uvicorn thread on 127.0.0.1).

    Why not Prefect's own temporary server: it starts in a subprocess, where the fastapi shim above does
    not apply (that server exits with code 1 under the lock's versions). This is the same app
    (`prefect.server.api.server.create_app`, UI off, database under PREFECT_HOME) served from this process;
    flows inside the block talk to it through PREFECT_API_URL.
    """
    build_flow()
    import socket
    import threading
    import time

    import uvicorn
    from prefect.server.api.server import create_app
    from prefect.settings import PREFECT_API_URL, temporary_settings

    os.environ["PREFECT_UI_ENABLED"] = "0"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ephemeral=True, final=True), host="127.0.0.1", port=port,
                                           log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, name="prefect-local-server", daemon=True)
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


def flow_runs(limit: int = 50, deployment_id=None) -> list[dict]:
    """The run history from Prefect's API (oldest first): name, state, week, tags, deployment, start time.
    A run of the cron schedule carries no `week` parameter: its week is the one it was scheduled for."""
    build_flow()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    only = None if deployment_id is None else DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=limit, sort=FlowRunSort.START_TIME_ASC, deployment_filter=only)

    def week(r):
        w = r.parameters.get("week")
        return scheduled_week(r.expected_start_time) if w is None and r.deployment_id else w

    return [{"id": str(r.id), "name": r.name, "state": r.state_name, "week": week(r), "tags": sorted(r.tags),
             "deployment": str(r.deployment_id) if r.deployment_id else None, "start": r.start_time} for r in runs]


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

def deploy(world: ChurnWorld, folder: str | Path, *, cron: str = CRON, name: str = DEPLOYMENT) -> str:
    """Register the flow as a deployment with a cron schedule on the server in use (inside
    `local_server`); its default parameters point at the registry in `folder` (champion registered).
    Deploying again updates the same deployment. Returns the deployment's id."""
    from dataclasses import asdict

    from prefect.deployments.runner import EntrypointType

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    uri = registry.tracking_uri(folder)
    ensure_champion(world, uri, folder / "artifacts")
    deployment = _blocking(
        build_flow().to_deployment, name=name, cron=cron, entrypoint_type=EntrypointType.MODULE_PATH,
        parameters={"scenario": asdict(world.scenario), "uri": uri, "artifact_root": str(folder / "artifacts")},
        description="weekly continuous training of the churn model", tags=["p04"])
    return str(_blocking(deployment.apply))


def deployment_info(deployment_id) -> dict:
    """The deployment as the server holds it: name, entrypoint and schedules (cron, timezone, active)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        d = client.read_deployment(deployment_id)
    return {"name": d.name, "entrypoint": d.entrypoint, "parameters": sorted(d.parameters),
            "schedules": [{"cron": s.schedule.cron, "timezone": s.schedule.timezone, "active": s.active}
                          for s in d.schedules]}


def trigger(deployment_id, *, week: int | None = None, scheduled: dt.datetime | None = None,
            tags=()) -> str:
    """Create a flow run of the deployment (state Scheduled) for `week`, or for the week of its
    `scheduled` time (what the cron schedule does). Returns the run's id; `execute` runs it."""
    from prefect.deployments import run_deployment

    if scheduled is not None and scheduled > dt.datetime.now(dt.timezone.utc):
        raise PipelineError(f"scheduled={scheduled.isoformat()} is in the future: the engine would hold the run "
                            f"until then; schedule a week whose Monday has passed")
    params = {} if week is None else {"week": int(week)}
    run = _blocking(run_deployment, deployment_id, parameters=params, scheduled_time=scheduled, timeout=0,
                    tags=list(tags), as_subflow=False)
    return str(run.id)


def execute(*flow_run_ids, timeout: float = 600.0) -> list:
    """Run scheduled flow runs of the deployment the way a worker does: in a separate process (this module
    run as `python -m ...pipeline execute ID...`), which loads the flow, takes each run from the server
    and runs it, while the server records its states. Returns the final states, read from the server
    (`run_result` reads each run's persisted result). Call inside `local_server`."""
    import subprocess
    import sys

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise PipelineError("no Prefect server to take the runs from: call execute inside `local_server()`")
    env = {**os.environ, "PREFECT_API_URL": url, "DO_NOT_TRACK": "1"}
    proc = subprocess.run([sys.executable, "-m", "lifecycle_lab.projects.p04_churn.pipeline", "execute",
                           *map(str, flow_run_ids)], env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise PipelineError(f"the worker process failed (exit {proc.returncode}): {proc.stderr[-600:]}")
    with get_client(sync_client=True) as client:
        return [client.read_flow_run(i).state for i in flow_run_ids]


def _work(flow_run_ids) -> None:
    """The worker process: run each flow run in this process's main thread (no event loop running)."""
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow

    flow = build_flow()
    for run_id in flow_run_ids:
        with get_client(sync_client=True) as client:
            run = client.read_flow_run(run_id)
        run_flow(flow, flow_run=run, parameters=run.parameters, return_type="state")


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


if __name__ == "__main__":  # pragma: no cover - the worker process started by `execute`
    import sys

    if sys.argv[1:2] != ["execute"]:
        raise SystemExit("usage: python -m lifecycle_lab.projects.p04_churn.pipeline execute FLOW_RUN_ID...")
    _work(sys.argv[2:])
