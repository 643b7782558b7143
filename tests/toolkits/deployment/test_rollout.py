"""Rollback triggers and staged rollouts: the guarded trigger ignores noise, the naive one does not."""

import numpy as np
import pytest

from lifecycle_lab.deployment.rollout import (DEFAULT_PLAN, RollbackTrigger, RolloutError, Stage, run_rollout,
                                   time_to_promote, time_to_rollback)


def w(champ, chall, n):
    return {"champion": champ, "challenger": chall, "n": n}


def test_guarded_trigger_fires_after_consecutive_counted_failures():
    trig = RollbackTrigger(max_relative_drop=0.05, min_sample=1000, consecutive=3)
    windows = [w(0.10, 0.099, 2000),   # 1% drop: fine
               w(0.10, 0.090, 2000),   # 10% drop: fail 1
               w(0.10, 0.080, 500),    # too small: ignored, streak kept
               w(0.10, 0.094, 2000),   # 6% drop: fail 2
               w(0.10, 0.094, 2000),   # fail 3 -> fires here
               w(0.10, 0.050, 2000)]
    res = trig.evaluate(windows)
    assert res.fired and res.window == 4
    assert [c.counted for c in res.checks] == [True, True, False, True, True]
    assert [c.streak for c in res.checks] == [0, 1, 1, 2, 3]
    assert res.checks[1].relative_drop == pytest.approx(0.1)
    assert "window 4" in res.reason and "3 consecutive" in res.reason


def test_a_good_window_resets_the_streak_and_exact_threshold_does_not_fail():
    trig = RollbackTrigger(consecutive=2, min_sample=10)
    res = trig.evaluate([w(1.0, 0.9, 100), w(1.0, 0.95, 100), w(1.0, 0.9, 100), w(1.0, 1.0, 100)])
    # 0.95 is a drop of exactly 5%: not > 5%, so it does not fail but is counted and resets the streak.
    assert not res.fired and [c.streak for c in res.checks] == [1, 0, 1, 0]


def test_naive_trigger_fires_on_noise_the_guarded_one_ignores():
    rng = np.random.default_rng(0)
    p = 0.05  # the challenger is exactly as good as the champion
    naive_fired = guarded_fired = 0
    for _ in range(200):
        windows = []
        for size in (200, 200, 2000, 2000, 2000, 2000):
            windows.append(w(rng.binomial(size, p) / size, rng.binomial(size, p) / size, size))
        naive_fired += RollbackTrigger.naive().evaluate(windows).fired
        guarded_fired += RollbackTrigger(min_sample=1000, consecutive=3).evaluate(windows).fired
    assert naive_fired > 150       # noise alone: a small window below -5% is almost certain
    assert guarded_fired < 20      # three big windows in a row below -5% by chance is rare


def test_trigger_refuses_bad_settings_and_windows():
    with pytest.raises(RolloutError, match="share between 0 and 1"):
        RollbackTrigger(max_relative_drop=5)
    with pytest.raises(RolloutError, match="consecutive"):
        RollbackTrigger(consecutive=0)
    with pytest.raises(RolloutError, match="sample size"):
        RollbackTrigger().evaluate([{"champion": 1, "challenger": 1}])
    with pytest.raises(RolloutError, match="positive"):
        RollbackTrigger().evaluate([w(0.0, 0.1, 5000)])


def test_run_rollout_completes_for_a_good_challenger_and_rolls_back_a_bad_one():
    def good(stage, k):
        return w(0.05, 0.052, 5000)

    def regress_from(start):
        def obs(stage, k):
            return w(0.05, 0.04 if k >= start else 0.051, 5000)
        return obs

    trig = RollbackTrigger(min_sample=1000, consecutive=2)
    done = run_rollout(DEFAULT_PLAN, good, trig)
    assert done.completed and not done.rolled_back and done.table()["stage"].iloc[-1] == "full"
    bad = run_rollout(DEFAULT_PLAN, regress_from(4), trig)
    assert bad.rolled_back and bad.stopped_stage == "canary 1%"
    assert bad.trigger.fired and bad.windows[-1]["window"] == 5  # windows 4 and 5 fail -> fires at 5
    assert "weight set to 0" in bad.reason
    with pytest.raises(RolloutError, match="non-decreasing"):
        run_rollout([Stage("a", 0.5, 1), Stage("b", 0.1, 1)], good, trig)


def test_promotion_and_rollback_times():
    assert time_to_promote(1, 50, 5) == 10   # Flagger: 1 min interval, 5% steps to 50%
    assert time_to_rollback(5, 3) == 15      # Argo: 5 min interval, failureLimit 3


def test_false_alarm_rate_is_high_for_naive_and_low_for_guarded_on_a_healthy_challenger():
    from lifecycle_lab.deployment.rollout import false_alarm_rate

    naive = false_alarm_rate(0.05, 0.055, RollbackTrigger.naive(), n_sims=200, seed=1)
    guarded = false_alarm_rate(0.05, 0.055, RollbackTrigger(min_sample=1000, consecutive=3), n_sims=200, seed=1)
    assert naive > 0.3 and guarded < 0.05
    # a real 30% drop is caught by both
    assert false_alarm_rate(0.05, 0.035, RollbackTrigger(min_sample=1000, consecutive=3), n_sims=50) > 0.95


def test_an_inconclusive_stage_is_extended_then_pauses_instead_of_being_promoted():
    plan = [Stage("canary", 0.01, 2), Stage("full", 1.0, 1)]
    trig = RollbackTrigger(min_sample=1000, consecutive=2)
    seen = []

    def small(stage, k):
        seen.append(stage.name)
        return w(0.05, 0.05, 400 if stage.name == "canary" else 5000)

    log = run_rollout(plan, small, trig, extend_inconclusive=2)
    assert log.paused and not log.completed and not log.rolled_back and log.outcome == "paused"
    assert seen == ["canary"] * 4 and log.stopped_stage == "canary" and "inconclusive" in log.reason
    # one counted window is enough to promote; without the option the old behaviour (promote) stays
    assert run_rollout(plan, lambda s, k: w(0.05, 0.05, 1000 if k >= 3 else 400), trig,
                       extend_inconclusive=2).completed
    assert run_rollout(plan, small, trig).completed


def test_a_failing_health_check_pauses_before_anyone_is_exposed():
    plan = [Stage("shadow", 0.0, 2, guarded=False), Stage("canary", 0.01, 2)]

    def obs(stage, k):
        return {**w(0.05, float("nan") if stage.weight == 0 else 0.05, 0 if stage.weight == 0 else 5000),
                "p99_ms": 310.0}

    def check(stage, o):
        return f"p99 {o['p99_ms']} ms over budget" if stage.weight == 0 and o["p99_ms"] >= 200 else None

    log = run_rollout(plan, obs, RollbackTrigger(), health_check=check)
    assert log.paused and log.stopped_stage == "shadow" and len(log.windows) == 1 and "over budget" in log.reason
    assert log.counted_windows("canary") == 0


def test_trigger_operating_table_false_alarms_at_zero_and_detects_big_drops():
    from lifecycle_lab.deployment.rollout import false_alarm_rate, trigger_operating_table

    trig = RollbackTrigger(min_sample=1000, consecutive=3)
    table = trigger_operating_table(0.05, [0.0, 0.1, 0.5], trig, n_sims=200, seed=2, by_stage="canary 1%")
    assert list(table.index) == [0.0, 0.1, 0.5] and table.attrs["by_stage"] == "canary 1%"
    assert table.loc[0.5, "fire_rate_by_stage"] > 0.95          # a halving is caught in the canary
    assert table.loc[0.0, "fire_rate"] < table.loc[0.1, "fire_rate"] < table.loc[0.5, "fire_rate"] + 1e-9
    assert (table.fire_rate_by_stage <= table.fire_rate).all()
    # at no drop it is a false-alarm rate: the same as false_alarm_rate's simulation, within noise
    other = false_alarm_rate(0.05, 0.05, trig, n_sims=400, seed=3)
    assert abs(table.loc[0.0, "fire_rate"] - other) < 0.08
    with pytest.raises(RolloutError, match="by_stage"):
        trigger_operating_table(0.05, [0.0], trig, by_stage="ramp 99%")
    with pytest.raises(RolloutError, match="no guarded stage with challenger traffic: add a stage"):
        trigger_operating_table(0.05, [0.0], trig, plan=[Stage("shadow", 0.0, 2, guarded=False)])


def test_window_split_gives_the_challenger_its_weight_and_keeps_a_1pct_holdback():
    from lifecycle_lab.deployment.rollout import window_split

    # by hand, 200,000 users a window, at most 20,000 read per side
    assert window_split(0.002, 200_000, 20_000) == (20_000, 400)      # dogfood: 0.2% of 200k
    assert window_split(0.01, 200_000, 20_000) == (20_000, 2_000)     # canary 1%
    assert window_split(1.0, 200_000, 20_000) == (2_000, 20_000)      # full: the 1% holdback stays
    assert window_split(0.0, 200_000, 20_000) == (20_000, 0)          # shadow: nobody exposed
