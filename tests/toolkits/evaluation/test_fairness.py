"""Fairness audit helpers against fairlearn / scikit-learn / scipy as oracles, plus hand-checkable cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.evaluation import fairness
from lifecycle_lab.evaluation.fairness import FairnessInputError


def _data(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    s = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    y = rng.binomial(1, np.where(s == "a", 0.3, 0.2))
    score = 0.6 * y + rng.normal(0, 0.5, n) + np.where(s == "c", 0.15, 0.0)
    pred = (score > 0.4).astype(int)
    return y, pred, s


def test_parity_summary_matches_fairlearn():
    from fairlearn import metrics as fm

    for seed in range(4):
        y, p, s = _data(seed)
        got = fairness.parity_summary(y, p, s)
        assert got["demographic_parity_difference"] == pytest.approx(
            fm.demographic_parity_difference(y, p, sensitive_features=s), abs=1e-12)
        assert got["demographic_parity_ratio"] == pytest.approx(
            fm.demographic_parity_ratio(y, p, sensitive_features=s), abs=1e-12)
        assert got["equalized_odds_difference"] == pytest.approx(
            fm.equalized_odds_difference(y, p, sensitive_features=s), abs=1e-12)
        assert got["equalized_odds_ratio"] == pytest.approx(
            fm.equalized_odds_ratio(y, p, sensitive_features=s), abs=1e-12)


def test_parity_summary_hand_example():
    # group a: 2 of 4 selected; group b: 1 of 4 selected -> DP diff 0.25, ratio 0.5
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    p = np.array([1, 0, 1, 0, 1, 0, 0, 0])
    s = np.array(list("aaaabbbb"))
    got = fairness.parity_summary(y, p, s)
    assert got["demographic_parity_difference"] == pytest.approx(0.25)
    assert got["demographic_parity_ratio"] == pytest.approx(0.5)
    # TPR a=0.5, b=0.5; FPR a=0.5, b=0 -> EO diff 0.5, EO ratio min(1, 0) = 0
    assert got["equalized_odds_difference"] == pytest.approx(0.5)
    assert got["equalized_odds_ratio"] == pytest.approx(0.0)


def test_group_table_matches_metricframe_and_sklearn():
    from sklearn.metrics import accuracy_score, precision_score

    y, p, s = _data(1)
    table = fairness.group_table(y, p, pd.Series(s, name="segment"))
    assert table.index.name == "segment"
    assert list(table.index) == ["a", "b", "c", "difference", "ratio"]
    for g in "abc":
        m = s == g
        assert table.loc[g, "selection_rate"] == pytest.approx(p[m].mean())
        assert table.loc[g, "true_positive_rate"] == pytest.approx(p[m & (y == 1)].mean())
        assert table.loc[g, "false_positive_rate"] == pytest.approx(p[m & (y == 0)].mean())
        assert table.loc[g, "accuracy"] == pytest.approx(accuracy_score(y[m], p[m]))
        assert table.loc[g, "precision"] == pytest.approx(precision_score(y[m], p[m]))
        assert table.loc[g, "count"] == m.sum()
    groups = table.loc[["a", "b", "c"]]
    for col in ["selection_rate", "accuracy"]:
        assert table.loc["difference", col] == pytest.approx(groups[col].max() - groups[col].min())
        assert table.loc["ratio", col] == pytest.approx(groups[col].min() / groups[col].max())
    assert math.isnan(table.loc["difference", "count"])


def test_group_table_custom_metric_for_segment_ctr():
    clicks = np.array([1, 0, 0, 0, 1, 1, 0, 1])
    seg = np.array(list("xxxxyyyy"))
    table = fairness.group_table(clicks, clicks, seg, metrics={"ctr": lambda yt, _: yt.mean()})
    assert table.loc["x", "ctr"] == pytest.approx(0.25)
    assert table.loc["y", "ctr"] == pytest.approx(0.75)
    assert table.loc["difference", "ctr"] == pytest.approx(0.5)
    assert table.loc["ratio", "ctr"] == pytest.approx(1 / 3)


def test_group_table_rejects_bad_input():
    with pytest.raises(FairnessInputError, match="same length"):
        fairness.group_table([0, 1], [0, 1, 1], ["a", "b"])
    with pytest.raises(FairnessInputError, match="empty"):
        fairness.group_table([], [], [])
    with pytest.raises(FairnessInputError, match="unknown metric"):
        fairness.group_table([0, 1], [0, 1], ["a", "b"], metrics=["auc_magic"])
    with pytest.raises(FairnessInputError, match="missing"):
        fairness.group_table([0, 1], [0, 1], ["a", None])
    with pytest.raises(FairnessInputError, match="collides"):
        fairness.group_table([0, 1], [0, 1], ["ratio", "b"])


def test_bootstrap_ci_width_close_to_normal_approximation_and_scipy():
    from scipy import stats

    rng = np.random.default_rng(3)
    n = 2000
    s = np.where(np.arange(n) < 1000, "a", "b")
    y = rng.binomial(1, np.where(s == "a", 0.3, 0.1))
    ci = fairness.bootstrap_ci(lambda yt, yp: yt.mean(), y, y, s, n_boot=400, seed=1)
    assert list(ci.index) == ["a", "b", "difference"]
    for g in "ab":
        row = ci.loc[g]
        assert row["lower"] < row["estimate"] < row["upper"]
        p = y[s == g].mean()
        half_normal = 1.96 * math.sqrt(p * (1 - p) / 1000)
        assert (row["upper"] - row["lower"]) / 2 == pytest.approx(half_normal, rel=0.2)
        ref = stats.bootstrap((y[s == g],), np.mean, n_resamples=2000, method="percentile",
                              confidence_level=0.95, random_state=0).confidence_interval
        assert row["lower"] == pytest.approx(ref.low, abs=0.01)
        assert row["upper"] == pytest.approx(ref.high, abs=0.01)
    d = ci.loc["difference"]
    assert d["lower"] < d["estimate"] < d["upper"]
    assert d["estimate"] == pytest.approx(ci.loc["a", "estimate"] - ci.loc["b", "estimate"])


def test_bootstrap_ci_reproducible_and_named_metric():
    y, p, s = _data(2, n=600)
    a = fairness.bootstrap_ci("true_positive_rate", y, p, s, n_boot=50, seed=5)
    b = fairness.bootstrap_ci("true_positive_rate", y, p, s, n_boot=50, seed=5)
    pd.testing.assert_frame_equal(a, b)
    c = fairness.bootstrap_ci("true_positive_rate", y, p, s, n_boot=50, seed=6)
    assert not a.equals(c)
    with pytest.raises(FairnessInputError, match="n_boot"):
        fairness.bootstrap_ci("accuracy", y, p, s, n_boot=3)
    with pytest.raises(FairnessInputError, match="level"):
        fairness.bootstrap_ci("accuracy", y, p, s, level=95)


def test_four_fifths_screen_hand_example():
    # approvals: group a 8/10, group b 5/10 -> impact ratio 0.625 < 0.8 -> b flagged
    pred = np.array([1] * 8 + [0] * 2 + [1] * 5 + [0] * 5)
    s = np.array(["a"] * 10 + ["b"] * 10)
    res = fairness.four_fifths_screen(pred, s, favourable=1)
    assert res.flagged == ["b"]
    assert res.table.loc["b", "impact_ratio"] == pytest.approx(0.625)
    assert "heuristic" in res.render().lower() and "1607.4(D)" in res.render()
    # for a fraud flag the favourable outcome is 0: a: 2/10 not flagged, b: 5/10 -> a flagged
    res0 = fairness.four_fifths_screen(pred, s, favourable=0)
    assert res0.flagged == ["a"]
    # a: 17/20 = 0.85, b: 20/20 -> impact ratio 0.85 passes the screen
    pred2 = np.array([1] * 17 + [0] * 3 + [1] * 20)
    s2 = np.array(["a"] * 20 + ["b"] * 20)
    assert not fairness.four_fifths_screen(pred2, s2).flags_any


def test_parity_rejects_scores_and_single_group():
    with pytest.raises(FairnessInputError, match="0/1"):
        fairness.parity_summary([0, 1], [0.2, 0.9], ["a", "b"])
    with pytest.raises(FairnessInputError, match="one group"):
        fairness.parity_summary([0, 1], [0, 1], ["a", "a"])
    with pytest.raises(FairnessInputError, match="no positive labels"):
        fairness.parity_summary([0, 0, 1, 0], [0, 1, 1, 0], ["a", "a", "b", "b"])


def test_reweighing_weights_by_hand_and_they_make_label_independent_of_group():
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0])
    s = np.array(["a"] * 4 + ["b"] * 4)
    w = fairness.reweighing_weights(y, s)
    # P(g) = 1/2, P(y) = 1/2; P(a, 1) = 3/8 -> 2/3, P(a, 0) = 1/8 -> 2, P(b, 1) = 1/8 -> 2, P(b, 0) = 3/8 -> 2/3
    assert w.tolist() == pytest.approx([2 / 3] * 3 + [2, 2] + [2 / 3] * 3)
    yy, _, ss = _data(seed=4)
    ww = fairness.reweighing_weights(yy, ss)
    rates = [np.average(yy[ss == g], weights=ww[ss == g]) for g in "abc"]
    assert rates == pytest.approx([yy.mean()] * 3)  # the weighted label rate no longer depends on the group
    assert ww.sum() == pytest.approx(len(yy))


def _proxy_world(seed=0, n=6000):
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b"], n)
    y = rng.binomial(1, np.where(g == "a", 0.35, 0.1))
    proxy = (g == "a") + rng.normal(0, 0.7, n)  # carries the group, and through it the base rate
    signal = y + rng.normal(0, 1.0, n)
    return pd.DataFrame({"proxy": proxy, "signal": signal}), y, g


def test_reweighing_shrinks_the_gap_without_the_attribute_at_decision_time():
    from sklearn.linear_model import LogisticRegression

    X, y, g = _proxy_world()
    plain = LogisticRegression().fit(X, y)
    fair = LogisticRegression().fit(X, y, sample_weight=fairness.reweighing_weights(y, g))
    thr = 0.25
    before = fairness.parity_summary(y, plain.predict_proba(X)[:, 1] >= thr, g)
    after = fairness.parity_summary(y, fair.predict_proba(X)[:, 1] >= thr, g)
    assert after["demographic_parity_difference"] < 0.6 * before["demographic_parity_difference"]
    assert abs(fair.coef_[0][0]) < abs(plain.coef_[0][0])  # it leans less on the proxy


def test_threshold_optimizer_equalises_odds_and_compare_mitigations_table():
    from sklearn.linear_model import LogisticRegression

    X, y, g = _proxy_world(seed=1)
    Xt, yt, gt = _proxy_world(seed=2)
    model = LogisticRegression().fit(X, y)
    plain = (model.predict_proba(Xt)[:, 1] >= 0.25).astype(int)
    to = fairness.threshold_optimizer_flags(model, X, y, g, Xt, gt, seed=0)
    assert fairness.parity_summary(yt, to, gt)["equalized_odds_difference"] < \
        fairness.parity_summary(yt, plain, gt)["equalized_odds_difference"]

    def cost(y_true, flag):
        y_true, flag = np.asarray(y_true), np.asarray(flag)
        return (((flag == 1) & (y_true == 0)).sum() * 10 + ((flag == 0) & (y_true == 1)).sum() * 100) / len(y_true)

    table = fairness.compare_mitigations(yt, {"plain": plain, "threshold optimizer": to}, gt, cost=cost, favourable=0,
                                         attribute_at_decision={"threshold optimizer": True}, n_boot=50, seed=0)
    for name, flags in (("plain", plain), ("threshold optimizer", to)):
        row, s = table.loc[name], fairness.parity_summary(yt, flags, gt)
        assert row["dp_difference"] == pytest.approx(s["demographic_parity_difference"])
        assert row["eo_ratio"] == pytest.approx(s["equalized_odds_ratio"])
        assert row["fpr_difference"] == pytest.approx(s["false_positive_rate_difference"])
        assert row["fpr_difference_lower"] <= row["fpr_difference"] <= row["fpr_difference_upper"]
        assert row["cost_per_1k"] == pytest.approx(1000 * cost(yt, flags))
        flagged = fairness.four_fifths_screen(flags, gt, favourable=0).flagged
        assert row["four_fifths_flagged"] == (", ".join(flagged) or "none")
    assert table["attribute_at_decision"].tolist() == [False, True]
    with pytest.raises(FairnessInputError, match="no flags"):
        fairness.compare_mitigations(yt, {}, gt)
