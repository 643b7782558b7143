"""The weekly continuous-training pipeline as a real Prefect 3 flow, offline, with MLflow's registry.

Tasks: extract the week -> validate it with a pandera schema (a failing validation stops the flow: the
champion stays) -> drift check -> train a challenger on the newest labelled weeks -> evaluate and gate it
(`policies.promotion`, the gate engine) -> register it in MLflow (local SQLite store) and move the
`champion` alias when the gate says GO (`deployment.registry`). The extract task has retries (the upstream
store is flaky: `flaky_failures` makes its first attempts fail, to show them). Idempotent per week: a week
whose model is already registered is not registered again (the run is found by its `pipeline_week` tag).

Prefect runs without any server configured: it starts a temporary local server for the process. Every file
it writes (its database, logs) goes under PREFECT_HOME, set here to a folder of the build directory
before prefect is imported; telemetry off. Run history comes from Prefect's own API (`flow_runs`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.deployment import registry
from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn import policies
from lifecycle_lab.projects.p04_churn.world import NUMERIC, PLANS, REGIONS, ChurnWorld

MODEL_NAME = "churn"
EXPERIMENT = "p04-churn-ct"
CHAMPION = "champion"
TRAIN_WEEKS = 6
HOLDOUT_WEEKS = 2


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

    @flow(name="churn-weekly-ct", validate_parameters=False)
    def weekly_pipeline(scenario: dict, week: int, uri: str, artifact_root: str, flaky_failures: int = 0,
                        counter: str = "") -> dict:
        return steps(scenario, week, uri, artifact_root, flaky_failures=flaky_failures, counter=counter,
                     call=lambda fn, *a: tasks[fn](*a))

    return weekly_pipeline


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


def flow_runs(limit: int = 50) -> list[dict]:
    """The run history from Prefect's API: name, state, start time, parameters' week."""
    build_flow()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=limit, sort=FlowRunSort.START_TIME_ASC)
    return [{"id": str(r.id), "name": r.name, "state": r.state_name, "week": r.parameters.get("week"),
             "start": r.start_time} for r in runs]
