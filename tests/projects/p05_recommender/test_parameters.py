"""Every parameter value notebook 05 accepts can run, or is refused before anything runs, with a message that
names the parameter and the fix."""

from __future__ import annotations

import pytest

from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.projects import p05_recommender as project
from lifecycle_lab.projects.p05_recommender import parameters


def _validate(**changes):
    namespace = {p.name: p.default for p in project.PARAMETERS.params.values()}
    namespace.update(changes)
    return project.PARAMETERS.validate(namespace)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("fast", [False, True])
def test_the_defaults_and_the_taste_shift_are_feasible_for_every_seed(seed, fast):
    for switches in ({}, {"taste_shift": True}, {"ui_change": False, "taste_shift": True}):
        P = _validate(seed=seed, fast=fast, **switches)
        world = parameters.world(P)
        assert world.n_days == (60 if fast else 90)
        for change in world.truth():
            assert parameters.BEFORE <= change.day <= P.n_days - parameters.AFTER


@pytest.mark.parametrize("changes, word", [
    ({"policies": "clicks_only,greedy"}, "policies"),
    ({"policies": "ips,online"}, "clicks_only"),
    ({"epsilon": 0.9}, "epsilon"),
    ({"n_days": 20}, "n_days"),
    ({"ui_change_day": 85}, "ui_change_day"),
    ({"taste_shift": True, "shift_day": 10}, "shift_day"),
    ({"requests_per_day": -5.0}, "requests_per_day"),
    ({"peak_factor": 0.5}, "peak_factor"),
    ({"sessions_per_day": 100_000, "n_days": 365}, "sessions_per_day"),
    ({"shift_segment": "teens"}, "shift_segment"),
])
def test_infeasible_values_are_refused_naming_the_parameter(changes, word):
    with pytest.raises(ParameterError, match=word):
        _validate(**changes)


def test_the_policies_list_is_read_in_order():
    assert parameters.policies(_validate(policies=" clicks_only , ips ")) == ["clicks_only", "ips"]
