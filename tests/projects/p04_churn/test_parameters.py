"""Every parameter value notebook 04 accepts can run, or is refused before anything runs (issue 15, item 3).

Not whole-notebook runs: the declaration's cheap feasibility check only builds the world (weeks are simulated
lazily, no model is fitted) and either refuses the combination with a ParameterError naming the parameter and
the fix, or the world's changes leave enough labelled weeks after them for the monitoring to see them.
"""

from __future__ import annotations

import pytest

from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.projects import p04_churn as project
from lifecycle_lab.projects.p04_churn import parameters

SEEDS = range(30)


def _validate(**changes):
    namespace = {p.name: p.default for p in project.PARAMETERS.params.values()}
    namespace.update(changes)
    return project.PARAMETERS.validate(namespace)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fast", [False, True])
def test_the_defaults_and_every_switch_are_feasible_for_every_seed(seed, fast):
    for switches in ({}, {"data_bug": True}, {"label_shift": True}, {"seasonal_drift": True},
                     {"data_bug": True, "label_shift": True, "bug_kind": "join"}):
        P = _validate(seed=seed, fast=fast, **switches)
        world = parameters.world(P)
        assert world.scenario.n_weeks == (40 if fast else 52) and world.scenario.seed == seed
        last = P.n_weeks - 1 - world.label_delay_weeks - parameters.AFTER_CHANGE
        assert all(c.week <= last for c in world.truth())  # labels land after every change
        assert P.launch_week + 10 <= P.n_weeks  # the split-leakage windows fit in the year


@pytest.mark.parametrize("changes, word", [
    ({"launch_week": 60}, "launch_week"),
    ({"data_bug": True, "bug_week": 45}, "bug_week"),
    ({"fast": True, "label_shift": True, "label_shift_week": 35}, "label_shift_week"),
    ({"n_weeks": 30, "label_delay_days": 60}, "n_weeks"),
])
def test_infeasible_combinations_are_refused_naming_the_parameter(changes, word):
    with pytest.raises(ParameterError, match=word):
        _validate(**changes)


def test_a_late_change_passes_when_the_year_is_long_enough():
    P = _validate(launch_week=60, n_weeks=80)
    assert parameters.world(P).truth()[0].week == 60
