"""Notebook 05: the learner copy runs unattempted under another seed with fast=True, and its SUMMARY agrees with
the world's truth (the diagnosis, the degenerate loop, IPS against naive, the guardrail veto)."""

import pandas as pd
import pytest

from helpers import outputs_text
from lifecycle_lab.projects.p05_recommender import EXERCISES
from lifecycle_lab.projects.p05_recommender.world import RecWorld

pytestmark = pytest.mark.notebook

NAME = "05_advanced_feedback_loop_recommender"
SEED = 3


@pytest.fixture(scope="module")
def run(run_notebook):
    return run_notebook(NAME, {"seed": SEED, "fast": True}, tag="nb05-seed3")


def test_the_learner_copy_runs_unattempted(run):
    assert outputs_text(run).count("not attempted yet") == len(EXERCISES)


def test_the_diagnosis_names_the_worlds_change(run):
    facts = run.summary
    world = RecWorld(seed=SEED, n_days=60)  # the fast caps of parameters.py
    assert facts["truth"] == ["ui_change"] and facts["truth_days"] == [world.ui_change_day]
    assert facts["causes"] == ["position_bias"] and abs(facts["change_day"] - world.ui_change_day) <= 5
    assert 0.05 < facts["relative_drop"] < 0.3
    assert facts["days"] == 60 and facts["sessions_per_day"] == 1000


def test_the_loop_conclusions_hold_under_another_seed(run):
    facts = run.summary
    for policy in ("epsilon_greedy", "ips", "online"):
        assert facts["gini"]["clicks_only"] > facts["gini"][policy] + 0.05
        assert facts["coverage"]["clicks_only"] < 0.2 < 0.9 < facts["coverage"][policy]
    assert facts["new_share"]["clicks_only"] == 0
    assert facts["ips_mae"] < facts["naive_mae"]
    assert facts["decisions"]["same model (A/A)"] == "keep champion"
    assert facts["decisions"]["exploit (epsilon 0)"] == "veto"
    # the IPS model wins CTR over the clicks-only champion; it is vetoed exactly when a segment truly loses
    truly = facts["true_segment_change"]["IPS replaces clicks-only"]
    harmed = [s for s, v in truly.items() if v < -0.05]
    assert facts["decisions"]["IPS replaces clicks-only"] == ("veto" if harmed else "promote")
    assert facts["vetoes"]["exploit (epsilon 0)"] == ["exposure concentration"]
    assert facts["floor_share"] >= 0.4 - 1e-9
    assert facts["flywheel"]["epsilon_greedy@4000"] > facts["flywheel"]["epsilon_greedy@250"]


def test_the_artefacts_are_written(run):
    folder = run.output.parent / run.output.stem
    metrics = pd.read_csv(folder / "loop_metrics.csv", index_col=0)
    assert set(metrics.index) == {"clicks_only", "epsilon_greedy", "ips", "online"}
    assert "position_bias" in (folder / "diagnosis.md").read_text()
    options = pd.read_csv(folder / "serving_options.csv")
    assert list(options.option) == ["teacher no cache", "teacher + cache", "student no cache", "student + cache"]
    assert (options.cores[1::2].to_numpy() <= options.cores[0::2].to_numpy()).all()  # the cache never adds cores
    assert len(pd.read_csv(folder / "fairness_audit.csv")) == 4
