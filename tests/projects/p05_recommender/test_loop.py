"""Project 05's conclusions, asserted against the world's truth over several seeds: the degenerate loop
concentrates exposure, IPS estimates beat the naive logged CTR, the guardrail vetoes when it should and only
then, and the diagnosis names the cause the world was built with."""

import numpy as np
import pytest

from lifecycle_lab.projects.p05_recommender import champion as cc, diagnosis, loop
from lifecycle_lab.projects.p05_recommender.world import RecWorld

SEEDS = (0, 1, 2)
SMALL = dict(n_users=1500, n_items=250)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_clicks_only_loop_concentrates_exposure_more_than_exploration(seed):
    world = RecWorld(seed=seed, ui_change=False, n_days=40, **SMALL)
    closed = loop.simulate(world, "clicks_only", sessions_per_day=1000)
    open_ = loop.simulate(world, "epsilon_greedy", epsilon=0.1, sessions_per_day=1000)
    last_c, last_o = closed.exposure[-7:].sum(0), open_.exposure[-7:].sum(0)
    assert loop.gini(last_c) > loop.gini(last_o) + 0.05
    assert loop.coverage(last_c) < 0.2 < 0.9 < loop.coverage(last_o)
    # the closed loop never shows a video released during the period (cold start), exploration does
    assert closed.days.new_share.max() == 0 and open_.days.new_share.tail(7).mean() > 0
    # and it pays for it: its regret against the segment-level oracle is larger
    assert closed.days.regret.tail(7).mean() > open_.days.regret.tail(7).mean()


@pytest.mark.parametrize("seed", SEEDS)
def test_ips_estimates_are_closer_to_the_truth_than_the_naive_logged_ctr(seed):
    world = RecWorld(seed=seed, ui_change=False, n_days=45, **SMALL)
    logger = loop.simulate(world, "ips", epsilon=0.1, seed=5)
    trained = loop.simulate(world, "ips", epsilon=0.1, n_days=30)
    candidates = {"model": trained.scores, **cc.variants(trained.scores, world.slate_size)}
    table = cc.slate_estimates(logger, candidates, world, range(31, 45))
    naive_error = (table.naive_logged_ctr - table.true_ctr).abs()
    ips_error = (table.ips - table.true_ctr).abs()
    assert ips_error.mean() < naive_error.mean()
    # a reversed slate shows the same videos: the naive estimate cannot tell, the truth and IPS can
    rev = table.loc["same slate, reversed"]
    assert rev.true_ctr < table.loc["model", "true_ctr"] and abs(rev.ips - rev.true_ctr) < abs(rev.naive_logged_ctr - rev.true_ctr)


def test_the_examination_curve_is_recovered_from_the_explored_slots():
    world = RecWorld(seed=0, ui_change=False, n_days=30, **SMALL)
    run = loop.simulate(world, "epsilon_greedy", epsilon=0.2, sessions_per_day=2000)
    truth = world.examination(10) / world.examination(10)[0]
    assert np.abs(run.examination_estimate - truth).max() < 0.12


@pytest.mark.parametrize("seed", SEEDS)
def test_the_guardrail_vetoes_a_concentrating_winner_and_only_then(seed):
    world = RecWorld(seed=seed, ui_change=False, n_days=50, **SMALL)
    ips_scores = loop.simulate(world, "ips", epsilon=0.1, n_days=30).scores
    clicks_scores = loop.simulate(world, "clicks_only", n_days=30).scores
    champ = cc.Arm("champion", ips_scores, 0.1)
    exploit = cc.run_experiment(world, champ, cc.Arm("exploit", ips_scores, 0.0), start_day=30)
    assert exploit.ctr_win and exploit.decision == "veto" and "exposure concentration" in exploit.vetoes
    assert exploit.gini_challenger - exploit.gini_champion > cc.Guardrails().max_gini_increase
    same = cc.run_experiment(world, champ, cc.Arm("same", ips_scores, 0.1), start_day=30)
    assert same.decision == "keep champion" and not same.vetoes
    better = cc.run_experiment(world, cc.Arm("clicks champion", clicks_scores, 0.0), champ, start_day=30)
    assert better.ctr_win and better.true_lift > 0 and "exposure concentration" not in better.vetoes
    # the segment guardrail agrees with the world's truth on the same sessions (clear cases either way)
    drop = cc.Guardrails().max_segment_drop
    truly_harmed = [s for s, v in better.true_segment_change.items() if v < -2 * drop]
    assert set(truly_harmed) <= set(better.harmed)
    assert not [s for s in better.harmed if better.true_segment_change[s] > -drop / 2]
    assert better.decision == ("veto" if better.harmed else "promote")


def test_the_guardrail_rules_themselves():
    from lifecycle_lab.evaluation.experiment import two_proportion_test

    rails = cc.Guardrails(max_segment_drop=0.05, max_gini_increase=0.03)
    fine = {"a": two_proportion_test(1000, 10000, 1010, 10000)}
    hurt = {"a": two_proportion_test(1000, 10000, 800, 10000)}
    assert cc.guardrail_vetoes(fine, 0.80, 0.82, rails) == ([], [])
    assert cc.guardrail_vetoes(hurt, 0.80, 0.82, rails) == (["segment harm"], ["a"])
    assert cc.guardrail_vetoes(fine, 0.80, 0.84, rails)[0] == ["exposure concentration"]
    assert cc.decide(True, []) == "promote" and cc.decide(True, ["x"]) == "veto"
    assert cc.decide(False, []) == "keep champion" and cc.decide(False, ["x"]) == "keep champion"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("change", ["ui_change", "taste_shift", None])
def test_the_diagnosis_names_the_real_cause(seed, change):
    world = RecWorld(seed=seed, n_days=75, ui_change=change == "ui_change", taste_shift=change == "taste_shift",
                     ui_change_day=45, shift_day=50, **SMALL)
    run = loop.simulate(world, "ips", epsilon=0.1, sessions_per_day=2000)
    found = diagnosis.diagnose(run, world)
    if change is None:
        assert found.causes == ["none"]
        return
    truth = world.truth()[0]
    assert found.cause == {"ui_change": "position_bias", "taste_shift": "taste_shift"}[change]
    assert abs(found.change_day - truth.day) <= 5  # daily noise and the model reacting blur the step
    if change == "taste_shift":
        assert found.segment == world.shift_segment
    # latency and errors are flat either side of the change: they could not have caught it
    (lat_b, lat_a), (err_b, err_a) = found.ops["latency_p95_ms"], found.ops["error_rate"]
    assert abs(lat_a - lat_b) < 2 and abs(err_a - err_b) < 0.002


def test_bad_loop_settings_are_refused_naming_the_setting():
    world = RecWorld(seed=0, n_days=40, ui_change=False, **SMALL)
    with pytest.raises(loop.LoopError, match="policy"):
        loop.simulate(world, "greedy")
    with pytest.raises(loop.LoopError, match="epsilon"):
        loop.simulate(world, "ips", epsilon=0.9)
