"""The recommender world: seeded, trained on its logs, knobs do what they say, the truth is seed-stable."""

import asyncio

import numpy as np
import pytest
from scipy import stats

from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.evaluation import ranking
from lifecycle_lab.projects.p02_gate import world as recsys
from lifecycle_lab.projects.p02_gate.world import (RecsysConfig, RecsysWorld, ScenarioError, cost_per_1k, fit_logistic,
                                            srm_demo_counts)


@pytest.fixture(scope="module")
def world():
    return RecsysWorld()  # the default knobs


def test_same_seed_same_world_and_traffic():
    a, b = RecsysWorld(seed=5, n_items=100), RecsysWorld(seed=5, n_items=100)
    assert np.array_equal(a.appeal, b.appeal)
    ta, tb = a.ab_test(500, seed=2), b.ab_test(500, seed=2)
    assert ta.equals(tb)
    assert not RecsysWorld(seed=6, n_items=100).ab_test(500, seed=2).equals(ta)


def test_the_sampling_seed_keeps_the_world_and_its_truth_the_world_seed_changes_them():
    a, b = RecsysWorld(seed=1, n_items=100), RecsysWorld(seed=2, n_items=100)
    assert np.array_equal(a.popularity, b.popularity) and a.structure.personal_weight == b.structure.personal_weight
    assert a.true_effects(20_000) == b.true_effects(20_000)
    other = RecsysWorld(seed=1, world_seed=7, n_items=100)
    assert not np.array_equal(a.appeal, other.appeal)
    assert a.true_effects(20_000)["ctr_lift"] != other.true_effects(20_000)["ctr_lift"]


def test_clicks_follow_the_hidden_click_model(world):
    users = world.users(40_000, "current", seed=3)
    served = world.serve(users, "champion", seed=3)
    # the observed CTR agrees with the mean click probability (a binomial test, not a copied number)
    p = served.click_prob.mean()
    res = stats.binomtest(int(served.click.sum()), len(served), p)
    assert res.pvalue > 0.001
    # and the logit is what the docstring says for one user
    u = users.take(slice(0, 1))
    item = int(served.item.iloc[0])
    g = world.item_genre[item]
    want = (-5.95 + world.appeal[u.region[0], item] + 0.34 * max(np.log(world.config.n_genres * u.taste[0, g]), -3)
            + (0.0, 0.1, -0.2)[u.device[0]])
    assert world.click_logit(u, np.array([item]))[0] == pytest.approx(want)


def test_the_logistic_fit_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 2))
    y = rng.random(5000) < 1 / (1 + np.exp(-(-1.0 + 0.8 * x[:, 0] - 0.5 * x[:, 1])))
    ours = fit_logistic(x, y)
    sk = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(x, y)  # C=inf: no penalty
    assert ours == pytest.approx(np.r_[sk.intercept_, sk.coef_[0]], abs=1e-4)


def test_both_models_are_trained_on_the_logged_grid(world):
    s = world.structure
    assert s.log_impressions == recsys.LOG_USERS * recsys.LOG_PER_USER and 0 < s.log_clicks < s.log_impressions
    # popularity learned from logged clicks ranks the often-shown items like their true appeal (Spearman over
    # each region's 50 most appealing items; rarely shown tail items stay near the prior), and its top item
    # is one of the region's five most appealing
    for r in range(len(recsys.REGIONS)):
        top = np.argsort(-world.appeal[r])[:50]
        assert stats.spearmanr(world.popularity[r][top], world.appeal[r][top]).statistic > 0.8
        assert np.argmax(world.popularity[r]) in top[:5]
    # the personal weight is fitted, and taste matters in the grid, so it is clearly positive
    assert 0.5 < s.personal_weight < 3
    assert s.coefficients[2] > 0 and s.coefficients[1] > 0


def test_quality_zero_makes_the_challenger_the_champion():
    w = RecsysWorld(seed=2, n_items=100, challenger_quality=0.0, underserved_segment="none")
    users = w.users(2000, seed=1)
    assert np.array_equal(w.recommend(users, "champion"), w.recommend(users, "challenger"))


def test_true_effects_agree_with_served_clicks(world):
    truth = world.true_effects()
    ab = world.ab_test(60_000, seed=9)
    for model in ("champion", "challenger"):
        arm = ab[ab.model == model]
        assert stats.binomtest(int(arm.click.sum()), len(arm), truth["ctr"][model]).pvalue > 0.001
        new = arm[arm.segment == "new"]
        assert stats.binomtest(int(new.click.sum()), len(new), truth["segment_ctr"][model]["new"]).pvalue > 0.001
    # session minutes: the expected value, against the mean of 60k exponential draws (a z-test)
    for model in ("champion", "challenger"):
        x = ab[ab.model == model].session_minutes
        assert abs(x.mean() - truth["minutes"][model]) < 4 * x.std() / np.sqrt(len(x))


def test_default_world_premise_offline_about_15_percent_online_clearly_smaller(world):
    # ML Test Score Model 2: the offline lift overstates the online one. Offline: recall@10 on held-out logged
    # clicks of 20k training-period users; online: the true CTR lift (no sampling noise)
    train = world.users(20_000, "train", seed=11)
    rel = world.logged_test_set(train, seed=11)
    recall = {m: np.nanmean(ranking.recall_at_k(world.recommend(train, m, 10), rel, 10))
              for m in ("champion", "challenger")}
    offline = recall["challenger"] / recall["champion"] - 1
    truth = world.true_effects()
    assert 0.12 < offline < 0.19
    assert 0.05 < truth["ctr_lift"] < 0.75 * offline
    # the mis-joined segment loses clearly more than the ethical bar of 10%, the others gain
    assert truth["segment_lift"]["new"] < -0.13
    assert truth["segment_lift"]["returning"] > 0.1 and truth["segment_lift"]["power"] > 0.1


def test_underserved_segment_is_the_knob_behind_the_loss():
    fixed = RecsysWorld(underserved_segment="none").true_effects(60_000)
    assert min(fixed["segment_lift"].values()) > 0
    moved = RecsysWorld(underserved_segment="power").true_effects(60_000)
    assert min(moved["segment_lift"], key=moved["segment_lift"].get) == "power"


def test_drift_knob_moves_the_inputs_and_zero_drift_does_not():
    w0 = RecsysWorld(seed=4, n_items=100, drift=0.0)
    w1 = RecsysWorld(seed=4, n_items=100, drift=1.0)
    ref = w0.users(5000, "train", seed=1).frame()
    same = w0.users(5000, "current", seed=2).frame()
    moved = w1.users(5000, "current", seed=2).frame()
    assert monitor.psi(ref.tenure_days, same.tenure_days) < 0.05
    assert monitor.psi(ref.tenure_days, moved.tenure_days) > 0.1
    assert (moved.segment == "new").mean() > (ref.segment == "new").mean() + 0.1


def test_history_follows_the_taste_at_logging_time():
    # the vectorised multinomial: per-genre counts have mean n_hist x taste (checked on power users)
    w = RecsysWorld(seed=3, n_items=100, drift=0.0)
    u = w.users(20_000, "train", seed=5)
    power = u.segment == 2
    expected = (u.history[power].sum(axis=1, keepdims=True) * u.taste[power]).sum(axis=0)
    observed = u.history[power].sum(axis=0)
    assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 0.001


def test_the_live_bug_hits_the_stated_share_and_the_skew_check_sees_it():
    assert RecsysWorld(seed=5, n_items=100, inject_regression=True).skew_check(500) == 0.0
    assert RecsysWorld(seed=5, n_items=100).skew_check(500) == 1.0
    agree = RecsysWorld(seed=5, n_items=100, inject_regression=True, regression_share=0.15).skew_check(4000)
    assert stats.binomtest(round(agree * 4000), 4000, 0.85).pvalue > 0.001


def test_srm_loss_drops_new_users_of_the_challenger_arm():
    ok = RecsysWorld(seed=1, n_items=100).ab_test(40_000, seed=1)
    lossy = RecsysWorld(seed=1, n_items=100, srm_loss=0.2).ab_test(40_000, seed=1)
    counts = lossy.model.value_counts()
    assert stats.chisquare([counts["champion"], counts["challenger"]]).pvalue < 1e-6
    assert stats.chisquare(ok.model.value_counts().to_numpy()).pvalue > 0.001
    share_new = lossy.groupby("model").segment.apply(lambda s: (s == "new").mean())
    assert share_new["challenger"] < share_new["champion"] - 0.02


def test_latency_costs_browsing_above_the_patience_threshold():
    # hand computation: a quarter of the browsing time lost per 100 ms above 100 ms
    assert RecsysWorld(challenger_latency_ms=40).browse_factor("challenger") == 1.0
    assert RecsysWorld(challenger_latency_ms=150).browse_factor("challenger") == pytest.approx(0.875)
    assert RecsysWorld(challenger_latency_ms=300).browse_factor("challenger") == pytest.approx(0.5)
    slow = RecsysWorld(challenger_latency_ms=150, underserved_segment="none", drift=0.0).true_effects(60_000)
    assert slow["minutes_change"] < -0.03  # users browse less: sessions shorter even though clicks rise
    assert slow["ctr_lift"] > 0.05


def test_the_handler_serves_what_the_model_recommends(world):
    requests = world.requests(5, seed=1)
    handle = world.handler("challenger")
    async def serve_all():
        return await asyncio.wait_for(asyncio.gather(*(handle(r) for r in requests)), 5)

    got = asyncio.run(serve_all())
    assert got == [int(world.recommend(r, "challenger")[0, 0]) for r in requests]
    with pytest.raises(ScenarioError, match="model"):
        world.handler("baseline")


def test_cost_formula():
    # C = sum($/h) / (rps x 3600) x 1000: two $0.50 instances at 100 rps -> $1 / 360,000 x 1000
    assert cost_per_1k([0.5, 0.5], 100) == pytest.approx(1 / 360)
    with pytest.raises(ScenarioError, match="price"):
        cost_per_1k([], 100)


def test_srm_demo_has_one_healthy_and_one_broken_split():
    counts = srm_demo_counts(100_000, seed=0)
    assert stats.chisquare(counts["experiment_1"]).pvalue > 0.001
    assert stats.chisquare(counts["experiment_2"]).pvalue < 0.001


def test_bad_knobs_are_refused():
    with pytest.raises(ScenarioError, match="underserved_segment"):
        RecsysConfig(underserved_segment="tv")
    with pytest.raises(ScenarioError, match="drift"):
        RecsysConfig(drift=2)
    with pytest.raises(ScenarioError, match="world_seed"):
        RecsysConfig(world_seed=-1)
    with pytest.raises(ScenarioError, match="srm_loss"):
        RecsysConfig(srm_loss=True)
    with pytest.raises(ScenarioError, match="inject_regression"):
        RecsysConfig(inject_regression="yes")
    with pytest.raises(ScenarioError, match="period"):
        RecsysWorld(seed=1, n_items=50).users(10, "future")


def test_the_rollout_observer_reads_the_window_split_by_hand(world):
    from lifecycle_lab.deployment.rollout import Stage

    observe = world.rollout_observer(window_users=200_000, cap=20_000, seed=1)
    canary = observe(Stage("canary 1%", 0.01, 1), 0)
    assert (canary["n_champion"], canary["n"]) == (20_000, 2_000)  # 99% of 200k capped at 20k; 1% of 200k
    full = observe(Stage("full", 1.0, 1), 1)
    assert (full["n_champion"], full["n"]) == (2_000, 20_000)      # the 1% holdback at full rollout
    shadow = observe(Stage("shadow", 0.0, 1, guarded=False), 2)
    assert shadow["n"] == 0 and np.isnan(shadow["challenger"])
