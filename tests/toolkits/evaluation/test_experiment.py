"""Experiment design: sample sizes (worked values of the brief), SRM, intervals, peeking; oracle scipy.stats."""

import math

import numpy as np
import pytest
from scipy import stats

from lifecycle_lab.evaluation import experiment as ex
from lifecycle_lab.evaluation.experiment import ExperimentError


def _scipy_n(p1, lift, alpha=0.05, power=0.8):
    p2 = p1 * (1 + lift)
    p = (p1 + p2) / 2
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    return math.ceil((za * math.sqrt(2 * p * (1 - p)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
                     / (p2 - p1) ** 2)


@pytest.mark.parametrize("p,lift,approx", [(0.05, 0.05, 122_000), (0.05, 0.15, 14_200), (0.02, 0.05, 315_000)])
def test_worked_sample_sizes_of_the_brief(p, lift, approx):
    n = ex.sample_size_per_arm(p, lift)
    assert n == _scipy_n(p, lift)
    assert n == pytest.approx(approx, rel=0.005)
    # the 16 s^2 / d^2 rule agrees with the exact formula within 5%
    assert ex.rule_of_thumb_per_arm(p, lift) == pytest.approx(n, rel=0.05)


def test_sample_size_has_the_planned_power_by_simulation():
    n = ex.sample_size_per_arm(0.05, 0.15)
    rng = np.random.default_rng(0)
    a = rng.binomial(n, 0.05, 4000) / n
    b = rng.binomial(n, 0.0575, 4000) / n
    pooled = (a + b) / 2
    z = (b - a) / np.sqrt(pooled * (1 - pooled) * 2 / n)
    assert (np.abs(z) > 1.96).mean() == pytest.approx(0.8, abs=0.03)


def test_sample_size_refuses_impossible_inputs():
    with pytest.raises(ExperimentError, match="strictly between 0 and 1"):
        ex.sample_size_per_arm(5, 0.1)
    with pytest.raises(ExperimentError, match="non-zero"):
        ex.sample_size_per_arm(0.05, 0)
    with pytest.raises(ExperimentError, match="between 0 and 1"):
        ex.sample_size_per_arm(0.6, 1.0)  # 120% CTR


def test_duration_at_a_one_percent_canary():
    assert ex.duration_days(122_000, 1_000_000, 0.01) == pytest.approx(12.2)


def test_srm_matches_scipy_chisquare():
    res = ex.srm_check([50_500, 49_500])
    want = stats.chisquare([50_500, 49_500])
    assert res.chi2 == pytest.approx(want.statistic) and res.pvalue == pytest.approx(want.pvalue)
    assert not res.mismatch  # chi2 = 10, p = 0.0016: suspicious but above the usual 0.001 alarm
    assert ex.srm_check([50_800, 49_200]).mismatch  # chi2 = 25.6
    three = ex.srm_check([1000, 1100, 950], [0.3, 0.4, 0.3])
    want3 = stats.chisquare([1000, 1100, 950], np.array([0.3, 0.4, 0.3]) * 3050)
    assert three.pvalue == pytest.approx(want3.pvalue)
    assert not ex.srm_check([10_020, 9_980]).mismatch
    with pytest.raises(ExperimentError, match="sum"):
        ex.srm_check([1, 2], [0.5, 0.6])


def test_two_proportion_result_matches_scipy_normal_formulas():
    r = ex.two_proportion_test(500, 10_000, 560, 10_000)
    pa, pb = 0.05, 0.056
    se = math.sqrt(pa * (1 - pa) / 1e4 + pb * (1 - pb) / 1e4)
    assert r.diff == pytest.approx(0.006)
    assert r.diff_ci == (pytest.approx(0.006 - stats.norm.ppf(0.975) * se),
                         pytest.approx(0.006 + stats.norm.ppf(0.975) * se))
    pooled = 0.053
    z = 0.006 / math.sqrt(pooled * (1 - pooled) * 2 / 1e4)
    assert r.pvalue == pytest.approx(2 * stats.norm.sf(z))
    assert r.relative_lift == pytest.approx(0.12)
    assert r.relative_ci[0] < 0.12 < r.relative_ci[1]
    assert not ex.promote(r)  # the interval includes zero
    assert ex.promote(ex.two_proportion_test(5000, 100_000, 5600, 100_000))


def test_relative_interval_covers_the_true_lift_about_95_percent():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(1000):
        a, b = rng.binomial(20_000, 0.05), rng.binomial(20_000, 0.055)
        lo, hi = ex.two_proportion_test(a, 20_000, b, 20_000).relative_ci
        hits += lo <= 0.1 <= hi
    assert hits / 1000 == pytest.approx(0.95, abs=0.025)


def test_mean_difference_interval_matches_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.exponential(10, 3000), rng.exponential(10.5, 3000)
    out = ex.mean_difference(a, b)
    se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    lo, hi = stats.norm.interval(0.95, loc=b.mean() - a.mean(), scale=se)
    assert out["diff_ci"] == (pytest.approx(lo), pytest.approx(hi))


def test_peeking_inflates_false_positives_and_the_always_valid_test_does_not():
    sim = ex.peeking_simulation(0.05, 20_000, looks=20, n_sims=3000, seed=3)
    assert sim["fixed"] == pytest.approx(0.05, abs=0.015)
    assert sim["peeking"] > 0.15           # about 4-5 x alpha with 20 looks
    assert sim["always_valid"] <= 0.05     # guaranteed <= alpha at any stopping time
    real = ex.peeking_simulation(0.05, 60_000, looks=20, n_sims=1000, lift=0.15, seed=4)
    assert real["always_valid"] > 0.5      # and it still finds a real lift


def test_msprt_ratio_is_below_one_at_zero_difference_and_grows_with_it():
    assert ex.msprt_lambda(np.array([0.0]), np.array([1e-4]), 1e-4)[0] == pytest.approx(math.sqrt(0.5))
    small, big = ex.msprt_lambda(np.array([0.001, 0.01]), np.array([1e-5, 1e-5]), 2.5e-5)
    assert big > small


def test_power_is_the_inverse_of_the_sample_size_and_matches_a_simulation():
    n = ex.sample_size_per_arm(0.04, 0.06)
    assert ex.power(0.04, 0.06, n) == pytest.approx(0.8, abs=0.002)
    assert ex.power(0.04, 0.09, n) > ex.power(0.04, 0.06, n) > ex.power(0.04, 0.03, n)
    # simulated two-sided z-tests at a true +9% with the 6% plan's n
    rng = np.random.default_rng(5)
    a = rng.binomial(n, 0.04, 4000) / n
    b = rng.binomial(n, 0.04 * 1.09, 4000) / n
    pooled = (a + b) / 2
    z = (b - a) / np.sqrt(pooled * (1 - pooled) * 2 / n)
    assert (np.abs(z) > stats.norm.ppf(0.975)).mean() == pytest.approx(ex.power(0.04, 0.09, n), abs=0.02)
    with pytest.raises(ExperimentError, match="n_per_arm"):
        ex.power(0.04, 0.06, 0)
