"""Drift and alert rules: PSI against a hand computation, KS against scipy, the Evidently wrapper."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.monitoring.drift import MonitorInputError


def test_psi_matches_a_hand_computation_on_four_bins():
    # Reference 1..8, quartile edges at 2.75, 4.5, 6.25 -> each bin holds 2 of 8 values (E = .25 each).
    ref = np.arange(1, 9, dtype=float)
    cur = np.array([1, 1, 1, 1, 5, 6, 7, 8], dtype=float)  # 4 in bin 0, 0 in bin 1, 2 in bin 2, 2 in bin 3
    table = monitor.psi_table(ref, cur, bins=4)
    assert table["expected"].tolist() == [0.25] * 4
    assert table["actual"].tolist() == [0.5, 0.0, 0.25, 0.25]
    eps = monitor.PSI_EPSILON
    hand = (0.5 - 0.25) * math.log(0.5 / 0.25) + (eps - 0.25) * math.log(eps / 0.25)
    assert monitor.psi(ref, cur, bins=4) == pytest.approx(hand, rel=1e-12)
    assert monitor.psi(ref, cur, bins=4) == pytest.approx(table["psi_term"].sum())


def test_psi_is_zero_for_identical_samples_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20_000)
    assert monitor.psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    small = monitor.psi(ref, rng.normal(0.1, size=20_000))
    big = monitor.psi(ref, rng.normal(0.5, size=20_000))
    assert small < 0.1 < big  # a 0.5 sd shift is "moderate" or worse; 0.1 sd is "stable"
    assert monitor.psi_band(small) == "stable"
    assert monitor.psi_band(0.3) == "major" and monitor.psi_band(0.15) == "moderate"


def test_psi_with_decile_bins_matches_an_independent_numpy_histogram():
    rng = np.random.default_rng(1)
    ref, cur = rng.gamma(2.0, size=5000), rng.gamma(2.4, size=3000)
    edges = np.quantile(ref, np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    # numpy histogram bins are left-closed; continuous data has no ties at the edges, so counts agree.
    e = np.histogram(ref, edges)[0] / ref.size
    a = np.histogram(cur, edges)[0] / cur.size
    want = float(np.sum((a - e) * np.log(a / e)))
    assert monitor.psi(ref, cur) == pytest.approx(want, rel=1e-9)


def test_ks_matches_scipy():
    rng = np.random.default_rng(2)
    ref, cur = rng.normal(size=800), rng.normal(0.2, 1.1, size=600)
    res = stats.ks_2samp(ref, cur)
    d, p = monitor.ks(ref, cur)
    assert (d, p) == (pytest.approx(res.statistic), pytest.approx(res.pvalue))
    # D is the largest gap between the two empirical CDFs, checked directly:
    grid = np.sort(np.concatenate([ref, cur]))
    gap = np.abs(np.searchsorted(np.sort(ref), grid, side="right") / ref.size
                 - np.searchsorted(np.sort(cur), grid, side="right") / cur.size).max()
    assert d == pytest.approx(gap)


def test_bad_drift_input_is_refused_with_a_clear_message():
    with pytest.raises(MonitorInputError, match="empty"):
        monitor.psi([], [1.0])
    with pytest.raises(MonitorInputError, match="NaN"):
        monitor.ks([1.0, float("nan")], [1.0])
    with pytest.raises(MonitorInputError, match="bins"):
        monitor.psi([1.0, 2.0], [1.0], bins=1)
    with pytest.raises(MonitorInputError, match="not in both"):
        monitor.drift_table(pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}), ["a"])


def test_drift_table_flags_only_the_moved_feature():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"a": rng.normal(size=4000), "b": rng.normal(size=4000)})
    cur = pd.DataFrame({"a": rng.normal(0.6, size=4000), "b": rng.normal(size=4000)})
    table = monitor.drift_table(ref, cur, ["a", "b"])
    assert table.loc["a", "psi_band"] != "stable" and table.loc["b", "psi_band"] == "stable"
    assert table.loc["a", "ks_pvalue"] < 1e-6 < table.loc["b", "ks_pvalue"]


def test_volume_alert_band():
    hist = [1000, 1010, 990, 1005, 995]
    sd = np.std(hist, ddof=1)
    ok = monitor.volume_alert(hist, 1000)
    assert not ok.alert and ok.upper == pytest.approx(1000 + 3 * sd)
    low = monitor.volume_alert(hist, 500)
    assert low.alert and "below" in low.reason
    assert monitor.volume_alert(hist, 2000).alert
    with pytest.raises(MonitorInputError, match="at least 3"):
        monitor.volume_alert([1, 2], 3)


def test_evidently_wrapper_agrees_with_scipy_tests_and_writes_html(tmp_path):
    rng = np.random.default_rng(4)
    n = 500  # <= 1,000 reference rows: Evidently uses KS (numeric) and chi-square (categorical)
    ref = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n),
                        "c": rng.choice(list("abc"), n)})
    cur = pd.DataFrame({"x": rng.normal(0.5, size=n), "y": rng.normal(size=n),
                        "c": rng.choice(list("abc"), n, p=[0.6, 0.2, 0.2])})
    html = tmp_path / "drift.html"
    out = monitor.evidently_drift(ref, cur, numerical=["x", "y"], categorical=["c"], html_path=html)
    assert html.exists() and html.stat().st_size > 10_000
    cols = out["columns"]
    for col in ("x", "y"):
        assert "K-S" in cols[col]["stattest"]
        assert cols[col]["score"] == pytest.approx(stats.ks_2samp(ref[col], cur[col]).pvalue, rel=1e-6)
    assert cols["x"]["drifted"] and not cols["y"]["drifted"]
    ref_counts = ref.c.value_counts().reindex(list("abc")).to_numpy()
    cur_counts = cur.c.value_counts().reindex(list("abc")).to_numpy()
    chi = stats.chisquare(cur_counts, ref_counts / ref_counts.sum() * cur_counts.sum())
    assert "chi-square" in cols["c"]["stattest"] and cols["c"]["score"] == pytest.approx(chi.pvalue, rel=1e-6)
    assert cols["c"]["drifted"]
    assert out["share_drifted"] == pytest.approx(2 / 3)
    assert out["dataset_drift"] is True


def test_evidently_wrapper_on_large_reference_uses_distances():
    rng = np.random.default_rng(5)
    n = 3000  # > 1,000 rows: Wasserstein / std(ref) >= 0.1 for numeric columns
    ref = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    cur = pd.DataFrame({"x": rng.normal(0.5, size=n), "y": rng.normal(size=n)})
    out = monitor.evidently_drift(ref, cur, numerical=["x", "y"])
    want = stats.wasserstein_distance(ref.x, cur.x) / np.std(ref.x)
    assert "Wasserstein" in out["columns"]["x"]["stattest"]
    assert out["columns"]["x"]["score"] == pytest.approx(want, rel=1e-2)
    assert out["columns"]["x"]["drifted"] and not out["columns"]["y"]["drifted"]
    assert out["share_drifted"] == 0.5 and out["dataset_drift"] is True  # >= 50% of columns drift


def test_evidently_wrapper_refuses_bad_columns_before_importing_evidently():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(MonitorInputError, match="name the columns"):
        monitor.evidently_drift(df, df)
    with pytest.raises(MonitorInputError, match="lacks columns"):
        monitor.evidently_drift(df, df, numerical=["z"])


def test_drift_kind_names_the_four_cases():
    assert monitor.drift_kind(True, False).startswith("data drift, performance holds")
    assert monitor.drift_kind(False, True).startswith("concept drift")
    assert "performance drop" in monitor.drift_kind(True, True)
    assert monitor.drift_kind(False, False) == "stable"
    # a drop measured at the reference's mix of groups is concept drift even when the inputs moved too
    assert monitor.drift_kind(True, True, mix_adjusted=True).startswith("data drift and concept drift")
    assert monitor.drift_kind(False, True, mix_adjusted=True).startswith("concept drift")
    assert monitor.drift_kind(True, False, mix_adjusted=True).startswith("data drift, performance holds")


def test_categorical_psi_and_js_distance_match_hand_and_scipy_computations():
    from scipy.spatial.distance import jensenshannon

    ref = ["mobile"] * 50 + ["desktop"] * 35 + ["tv"] * 15
    cur = ["mobile"] * 60 + ["desktop"] * 25 + ["tv"] * 15
    hand = (0.6 - 0.5) * math.log(0.6 / 0.5) + (0.25 - 0.35) * math.log(0.25 / 0.35)  # tv: no change
    assert monitor.categorical_psi(ref, cur) == pytest.approx(hand, rel=1e-12)
    # category order (desktop, mobile, tv) as category_shares sorts them
    assert monitor.js_distance(ref, cur) == pytest.approx(jensenshannon([0.35, 0.5, 0.15], [0.25, 0.6, 0.15]))
    # a category seen on one side only: floored, finite
    assert math.isfinite(monitor.categorical_psi(ref, cur + ["smart watch"]))
    with pytest.raises(MonitorInputError, match="missing values"):
        monitor.categorical_psi(["a", None], ["a"])


def test_drift_table_with_categorical_columns_matches_scipy_chisquare():
    rng = np.random.default_rng(7)
    ref = pd.DataFrame({"x": rng.normal(size=3000), "c": rng.choice(list("abc"), 3000, p=[0.5, 0.3, 0.2])})
    cur = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(list("abc"), 2000, p=[0.6, 0.25, 0.15])})
    table = monitor.drift_table(ref, cur, ["x"], categorical=["c"])
    assert list(table.kind) == ["numeric", "categorical"]
    counts = cur.c.value_counts().reindex(list("abc")).to_numpy()
    expected = ref.c.value_counts(normalize=True).reindex(list("abc")).to_numpy() * len(cur)
    assert table.loc["c", "chi2_pvalue"] == pytest.approx(stats.chisquare(counts, expected).pvalue)
    assert table.loc["c", "psi"] == pytest.approx(monitor.categorical_psi(ref.c, cur.c))
    assert math.isnan(table.loc["c", "ks_d"]) and math.isnan(table.loc["x", "js_distance"])
    # without categorical columns the table keeps its numeric-only shape
    assert list(monitor.drift_table(ref, cur, ["x"]).columns) == ["psi", "psi_band", "ks_d", "ks_pvalue"]


def test_sturges_psi_reproduces_evidently_and_differs_from_the_decile_psi():
    rng = np.random.default_rng(8)
    ref, cur = rng.beta(2, 2, 5000), rng.beta(2.6, 2, 5000)
    ours = monitor.sturges_psi(ref, cur)
    assert ours == pytest.approx(monitor.evidently_psi(ref, cur), rel=1e-9)
    # by hand with numpy's Sturges edges over both samples (no bin is empty for these samples)
    edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
    e, a = np.histogram(ref, edges)[0] / ref.size, np.histogram(cur, edges)[0] / cur.size
    assert (e > 0).all() and (a > 0).all()
    assert ours == pytest.approx(float(np.sum((e - a) * np.log(e / a))))
    # a heavy-tailed feature: equal-width bins over the whole range put nearly every value in the first bin
    # (the rest are mostly empty and get Evidently's fill), so a shift of the bulk barely registers, while the
    # reference's deciles see it
    skewed_ref, skewed_cur = rng.lognormal(0, 1.5, 5000), rng.lognormal(0.4, 1.5, 5000)
    sturges = monitor.sturges_psi(skewed_ref, skewed_cur)
    assert sturges == pytest.approx(monitor.evidently_psi(skewed_ref, skewed_cur))
    assert sturges < 0.02 < 0.05 < monitor.psi(skewed_ref, skewed_cur)


def test_evidently_wrapper_on_a_categorical_column_with_a_large_reference():
    from scipy.spatial.distance import jensenshannon

    rng = np.random.default_rng(6)
    labels = ["Billing", "Technical Issue", "General Inquiry"]
    ref = pd.DataFrame({"pred": rng.choice(labels, 3000)})
    cur = pd.DataFrame({"pred": rng.choice(labels, 500, p=[0.6, 0.2, 0.2])})
    out = monitor.evidently_drift(ref, cur, categorical=["pred"])
    col = out["columns"]["pred"]
    p = ref.pred.value_counts(normalize=True).reindex(labels).to_numpy()
    q = cur.pred.value_counts(normalize=True).reindex(labels).to_numpy()
    assert "Jensen-Shannon" in col["stattest"] and col["drifted"] and out["dataset_drift"]
    assert col["score"] == pytest.approx(jensenshannon(p, q), rel=0.05)
