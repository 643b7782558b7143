"""Migration: the business metric by hand, the replayed canary with rollout's trigger, the sunset plan."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle_lab.deployment import rollout
from lifecycle_lab.governance import GovernanceError, business as bz, migration

COSTS = bz.Costs(fp=10, fn=250, review=3)


def test_net_value_by_hand():
    y = np.array([1, 1, 0, 0, 0])
    flag = np.array([1, 0, 1, 0, 0])
    # nothing: 2 * 250 = 500; model: FP 10 + FN 250 + 2 reviews * 3 = 266 -> (500 - 266) / 5
    assert migration.net_value_per_decision(y, flag, COSTS) == pytest.approx(234 / 5)
    with pytest.raises(GovernanceError, match="no decisions"):
        migration.net_value_per_decision([], [], COSTS)
    with pytest.raises(GovernanceError, match="5 labels but 4 flags"):
        migration.net_value_per_decision(y, flag[:4], COSTS)


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
    """At a volume where a 20% ramp window holds 5x the minimum sample, the guard counts windows and stays quiet."""
    y, good, _ = replay
    need = migration.required_sample(y, good, COSTS)
    guarded = rollout.RollbackTrigger(0.05, min_sample=need, consecutive=3)
    naive = rollout.RollbackTrigger.naive(0.05)
    kw = dict(plan=rollout.DEFAULT_PLAN, traffic_per_window=5 * need, runs=30, seed=1)
    assert migration.false_alarm_rate(naive, y, good, COSTS, **kw) > 0.5
    assert migration.false_alarm_rate(guarded, y, good, COSTS, **kw) < 0.1
    log = rollout.run_rollout(rollout.DEFAULT_PLAN, migration.replay_observer(y, good, good, COSTS,
                                                                              traffic_per_window=5 * need), guarded)
    assert sum(c.counted for c in log.trigger.checks) >= 8  # ramps and full: its silence is a verdict


def test_guarded_trigger_is_blind_at_a_small_volume(replay):
    """Weekly windows of 1,000 decisions: the naive trigger fires on noise, the guarded one never counts a window."""
    y, good, _ = replay
    need = migration.required_sample(y, good, COSTS)
    assert need > 1000
    guarded = rollout.RollbackTrigger(0.05, min_sample=need, consecutive=3)
    plan = migration.calendar_plan(7, guard_shadow=False)
    log = rollout.run_rollout(plan, migration.replay_observer(y, good, good, COSTS, traffic_per_window=1000), guarded)
    assert log.completed and not any(c.counted for c in log.trigger.checks)  # silent because blind
    assert migration.false_alarm_rate(rollout.RollbackTrigger.naive(0.05), y, good, COSTS, plan=plan,
                                      traffic_per_window=1000, runs=20, seed=2) > 0.5


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
    # dated from the calendar of STAGE_DAYS: shadow from week 2 (14 days), canary week 4 (14 days),
    # ramps from week 6 (4 x 7 days), full traffic week 10, legacy off 8 weeks later, retired the week after
    weeks = dict(zip(fraud.milestone.str.split(":").str[0].str.split(" ").str[0], fraud.week))
    assert (weeks["shadow"], weeks["canary"], weeks["ramp"], weeks["full"]) == (2, 4, 6, 10)
    assert fraud.week.iloc[-2:].tolist() == [18, 19]
    assert "label-free guard" in fraud.loc[fraud.milestone.str.startswith("shadow"), "exit criterion"].iloc[0]
    assert "legacy model" in migration.data_fallback("fraud")[1]
    retention = migration.record_retention("credit").set_index("record")
    assert "6 months" in retention.iloc[0, 0] and "25 months" in retention.loc[
        "adverse-action notices and reason codes", "retention"]
    # documentation: 10 years from being put into service (month 1) outlasts 25 months of notices
    assert migration.retain_until("credit", service_month=1, retired_month=23).startswith("month 121 ")
    assert migration.retain_until("fraud", service_month=1, retired_month=23).startswith("month 83 ")  # 5 y policy
    with pytest.raises(GovernanceError, match="before it was put"):
        migration.retain_until("fraud", service_month=5, retired_month=2)
    with pytest.raises(GovernanceError, match="at least 4 weeks"):
        migration.sunset_plan("fraud", keep_warm_weeks=1)
    with pytest.raises(GovernanceError, match="unknown variant"):
        migration.sunset_plan("loans")


# -- calendar time and the label-based trigger ------------------------------------------------------------

def test_minimum_detectable_drop_inverts_the_required_sample(replay):
    y, good, _ = replay
    need = migration.required_sample(y, good, COSTS, drop=0.05, z=2.5)
    assert migration.minimum_detectable_drop(y, good, COSTS, need, z=2.5) <= 0.05
    assert migration.minimum_detectable_drop(y, good, COSTS, need - 50, z=2.5) > 0.05
    assert migration.minimum_detectable_drop(y, good, COSTS, 0) == float("inf")
    value = migration.value_per_decision(y, good, COSTS)
    assert value.mean() == pytest.approx(migration.net_value_per_decision(y, good, COSTS))


def test_calendar_plan_and_stage_start():
    daily = migration.calendar_plan(1)
    assert [s.windows for s in daily] == [d for _, _, d in migration.STAGE_DAYS]
    assert all(s.guarded for s in daily)  # the label-free guard watches the shadow too
    weekly = migration.calendar_plan(7, guard_shadow=False)
    assert [s.windows for s in weekly] == [2, 2, 1, 1, 1, 1, 2] and not weekly[0].guarded and weekly[1].guarded
    assert [s.windows for s in migration.calendar_plan(5)] == [3, 3, 2, 2, 2, 2, 3]
    assert migration.stage_start(weekly, "canary 1%") == 2 and migration.stage_start(weekly, "full") == 8
    with pytest.raises(GovernanceError, match="not in the plan"):
        migration.stage_start(weekly, "dogfood")
    with pytest.raises(GovernanceError, match="window_days"):
        migration.calendar_plan(0)


def test_label_trigger_reach_in_calendar_time(replay):
    y, good, _ = replay
    need = migration.required_sample(y, good, COSTS)
    reach = migration.label_trigger_reach(y, good, COSTS, volume_per_year=365_000, label_delay_days=40)
    per_week = 1000 * 7  # 1,000 decisions a day
    canary = reach.loc["canary 1%"]
    assert canary["challenger decisions per window"] == round(0.01 * per_week)
    assert canary["windows needed"] == int(np.ceil(need / (0.01 * per_week)))
    assert not reach["sees a 5% drop"].any()  # at 1,000 a day no window of the plan can see a 5% drop
    assert reach.attrs["days_at_full_traffic"] == pytest.approx(need / 1000)
    assert reach.attrs["daily_volume_needed"] == pytest.approx(need / (0.2 * 7))
    huge = migration.label_trigger_reach(y, good, COSTS, volume_per_year=365 * reach.attrs["daily_volume_needed"],
                                         label_delay_days=40)
    assert huge.loc["ramp 20%", "sees a 5% drop"] and not huge.loc["canary 1%", "sees a 5% drop"]
    assert huge.loc["full", "detectable drop in one window"] < 0.05 < huge.loc["canary 1%",
                                                                                "detectable drop in one window"]
    coarse = migration.label_trigger_reach(y, good, COSTS, volume_per_year=365_000, label_delay_days=40, drop=0.1)
    assert "sees a 10% drop" in coarse.columns and coarse.attrs["min_sample"] == int(np.ceil(need / 4))


def test_paired_value_ci_against_the_normal_approximation(replay):
    from scipy import stats

    y, good, broken = replay
    ci = migration.paired_value_ci(y, broken, good, COSTS, n_boot=2000, seed=3)
    d = migration.value_per_decision(y, good, COSTS) - migration.value_per_decision(y, broken, COSTS)
    assert ci["difference"] == pytest.approx(d.mean())
    half = stats.norm.ppf(0.975) * d.std(ddof=1) / np.sqrt(len(d))
    assert ci["lower"] == pytest.approx(d.mean() - half, rel=0.1) and ci["upper"] == pytest.approx(d.mean() + half,
                                                                                                    rel=0.1)
    assert ci["promote"] and not migration.paired_value_ci(y, good, broken, COSTS)["promote"]
    assert migration.good_pass_rate([0, 0, 0, 1], [1, 0, 0, 1]) == pytest.approx(2 / 3)


# -- the label-free guard -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scores():
    rng = np.random.default_rng(4)
    z = rng.normal(-3, 1.2, 20_000)
    champion = 1 / (1 + np.exp(-(z + rng.normal(0, 0.8, len(z)))))
    challenger = 1 / (1 + np.exp(-(z + rng.normal(0, 0.4, len(z)))))
    return champion, challenger, 0.05, 0.06


def _guard(scores, **kw):
    champion, challenger, ta, tb = scores
    return migration.LabelFreeGuard.from_validation(champion >= ta, challenger >= tb, challenger, **kw)


def test_guard_references_and_minimum_sample_by_hand(scores):
    from lifecycle_lab.monitoring import drift as monitor
    from lifecycle_lab.deployment import guard as guard_module

    assert migration.LabelFreeGuard is guard_module.LabelFreeGuard  # its own module, still reached from migration

    champion, challenger, ta, tb = scores
    guard = _guard(scores)
    a, b = champion >= ta, challenger >= tb
    agree = (a == b).mean()
    assert guard.reference_agreement == pytest.approx(agree)
    assert guard.reference_flag_ratio == pytest.approx(b.mean() / a.mean())
    assert guard.min_sample == int(np.ceil(9 * agree * (1 - agree) / 0.05 ** 2))
    shifted = challenger[:3000] ** 0.7
    assert guard.psi(shifted) == pytest.approx(monitor.psi(challenger, shifted), rel=1e-9)  # same bins and floor
    assert guard.psi(challenger[:5000]) == pytest.approx(monitor.psi(challenger, challenger[:5000]), rel=1e-9)
    with pytest.raises(rollout.RolloutError, match="flags nothing"):
        migration.LabelFreeGuard.from_validation(a, np.zeros_like(b), challenger)


def test_guard_quiet_on_the_healthy_challenger_and_fires_on_faults(scores):
    champion, challenger, ta, tb = scores
    guard = _guard(scores)
    plan = migration.calendar_plan(1)
    start = migration.stage_start(plan, "canary 1%")
    kw = dict(traffic_per_window=1500, seed=0)
    healthy = rollout.run_rollout(plan, migration.mirrored_observer(champion, challenger, ta, tb, guard, **kw), guard)
    assert healthy.completed
    # the canary is really guarded: its windows reach the minimum sample and are counted
    counted = {c.window for c in healthy.trigger.checks if c.counted}
    assert all(w["window"] in counted for w in healthy.windows if w["stage"] == "canary 1%")
    wrong_join = np.random.default_rng(1).permutation(challenger)  # another customer's features
    faulty = migration.mirrored_observer(champion, challenger, ta, tb, guard, broken_score=wrong_join,
                                         broken_from=start, **kw)
    log = rollout.run_rollout(plan, faulty, guard)
    assert log.rolled_back and log.stopped_stage == "canary 1%" and "agreement" in log.trigger.reason
    timing = migration.rollback_time(log, window_days=1, broken_from=start)
    assert timing["windows"] == guard.consecutive and timing["days"] == guard.consecutive
    assert timing["served_while_broken"] == guard.consecutive * round(0.01 * 1500)
    scaled = np.clip(challenger * 3, 0, 1)  # a unit error: every score three times too high
    faulty = migration.mirrored_observer(champion, challenger, ta, tb, guard, broken_score=scaled, broken_from=0, **kw)
    log = rollout.run_rollout(plan, faulty, guard)
    assert log.rolled_back and log.stopped_stage == "shadow" and "PSI" in log.trigger.reason  # before any customer
    assert migration.rollback_time(log, window_days=1, broken_from=0)["served_while_broken"] == 0
    assert migration.guard_false_alarm_rate(guard, champion, challenger, ta, tb, plan=plan, traffic_per_window=1500,
                                            runs=20, seed=5) <= 0.05


def test_guard_does_not_count_small_windows_and_checks_its_input(scores):
    guard = _guard(scores)
    bad = {"n": guard.min_sample - 1, "agreement": 0.1, "flag_ratio": 9.0, "psi": 3.0}
    result = guard.evaluate([bad] * 5)
    assert not result.fired and not any(c.counted for c in result.checks)
    assert guard.evaluate([dict(bad, n=guard.min_sample)] * 2).fired
    with pytest.raises(rollout.RolloutError, match="lacks 'psi'"):
        guard.evaluate([{"n": 1, "agreement": 1, "flag_ratio": 1}])
    with pytest.raises(rollout.RolloutError, match="give a mapping of numbers"):
        guard.evaluate([(600, 0.9, 1.0, 0.1)])
    champion, challenger, ta, tb = scores
    with pytest.raises(rollout.RolloutError, match="both broken_score and broken_from"):
        migration.mirrored_observer(champion, challenger, ta, tb, guard, traffic_per_window=100, broken_from=3)
    with pytest.raises(rollout.RolloutError, match="reference_agreement"):
        migration.LabelFreeGuard(0.0, 1.0, challenger)
