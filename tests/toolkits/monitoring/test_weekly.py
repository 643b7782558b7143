"""Weekly monitoring: PSI/KS per week against scipy and drift.psi, performance with late labels against
sklearn, the alert rule's windows, minimum sample and label delay, and the false-alarm rate."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import precision_score, recall_score

from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.monitoring import weekly
from lifecycle_lab.monitoring.drift import MonitorInputError


def _log(seed=0, weeks=6, n=1500, step_week=3):
    rng = np.random.default_rng(seed)
    frames = []
    for w in range(weeks):
        x = rng.normal(0, 1, n) * (60 if w >= step_week else 1)  # a unit change from step_week on
        frames.append(pd.DataFrame({"week": w, "x": x, "z": rng.normal(0, 1, n),
                                    "c": rng.choice(["a", "b"], n, p=[0.7, 0.3])}))
    return pd.concat(frames, ignore_index=True)


def test_psi_profile_gives_the_same_number_as_psi():
    rng = np.random.default_rng(1)
    ref, cur = rng.gamma(2, 1, 5000), rng.gamma(2.3, 1, 800)
    assert monitor.psi_from_profile(monitor.psi_profile(ref), cur) == pytest.approx(monitor.psi(ref, cur), rel=1e-12)
    assert monitor.psi_from_profile(monitor.psi_profile(ref, 5), cur) == pytest.approx(monitor.psi(ref, cur, 5),
                                                                                      rel=1e-12)


def test_weekly_drift_matches_the_oracles_and_the_step_shows_the_unit_change():
    ref = _log(seed=9, weeks=1)
    log = _log()
    table = weekly.weekly_drift(ref, log, ["x", "z"], ["c"])
    assert len(table) == 6 * 3
    row = table[(table.week == 4) & (table.feature == "x")].iloc[0]
    cur = log[log.week == 4]["x"]
    assert row.psi == pytest.approx(monitor.psi(ref["x"], cur))
    assert row.ks_pvalue == pytest.approx(stats.ks_2samp(ref["x"], cur).pvalue)
    x_steps = table[table.feature == "x"].set_index("week")["step_psi"]
    assert math.isnan(x_steps[0]) and x_steps[3] > 1 and x_steps.drop([0, 3]).max() < 0.05
    c = table[(table.week == 2) & (table.feature == "c")].iloc[0]
    assert c.psi == pytest.approx(monitor.categorical_psi(ref["c"], log[log.week == 2]["c"]))
    with pytest.raises(MonitorInputError, match="missing"):
        weekly.weekly_drift(ref, log, ["nope"])


def test_ks_significance_grows_with_the_sample_while_the_shift_stays_the_same():
    demo = weekly.ks_large_sample_demo(shift=0.03, sizes=(200, 200_000), seed=0)
    assert demo.ks_pvalue.iloc[0] > 0.05 and demo.ks_pvalue.iloc[1] < 1e-6
    assert demo.psi.iloc[1] < 0.01  # harmless by the PSI


def test_weekly_performance_uses_only_the_labels_known_by_then():
    rng = np.random.default_rng(3)
    n = 4000
    log = pd.DataFrame({"week": np.repeat([0, 1], n // 2), "score": rng.random(n), "churned": rng.integers(0, 2, n)})
    log["label_week"] = log["week"] + 5
    log.loc[rng.random(n) < 0.3, "label_week"] += 10  # some labels come later still
    perf = weekly.weekly_performance(log, as_of=5, threshold=0.6)
    w0 = log[(log.week == 0) & (log.label_week <= 5)]
    assert perf.loc[0, "labelled"] == len(w0)
    assert perf.loc[0, "precision"] == pytest.approx(precision_score(w0.churned, w0.score >= 0.6))
    assert perf.loc[0, "recall"] == pytest.approx(recall_score(w0.churned, w0.score >= 0.6))
    assert perf.loc[1, "labelled"] == 0 and math.isnan(perf.loc[1, "precision"])


def _perf(precisions, flagged=500):
    return pd.DataFrame({"week": range(len(precisions)), "labelled": 2000, "flagged_labelled": flagged,
                         "true_positives": [round(p * flagged) for p in precisions],
                         "positives": 260, "precision": precisions})


def _drift(psis):
    return pd.DataFrame({"week": range(len(psis)), "feature": "x", "psi": psis})


def test_the_alert_rule_needs_consecutive_windows_a_minimum_sample_and_waits_for_labels():
    rule = weekly.AlertRule(window=1, consecutive=2, min_labels=100, base_rate_change=None)
    psis = [0.01, 0.2, 0.01, 0.2, 0.3, 0.02, 0.01, 0.01, 0.01, 0.01]
    precs = [0.3, 0.3, 0.3, 0.25, 0.25, 0.3, 0.3, 0.3, 0.3, 0.3]
    t = weekly.alert_timeline(_drift(psis), _perf(precs), rule, baseline_precision=0.3, label_delay=2)
    assert t.psi_alert.tolist() == [False, False, False, False, True] + [False] * 5  # one breach is not enough
    assert np.flatnonzero(t.perf_alert).tolist() == [6]  # scored weeks 3-4 are known at calendar weeks 5-6
    small = weekly.alert_timeline(_drift(psis), _perf(precs, flagged=50), rule, baseline_precision=0.3,
                                  label_delay=2)
    assert not small.perf_alert.any()  # too few labels to page anyone
    sent = weekly.new_alerts(t)
    assert sent[["week", "signal"]].values.tolist() == [[4, "drift"], [6, "performance"]]
    assert weekly.false_alarm_rate(t, quiet_weeks=[0, 1, 2, 7, 8, 9]) == 0.0
    assert weekly.false_alarm_rate(t, quiet_weeks=[4, 5]) == 0.5


def test_the_pooled_window_smooths_precision():
    rule = weekly.AlertRule(window=3, consecutive=1, min_labels=100, base_rate_change=None)
    t = weekly.alert_timeline(_drift([0.0] * 4), _perf([0.3, 0.3, 0.24, 0.3]), rule, baseline_precision=0.3,
                              label_delay=0)
    assert t.precision_known.iloc[2] == pytest.approx((150 + 150 + 120) / 1500)
    assert not t.perf_alert.any()  # one bad week in three is not a 10% drop of the pool


@pytest.mark.parametrize("bad", [dict(psi_limit=0), dict(precision_drop=1.5), dict(min_labels=0),
                                 dict(consecutive=1.5), dict(base_rate_change=-1), dict(window=0)])
def test_bad_rules_are_refused(bad):
    with pytest.raises(MonitorInputError, match=list(bad)[0]):
        weekly.AlertRule(**bad)
