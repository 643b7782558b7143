"""The continuous-training flow, run for real on Prefect's API (a temporary local server) and MLflow's
SQLite registry, both under the build directory: retries, idempotence, the failure path keeps the champion."""

import shutil

import pytest

from lifecycle_lab.base import paths
from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p04_churn import pipeline as pl
from lifecycle_lab.projects.p04_churn.world import ChurnWorld

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


def test_a_cron_deployment_on_the_server_and_the_drift_alert_start_runs_recorded_by_the_engine(server):
    import datetime as dt

    from prefect.flows import load_flow_from_entrypoint

    from lifecycle_lab.monitoring import alerts as al

    world = ChurnWorld(n_weeks=36)
    folder = ROOT / "registry-deployed"
    dep = pl.deploy(world, folder)
    info = pl.deployment_info(dep)
    assert info["name"] == pl.DEPLOYMENT and info["schedules"] == [{"cron": "0 6 * * 1", "timezone": None,
                                                                      "active": True}]
    assert load_flow_from_entrypoint(info["entrypoint"]).name == pl.FLOW_NAME  # a worker could load it
    # the cron schedule's run for the Monday of week 26 (no week parameter: it comes from the schedule)
    monday = pl.GO_LIVE + dt.timedelta(weeks=26, hours=6)
    scheduled = pl.trigger(dep, scheduled=monday, tags=["cron"])
    (state,) = pl.execute(scheduled)  # in a worker process
    assert state.is_completed(), state.message
    assert pl.run_result(state)["week"] == 26 and pl.run_result(state)["new"]
    # the drift alert: the receiver's handler starts a run for the alert's week
    handler = pl.alert_trigger(dep)
    with al.LocalReceiver(handler=handler) as rx:
        al.send_alerts([{"signal": "drift", "week": 27, "reason": "PSI 0.4 on usage_hours > 0.1 for 2 weeks"},
                        {"signal": "base_rate", "week": 28, "reason": "churn rate moved"}],
                       rx.url, folder / "alerts.jsonl")
    assert len(rx.received) == 2 and len(handler.started) == 1  # only drift and performance alerts retrain
    assert pl.execute(*handler.started)[0].is_completed()
    history = pl.flow_runs(deployment_id=dep)  # from the engine's API, not a hand log
    assert [(r["week"], r["state"]) for r in history] == [(26, "Completed"), (27, "Completed")]
    assert "cron" in history[0]["tags"] and "drift-alert" in history[1]["tags"]
    assert all(r["deployment"] == dep for r in history)
    assert pl.deploy(world, folder) == dep  # deploying again updates the same deployment
    assert _versions(registry.tracking_uri(folder)) == [1, 2, 3]


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
