"""The continuous-training flow, run for real on Prefect's API (a temporary local server with its scheduler
service) and MLflow's SQLite registry, both under the build directory: retries, idempotence, the failure path
keeps the champion, the cron schedule's runs created by the scheduler and executed by a Prefect worker."""

import datetime as dt
import shutil

import pytest

from lifecycle_lab.base import paths
from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p04_churn import pipeline as pl
from lifecycle_lab.projects.p04_churn.world import ChurnWorld, week_of, week_start

ROOT = paths.BUILD / "tests" / "p04_pipeline"


@pytest.fixture(scope="module")
def server():
    shutil.rmtree(ROOT, ignore_errors=True)
    pl.configure(ROOT / "prefect")
    with pl.local_server() as url:
        yield url


def _versions(uri):
    registry._mlflow(uri)
    from mlflow import MlflowClient

    return sorted(int(v.version) for v in MlflowClient().search_model_versions(f"name='{pl.MODEL_NAME}'"))


def test_the_schema_refuses_what_the_data_bugs_deliver():
    from pandera.errors import SchemaError

    clean = ChurnWorld(n_weeks=36)
    pl.schema().validate(clean.week(27))
    for kind in ("unit", "join"):
        with pytest.raises(SchemaError):
            pl.schema().validate(ChurnWorld(n_weeks=36, data_bug=True, bug_kind=kind, bug_week=26).week(27))


def test_a_week_runs_once_with_a_retry_and_a_rerun_registers_nothing_new(server):
    world = ChurnWorld(n_weeks=36)
    folder = ROOT / "registry"
    state = pl.run_week(world, 26, folder, flaky_failures=1)
    assert state.is_completed(), state.message
    out = state.result()
    assert (folder / "extract-attempts-week26.txt").read_text() == "2"  # the first attempt failed, the retry ran
    uri = registry.tracking_uri(folder)
    assert _versions(uri) == [1, 2] and out["version"] == 2 and out["new"]
    champion = registry.aliases(uri, pl.MODEL_NAME)["champion"]
    assert champion == (2 if out["promote"] else 1) and out["alias_moved"] == out["promote"]
    again = pl.run_week(world, 26, folder)
    assert again.is_completed() and not again.result()["new"]
    assert _versions(uri) == [1, 2]  # idempotent: no second model for week 26
    history = [r for r in pl.flow_runs() if r["week"] == 26]
    assert [r["state"] for r in history][-2:] == ["Completed", "Completed"]


def test_a_failing_validation_or_a_store_out_of_retries_stops_the_flow_and_the_champion_stays(server):
    folder = ROOT / "registry-fail"
    uri = registry.tracking_uri(folder)
    bug = ChurnWorld(n_weeks=36, data_bug=True, bug_week=26)
    state = pl.run_week(bug, 27, folder)
    assert state.is_failed() and "failed validation" in state.message
    assert registry.aliases(uri, pl.MODEL_NAME) == {"champion": 1} and _versions(uri) == [1]
    state = pl.run_week(ChurnWorld(n_weeks=36), 26, folder, flaky_failures=5)
    assert state.is_failed() and "timed out" in state.message
    assert (folder / "extract-attempts-week26.txt").read_text() == "3"  # one try and two retries
    assert registry.aliases(uri, pl.MODEL_NAME) == {"champion": 1} and _versions(uri) == [1]
    failed = [r for r in pl.flow_runs() if r["state"] == "Failed"]
    assert len(failed) >= 2


def _mondays_at_six(after, n):
    """The next `n` Mondays 06:00 UTC strictly after `after`: the cron 0 6 * * 1 by plain date arithmetic."""
    day = after.astimezone(dt.timezone.utc).replace(hour=6, minute=0, second=0, microsecond=0)
    day -= dt.timedelta(days=day.weekday())  # this week's Monday 06:00
    out = []
    while len(out) < n:
        if day > after:
            out.append(day)
        day += dt.timedelta(weeks=1)
    return out


def test_the_scheduler_service_creates_the_cron_runs_and_a_worker_runs_them_when_their_time_comes(server):
    """Prefect's scheduler service (not this code) creates the runs of the cron schedules; a Prefect worker
    (`prefect worker start`, a process pool) executes them when their time comes, idempotent per week; the
    alert and a backfill create runs of the same deployment; all read back through the engine's API."""
    from prefect.client.orchestration import get_client
    from prefect.flows import load_flow_from_entrypoint
    from prefect.settings import get_current_settings

    from lifecycle_lab.monitoring import alerts as al

    world = ChurnWorld(n_weeks=36)
    folder = ROOT / "registry-deployed"
    assert pl.scheduler_loops() == {"schedule_deployments": pl.SCHEDULER_LOOP_SECONDS,
                                    "schedule_recent_deployments": pl.RECENT_DEPLOYMENTS_LOOP_SECONDS}
    deployed_at = dt.datetime.now(dt.timezone.utc)
    dep = pl.deploy(world, folder)
    info = pl.deployment_info(dep)
    assert info["name"] == pl.DEPLOYMENT and info["work_pool"] == pl.WORK_POOL
    assert info["schedules"] == [{"cron": "0 6 * * 1", "timezone": None, "active": True}]
    assert load_flow_from_entrypoint(info["entrypoint"]).name == pl.FLOW_NAME  # a worker can load it
    # the scheduler service's runs: the next Mondays 06:00, held by the engine (Scheduled) until their time
    mondays = pl.scheduled_runs(dep)
    settings = get_current_settings().server.services.scheduler
    assert len(mondays) == settings.min_runs  # weekly: the service's minimum of future runs (3)
    assert [r["expected"] for r in mondays] == _mondays_at_six(deployed_at, len(mondays))
    assert all(r["state"] == "Scheduled" and "auto-scheduled" in r["tags"] for r in mondays)
    assert [r["week"] for r in mondays] == [week_of(r["expected"]) for r in mondays]  # the world's calendar
    # an every-minute schedule whose week 28 is now (go_live parameter), to see the worker run one in time
    go_live = dt.datetime.now(dt.timezone.utc) - dt.timedelta(weeks=28, hours=1)
    minute_at = dt.datetime.now(dt.timezone.utc)
    every = pl.deploy(world, folder, cron="* * * * *", name="every-minute", go_live=go_live)
    minutes = pl.scheduled_runs(every)
    times = [r["expected"] for r in minutes]
    first = minute_at.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)  # the next whole minute
    assert times[0] in (first, first + dt.timedelta(minutes=1))  # the service's pass may fall after it
    assert times == [times[0] + dt.timedelta(minutes=k) for k in range(len(times))]
    assert times[-1] >= minute_at + settings.min_scheduled_time  # it schedules at least an hour ahead
    assert all(r["auto"] and r["week"] == 28 for r in minutes)
    with pl.worker():  # `prefect worker start`: it runs each of the scheduler's runs when its minute comes
        states = pl.wait_for(minutes[0]["id"], minutes[1]["id"], timeout=300)
    assert [s.name for s in states] == ["Completed"] * 2, [s.message for s in states]
    results = [pl.run_result(s) for s in states]
    assert [r["week"] for r in results] == [28, 28] and [r["new"] for r in results] == [True, False]
    assert _versions(registry.tracking_uri(folder)) == [1, 2]  # the same week twice: one model
    with get_client(sync_client=True) as client:
        for run_id in (minutes[0]["id"], minutes[1]["id"]):
            run = client.read_flow_run(run_id)
            assert run.auto_scheduled and run.start_time >= run.expected_start_time  # not before its time
    # the other triggers create runs of the same deployment (executed by the worker in the notebook's test)
    with pytest.raises(pl.PipelineError, match="in the future"):
        pl.backfill(dep, [week_of(mondays[0]["expected"])])
    backfilled = pl.backfill(dep, [26])  # a Monday that has passed: a worker would run it at once
    assert pl.fire_time(dep, 26) == week_start(26) + dt.timedelta(hours=6) == dt.datetime(2026, 7, 6, 6,
                                                                                            tzinfo=dt.timezone.utc)
    handler = pl.alert_trigger(dep)
    with al.LocalReceiver(handler=handler) as rx:
        al.send_alerts([{"signal": "drift", "week": 27, "reason": "PSI 0.4 on usage_hours > 0.1 for 2 weeks"},
                        {"signal": "base_rate", "week": 27, "reason": "churn rate moved"}],
                       rx.url, folder / "alerts.jsonl")
    assert len(rx.received) == 2 and len(handler.started) == 1  # only drift and performance alerts retrain
    history = {r["id"]: r for r in pl.flow_runs(deployment_id=dep)}  # from the engine's API, not a hand log
    made = [history[i] for i in backfilled + handler.started]
    assert [(r["week"], r["auto"], r["state"]) for r in made] == [(26, False, "Scheduled"), (27, False, "Scheduled")]
    assert made[0]["expected"] == pl.fire_time(dep, 26) and "backfill" in made[0]["tags"]
    assert "drift-alert" in made[1]["tags"]
    assert sorted(r["state"] for r in history.values() if r["auto"]) == ["Scheduled"] * len(mondays)
    assert pl.deploy(world, folder) == dep  # deploying again updates the same deployment


def test_the_alert_text_round_trips_and_a_failing_handler_refuses_the_alert(tmp_path):
    from lifecycle_lab.monitoring import alerts as al

    alert = {"signal": "performance", "week": 31, "reason": "precision 0.256 < 0.273"}
    assert al.parse_payload(al.slack_payload(alert)) == {"signal": "performance", "week": 31}
    assert al.parse_payload({"text": "hello"}) is None

    def broken(payload):
        raise RuntimeError("the pipeline is down")

    with al.LocalReceiver(handler=broken) as rx:
        with pytest.raises(al.AlertError, match="could not deliver"):
            al.send_alerts([alert], rx.url, tmp_path / "alerts.jsonl")
    assert rx.received == [] and not (tmp_path / "alerts.jsonl").exists()  # retried on the next call
