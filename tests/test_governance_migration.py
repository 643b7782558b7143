"""Migration: the business metric by hand, the replayed canary with rollout's trigger, the sunset plan."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle_lab import rollout
from lifecycle_lab.governance import GovernanceError, business as bz, migration

COSTS = bz.Costs(fp=10, fn=250, review=3)


def test_net_value_by_hand():
    y = np.array([1, 1, 0, 0, 0])
    flag = np.array([1, 0, 1, 0, 0])
    # nothing: 2 * 250 = 500; model: FP 10 + FN 250 + 2 reviews * 3 = 266 -> (500 - 266) / 5
    assert migration.net_value_per_decision(y, flag, COSTS) == pytest.approx(234 / 5)
    with pytest.raises(GovernanceError, match="no decisions"):
        migration.net_value_per_decision([], [], COSTS)


def test_required_sample_formula():
    y = np.array([1, 1, 0, 0, 0] * 100)
    flag = np.array([1, 0, 1, 0, 0] * 100)
    value = np.array([247, 0, -13, 0, 0] * 100, dtype=float)
    want = int(np.ceil((2.5 * value.std() / (0.05 * value.mean())) ** 2))
    assert migration.required_sample(y, flag, COSTS) == want
    with pytest.raises(GovernanceError, match="meaningless"):
        migration.required_sample([0, 0, 1], [1, 1, 0], COSTS)


@pytest.fixture(scope="module")
def replay():
    rng = np.random.default_rng(0)
    p = rng.beta(1, 15, 20_000)
    y = (rng.random(len(p)) < p).astype(int)
    good = (p + rng.normal(0, 0.02, len(p)) >= 0.05).astype(int)
    broken = rng.permutation(good)  # a wrong join: flags unrelated to the case
    return y, good, broken


def test_naive_trigger_fires_on_noise_guarded_does_not(replay):
    y, good, _ = replay
    need = migration.required_sample(y, good, COSTS)
    guarded = rollout.RollbackTrigger(0.05, min_sample=need, consecutive=3)
    naive = rollout.RollbackTrigger.naive(0.05)
    kw = dict(plan=rollout.DEFAULT_PLAN, traffic_per_window=5 * need, runs=30, seed=1)
    assert migration.false_alarm_rate(naive, y, good, COSTS, **kw) > 0.5
    assert migration.false_alarm_rate(guarded, y, good, COSTS, **kw) < 0.1


def test_guarded_trigger_rolls_back_a_broken_challenger(replay):
    y, good, broken = replay
    need = migration.required_sample(y, good, COSTS)
    guarded = rollout.RollbackTrigger(0.05, min_sample=need, consecutive=3)
    obs = migration.replay_observer(y, good, broken, COSTS, traffic_per_window=5 * need, seed=0)
    log = rollout.run_rollout(rollout.DEFAULT_PLAN, obs, guarded)
    assert log.rolled_back and log.stopped_stage.startswith("ramp")
    same = migration.replay_observer(y, good, good, COSTS, traffic_per_window=5 * need, seed=0)
    assert rollout.run_rollout(rollout.DEFAULT_PLAN, same, guarded).completed
    # the replayed metric is unbiased: shadow windows average to the rows' own metric
    shadow = rollout.DEFAULT_PLAN[0]
    means = np.mean([same(shadow, k)["champion"] for k in range(200)])
    assert means == pytest.approx(migration.net_value_per_decision(y, good, COSTS), rel=0.02)
    with pytest.raises(GovernanceError, match="equal length"):
        migration.replay_observer(y, good[:5], good, COSTS, traffic_per_window=100)


def test_sunset_plan_fallback_and_retention_by_variant():
    credit, fraud = migration.sunset_plan("credit"), migration.sunset_plan("fraud")
    assert len(credit) == len(fraud) + 1 and credit.milestone.str.contains("FRIA").any()
    assert credit.week.is_monotonic_increasing and fraud.milestone.str.contains("recently retired").any()
    assert "legacy model" in migration.data_fallback("fraud")[1]
    retention = migration.record_retention("credit").set_index("record")
    assert "6 months" in retention.iloc[0, 0] and "25 months" in retention.loc[
        "adverse-action notices and reason codes", "retention"]
    with pytest.raises(GovernanceError, match="at least 4 weeks"):
        migration.sunset_plan("fraud", keep_warm_weeks=1)
    with pytest.raises(GovernanceError, match="unknown variant"):
        migration.sunset_plan("loans")
