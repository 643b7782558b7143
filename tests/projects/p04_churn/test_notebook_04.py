"""Notebook 04: the learner copy runs unattempted under another seed with fast=True, and its SUMMARY agrees with
the world's truth and with the same calls made here independently."""

import json

import pandas as pd
import pytest

from helpers import outputs_text
from lifecycle_lab.monitoring import weekly
from lifecycle_lab.projects.p04_churn import EXERCISES, operate as op
from lifecycle_lab.projects.p04_churn.world import ChurnWorld

pytestmark = pytest.mark.notebook

NAME = "04_intermediate_operate_churn"
SEED = 3


@pytest.fixture(scope="module")
def run(run_notebook):
    return run_notebook(NAME, {"seed": SEED, "fast": True}, tag="nb04-seed3")


@pytest.fixture(scope="module")
def world():
    return ChurnWorld(seed=SEED, n_weeks=40, n_per_week=1500)  # the fast caps of parameters.py


def test_the_learner_copy_runs_unattempted(run):
    assert outputs_text(run).count("not attempted yet") == len(EXERCISES)


def test_the_diagnosis_agrees_with_the_worlds_truth(run, world):
    facts = run.summary
    assert facts["truth"] == ["concept_drift"] and facts["truth_weeks"] == [world.scenario.launch_week]
    assert facts["rows"] == 40 * 1500 and facts["label_delay_weeks"] == world.label_delay_weeks == 5
    assert facts["diagnosed"][0] == "concept_drift"
    assert abs(facts["onsets"][0] - world.scenario.launch_week) <= 3
    assert min(facts["alert_weeks"]) >= world.scenario.launch_week + world.label_delay_weeks  # labels come late
    assert facts["alerts_sent"] == facts["alerts_received"] == len(facts["alert_weeks"])
    # one Evidently snapshot per week; performance for the weeks whose labels landed by the last week
    assert facts["evidently"] == {"weeks": 40, "labelled": 40 - world.label_delay_weeks, "panels": 8}
    # each switch alone is diagnosed as the kind the world was built with
    assert facts["scenario_diagnoses"] == {"as parameterised": "concept_drift", "data bug": "data_bug",
                                           "label shift": "label_shift", "seasonal drift": "benign"}


def test_false_alarms_recomputed_on_the_quiet_world(run):
    quiet_world = ChurnWorld(seed=SEED, n_weeks=40, n_per_week=1500, concept_drift=False)
    quiet = op.operate(quiet_world)
    expected = weekly.false_alarm_rate(quiet.timeline, range(40))
    assert run.summary["false_alarm_quiet"] == pytest.approx(expected, abs=1e-4)
    assert run.summary["false_alarm_quiet"] <= 0.05


def test_the_flow_failure_keeps_the_champion_and_the_artefacts_are_written(run):
    flow = run.summary["flow"]
    assert flow["completed"] and flow["failed_run_failed"] and not flow["rerun_new"]
    assert flow["aliases"]["champion"] == (2 if flow["promoted"] else 1)
    # the deployment's runs: a backfill of the cron schedule's, one per drift or performance alert, all completed
    assert flow["deployed_runs"] == ["Completed"] * (1 + flow["alert_runs"]) and flow["alert_runs"] >= 1
    # the schedule's own runs, created by Prefect's scheduler service: its minimum of 3 future Mondays 06:00
    assert flow["scheduled"] == {"runs": 3, "held": True, "mondays_0600": True}
    folder = run.output.parent / run.output.stem
    incidents = pd.read_csv(folder / "incident_log.csv")
    assert set(incidents.scenario) == {"as parameterised", "data bug", "label shift", "seasonal drift"}
    table = pd.read_csv(folder / "policy_comparison.csv")
    assert table.policy.iloc[0] == run.summary["best_policy"]
    assert (table.total_cost.diff().dropna() >= 0).all()
    assert (table.total_cost - table.error_cost - table.retrain_cost).abs().max() < 1e-6
    alerts = [json.loads(line) for line in (folder / "alerts.jsonl").read_text().splitlines()]
    assert len(alerts) == run.summary["alerts_sent"] and all("text" in a["payload"] for a in alerts)
    memo = (folder / "remediation_memo.md").read_text()
    assert "Rollback" in memo and run.summary["diagnosed"][0] in memo
