"""Several changes in one year: the diagnosis names each change the world made, at about its week, and
switching one change off removes exactly its diagnosis (issue 11: the switches combine)."""

import functools

import pytest

from lifecycle_lab.monitoring import diagnosis as dx
from lifecycle_lab.projects.p04_churn import operate as op
from lifecycle_lab.projects.p04_churn.world import ChurnWorld

SEEDS = (0, 1)
ALL = dict(n_weeks=44, concept_drift=True, launch_week=12, data_bug=True, bug_week=22, bug_kind="join",
           label_shift=True, label_shift_week=32)
PROBLEMS = ("concept_drift", "data_bug", "label_shift")


@functools.lru_cache(maxsize=None)
def _run(seed, **changes):
    world = ChurnWorld(seed=seed, **{**ALL, **changes})
    return world, op.operate(world)


def _found(report):
    return dx.incident_kinds(report.diagnosis, exclude=("pending", "benign"))


@pytest.mark.parametrize("seed", SEEDS)
def test_three_changes_in_one_year_are_each_diagnosed_at_their_week(seed):
    world, report = _run(seed)
    truth = {c.kind: c.week for c in world.truth()}
    assert _found(report) == set(truth) == set(PROBLEMS)
    for kind, week in truth.items():
        onsets = report.diagnosis[report.diagnosis.kind == kind].onset
        assert (onsets - week).abs().min() <= 3, (kind, list(onsets))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("off", PROBLEMS)
def test_switching_one_change_off_removes_its_diagnosis_and_adds_nothing_false(seed, off):
    world, report = _run(seed, **{off: False})
    found, truth = _found(report), {c.kind for c in world.truth()}
    assert off not in found and found == truth  # every remaining change named, nothing else


@pytest.mark.parametrize("seed", SEEDS)
def test_with_a_season_on_top_every_change_is_still_found_and_nothing_false_is(seed):
    world, report = _run(seed, seasonal_drift=True)
    found = _found(report)
    assert found == set(PROBLEMS)  # the launch, the bug and the market change, nothing false
    assert "benign" in set(report.diagnosis.kind)  # the season's drift alert, harmless
    # the season moves the scores within each class, so the market change is named by its other sign: P(Y|X)
    # moved by one constant in log-odds (the change test's intercept) and no slope moved
    market = report.diagnosis[report.diagnosis.kind == "label_shift"]
    assert (market.onset - world.scenario.label_shift_week).abs().min() <= 3
