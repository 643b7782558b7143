"""Every parameter value notebook 03 accepts can run, or is refused before anything runs (issue 15, item 3).

Not whole-notebook runs: the declaration's cheap feasibility check simulates the world (no model is fitted) and
either refuses the combination with a ParameterError naming the parameter and the fix, or the world holds what
every section needs: labelled baseline months, enough positive and negative cases in the training, fitting and
evaluation windows, and both outcomes in every age band. The windows are the notebook's own (`casefile.windows`).
"""

from __future__ import annotations

import pytest

from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.projects import p03_governance as project
from lifecycle_lab.projects.p03_governance import casefile, parameters, world as tx

SEEDS = range(40)


@pytest.fixture(autouse=True)
def simulate_once(monkeypatch):
    """The feasibility check and `_guarantees` simulate the same world: build it once per combination."""
    real, cache = parameters.simulate, {}

    def once(P):
        key = tuple(sorted(P.as_dict().items()))
        if key not in cache:
            cache.clear()
            cache[key] = real(P)
        return cache[key]

    monkeypatch.setattr(parameters, "simulate", once)


def _guarantees(P):
    """What the notebook relies on, recomputed here from the world directly (not through the check)."""
    world = parameters.simulate(P)
    assert len(world) == parameters.sizes(P).n_per_month * (P.months + 3)  # month 0 holds three months' rows
    eval_window, fit_window = casefile.windows(world, P.months)
    assert world[world.label_known & world.month.between(1, 3)].shape[0] > 0
    for frame in (eval_window, fit_window, world[world.month == 0]):
        assert 20 <= frame.label.sum() <= len(frame) - 20
    assert eval_window.month.min() > fit_window.month.max()  # the replacement never sees its evaluation rows
    bands = eval_window.groupby(tx.SENSITIVE).label.agg(["sum", "count"])
    assert set(bands.index) == set(tx.AGE_BANDS)
    assert ((bands["sum"] >= 3) & (bands["count"] - bands["sum"] >= 3)).all()
    costs = parameters.costs_of(P)
    assert 0 < costs.p_star < 1  # a flag can pay for its review


def _accepted_or_refused(**overrides):
    try:
        P = project.PARAMETERS.check_overrides(overrides)
    except ParameterError as error:
        return error
    _guarantees(P)
    return None


@pytest.mark.parametrize("variant", ["fraud", "credit"])
def test_every_seed_runs_in_a_fast_run(variant):
    """Fast runs are the smallest worlds (1,500 decisions a month): no seed of 0-39 may be refused or fail."""
    for seed in SEEDS:
        assert _accepted_or_refused(seed=seed, variant=variant, fast=True) is None, seed


@pytest.mark.parametrize("variant", ["fraud", "credit"])
@pytest.mark.parametrize("months", [18, 36])
def test_the_bounds_of_the_sizes_run(variant, months):
    for seed in (0, 5, 24):
        assert _accepted_or_refused(seed=seed, variant=variant, months=months, concept_start=months) is None
        assert _accepted_or_refused(seed=seed, variant=variant, months=months, concept_start=1,
                                    drift_strength=3.0) is None
    assert _accepted_or_refused(seed=1, variant=variant, months=months, data_drift=False, concept_drift=False,
                                drift_strength=0.0, horizon_years=15, discount_rate=0.5, drift_rate=2.0) is None


def test_fast_caps_the_months_and_sets_the_sample_sizes():
    P = project.PARAMETERS.check_overrides({"fast": True, "months": 36, "concept_start": 12})
    assert P.months == 18 and parameters.sizes(P).n_per_month == 1500
    assert parameters.sizes(project.PARAMETERS.check_overrides({})).n_per_month == 4000


@pytest.mark.parametrize("overrides, names", [
    ({"concept_start": 30}, ["concept_start=30", "months=18", "from 1 to 18"]),
    ({"fast": True, "months": 30, "concept_start": 25}, ["concept_start=25", "months=18"]),  # fast: 18 months
    ({"cost_review": 300, "cost_fn": 250}, ["cost_review=300", "cost_fn=250", "lower cost_review or raise cost_fn"]),
    ({"variant": "credit", "cost_fn": 40}, ["cost_review=40", "cost_fn=40"]),  # the variant's default review cost
    ({"cost_fp": 0, "cost_fn": 0}, ["cost_fp", "cost_fn", "positive amount"]),
    ({"variant": "loans"}, ["variant='loans'", "fraud", "credit"]),
    ({"months": 12}, ["months=12", "18 to 36"]),
    ({"drift_strength": -1}, ["drift_strength=-1"]),
    ({"concept_start": 0}, ["concept_start=0"]),
    ({"horizon_years": 2.5}, ["horizon_years=2.5", "whole number"]),
    ({"cost_fp": "10"}, ["cost_fp='10'", "number"]),
])
def test_a_value_the_notebook_cannot_run_is_refused_naming_the_parameter_and_the_fix(overrides, names):
    with pytest.raises(ParameterError) as refused:
        project.PARAMETERS.check_overrides(overrides)
    for name in names:
        assert name in str(refused.value), (name, str(refused.value))


def test_a_thin_world_is_refused_with_what_it_lacks(monkeypatch):
    """The scenario check is tested on a world that lacks labels: it names what is missing and the fix."""
    def thin(P):
        world = tx.simulate(P.variant, months=P.months, n_per_month=200, n_train=500, seed=P.seed)
        return world.assign(label_known=world.label_known & (world.month < 2))

    monkeypatch.setattr(parameters, "simulate", thin)
    with pytest.raises(ParameterError, match=r"the evaluation window holds \d+ positive .* choose another seed"):
        project.PARAMETERS.check_overrides({"variant": "credit"})


def test_the_costs_follow_the_variant_unless_set():
    P = project.PARAMETERS.check_overrides({"variant": "credit", "cost_fn": 5000})
    costs = parameters.costs_of(P)
    assert (costs.fp, costs.fn, costs.review) == (300.0, 5000.0, 40.0)
    assert costs.p_star == pytest.approx(340 / 5300)
    inputs = parameters.inputs_of(P)
    assert inputs.volume_per_year == 60_000 and inputs.horizon_years == 3
