"""Notebook 06: the learner copy runs unattempted under another seed with fast=True, and its SUMMARY agrees with
the world's truth (the planted gaps) and with the same toolkit calls made here independently."""

import json

import pandas as pd
import pytest

from helpers import outputs_text
from lifecycle_lab.framing import prioritise
from lifecycle_lab.governance import council
from lifecycle_lab.projects.p06_platform import EXERCISES, platform, world

pytestmark = pytest.mark.notebook

NAME = "06_advanced_platform_governance"
SEED = 3


@pytest.fixture(scope="module")
def run(run_notebook):
    return run_notebook(NAME, {"seed": SEED, "fast": True}, tag="nb06-seed3")


@pytest.fixture(scope="module")
def portfolio():
    return world.portfolio(SEED, 10)  # the fast cap of parameters.py


def test_the_learner_copy_runs_unattempted(run):
    assert outputs_text(run).count("not attempted yet") == len(EXERCISES)


def test_the_checker_in_the_notebook_finds_exactly_the_planted_gaps(run, portfolio):
    facts = run.summary
    assert facts["n_models"] == 10
    assert {tuple(p) for p in facts["found"]} == {tuple(p) for p in facts["truth"]} == portfolio.truth()
    orphaned = any(g.model == "health-premium-pricer" for g in portfolio.planted)  # seed 3: its owner left
    assert facts["refused_gates"] == ["triage"] * orphaned + ["council", "monitoring"]
    assert facts["promoted_version"] == 2


def test_the_council_queue_and_the_roadmap_match_independent_calls(run, portfolio):
    facts = run.summary
    policy = platform.load_policy()
    queue = council.agenda(policy, portfolio.records, directory=portfolio.directory, today=portfolio.today)
    assert facts["queue"] == list(queue.model)
    backlog = world.backlog()
    assert facts["ice_top"] == list(prioritise.rank_ice(backlog).feature[:3])
    assert facts["verdicts"] == {"smart escalation": "rules", "churn-save offers": "ML"}
    assert facts["retire_or_retrain"] == {"churn-predictor": "retrain", "demand-forecaster": "retire"}


def test_the_documents_are_written(run):
    folder = run.output.parent / run.output.stem
    violations = pd.read_csv(folder / "violations.csv")
    assert len(violations) == 4 and set(violations.severity) <= {"critical", "high", "medium"}
    assert platform.load_policy(folder / "policy.yaml") == platform.load_policy()
    decisions = [json.loads(p.read_text()) for p in sorted((folder / "decisions").glob("*.json"))]
    assert [d["model"] for d in decisions] == sorted(run.summary["queue"])
    assert "launch" in (folder / "playbooks" / "4_deployment.md").read_text()
    assert "| prediction task |" in (folder / "ml_canvas.md").read_text()
    assert not list(folder.rglob("mlflow.db")), "the registry lives in a temporary folder, not in the outputs"
