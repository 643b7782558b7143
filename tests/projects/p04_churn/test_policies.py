"""Remediation and continuous training: split leakage, promotion through the gate, policies by cost."""

import functools

import numpy as np
import pytest

from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn import policies as pol
from lifecycle_lab.projects.p04_churn.world import ChurnWorld


@functools.lru_cache(maxsize=None)
def _world(seed, **kw):
    return ChurnWorld(seed=seed, n_weeks=32, **kw)


@functools.lru_cache(maxsize=None)
def _runs(seed):
    return {p: pol.run_policy(_world(seed), p) for p in pol.POLICIES}


def test_a_random_split_overstates_quality_more_than_a_time_based_one():
    gaps = []
    for seed in (0, 1, 2):
        r = pol.split_leakage(_world(seed), (12, 26), (26, 30), seed=seed)
        assert r["random_valid_auc"] > r["random_future_auc"]
        gaps.append(r["random_overstatement"] - r["time_overstatement"])
    assert np.mean(gaps) > 0.005, gaps


def test_a_challenger_trained_after_the_launch_is_promoted_only_when_its_interval_clears_zero():
    world = _world(1)
    champion = churn_model.train(world.history())
    holdout = world.weeks(24, 28)  # labelled rows neither model trained on
    # a challenger no better than the champion (fitted on the same history): the gate keeps the champion
    same, result = pol.promotion(champion, churn_model.train(world.history(), seed=1), holdout)
    assert not same and result.status("cost_change") in ("INCONCLUSIVE", "FAIL")
    # with the 30-day label delay, weeks 12-18 are the newest labels at week 24: not yet the new world
    early = churn_model.train(pol.labelled_by(world, 24, 6))
    # trained on post-launch weeks only (known by week 32 + delay): cost per customer falls with its interval
    late = churn_model.train(world.weeks(20, 24))
    ok, result = pol.promotion(champion, late, world.weeks(28, 32))
    row = result.table().loc["cost_change"]
    assert ok == (row["ci"][1] < 0)
    assert pol.promotion(champion, early, holdout)[1].status("cost_change") != "PASS" or row["ci"][1] < 0


def test_the_policy_ranking_changes_with_the_cost_of_a_retrain():
    for seed in (1, 2):
        runs = _runs(seed)
        free = pol.compare_policies(_world(seed), pol.PolicyCosts(retrain=0), runs=runs)
        dear = pol.compare_policies(_world(seed), pol.PolicyCosts(retrain=5_000), runs=runs)
        assert free.policy.iloc[0] in ("weekly", "monthly", "performance")  # retraining pays when it is free
        assert dear.policy.iloc[0] in ("never", "drift")  # the launch does not move inputs: no drift retrain
        assert free.policy.tolist() != dear.policy.tolist()
        never = free.set_index("policy").loc["never"]
        assert free.error_cost.iloc[0] < never["error_cost"]  # the winner's errors cost less than never's
        weekly = runs["weekly"]
        assert weekly.retrained.sum() == len(weekly) - 1 and runs["never"].version.max() == 1


def test_error_costs_follow_the_cost_matrix():
    y = np.array([1, 1, 0, 0, 1])
    flag = np.array([True, False, True, False, False])
    c = churn_model.COSTS
    assert pol.row_costs(y, flag, c).tolist() == [0, c.fn, c.fp, 0, c.fn]


def test_expected_costs_are_the_mean_of_the_costs_the_labels_book():
    # oracle: draw the labels many times from the same probabilities; the mean booked cost converges on it
    rng = np.random.default_rng(0)
    p = rng.random(50)
    flag = rng.random(50) < 0.5
    booked = np.mean([pol.row_costs(rng.random(50) < p, flag, churn_model.COSTS) for _ in range(20_000)], axis=0)
    np.testing.assert_allclose(pol.expected_costs(p, flag), booked, rtol=0, atol=3.0)


def test_no_policy_costs_less_than_the_worlds_own_probabilities():
    world, runs = _year_runs()
    table = pol.compare_policies(world, pol.PolicyCosts(), runs=runs).set_index("policy")
    assert (table.avoidable_cost > 0).all()  # the threshold rule on the true p minimises the expected cost
    assert table.avoidable_cost.loc["never"] == table.avoidable_cost.max()  # the launch made never the worst
    # booked and expected error costs agree to within the labels' noise (a few tenths of a percent)
    assert ((table.booked_error_cost / table.error_cost - 1).abs() < 0.02).all()


def test_bad_policies_are_refused():
    with pytest.raises(pol.PolicyError, match="policy"):
        pol.run_policy(_world(0), "sometimes")
    with pytest.raises(pol.PolicyError, match="retrain"):
        pol.PolicyCosts(retrain=-1)


@functools.lru_cache(maxsize=1)
def _year_runs():
    world = ChurnWorld()  # the notebook's default year, seed 0
    return world, {p: pol.run_policy(world, p) for p in pol.POLICIES}


def test_at_seed_0_the_ranking_flips_between_an_automated_and_a_manual_retrain():
    world, runs = _year_runs()
    cheap = pol.compare_policies(world, pol.PolicyCosts(), runs=runs)  # the automated retrain's price
    dear = pol.compare_policies(world, pol.PolicyCosts(retrain=pol.MANUAL_RETRAIN), runs=runs)
    assert cheap.policy.iloc[0] in ("weekly", "monthly", "performance")
    assert dear.policy.iloc[0] == "never"
    # the break-even is where the order of a policy and "never" flips, recomputed from the weekly runs
    never = runs["never"].expected_cost.sum()
    row = cheap.set_index("policy").loc[cheap.policy.iloc[0]]
    assert row.break_even_retrain_cost == pytest.approx((never - runs[row.name].expected_cost.sum()) / row.retrains)
    assert pol.AUTOMATED_RETRAIN < row.break_even_retrain_cost < pol.MANUAL_RETRAIN
    for price, wins in ((row.break_even_retrain_cost * 0.9, True), (row.break_even_retrain_cost * 1.1, False)):
        t = pol.compare_policies(world, pol.PolicyCosts(retrain=price), runs=runs).set_index("policy")
        assert (t.loc[row.name, "total_cost"] < t.loc["never", "total_cost"]) == wins
