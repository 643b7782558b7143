"""Online experiments: sample size, duration, sample-ratio mismatch, two-proportion results, and peeking.

Why a module of its own: an A/B test is decided before it starts (how many users per arm, how long, what
counts as a win) and read with care after (first check the split, then the interval). Peeking at a
fixed-horizon test every day inflates false positives; an always-valid sequential test (mSPRT, Johari et al.
2017) keeps them at alpha however often you look. Normal quantiles come from `statistics.NormalDist`, so this
module needs no scipy; the tests check it against scipy.stats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Sequence

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError

_N = NormalDist()


class ExperimentError(LifecycleLabError, ValueError):
    """An experiment's inputs (rates, lifts, counts) are out of range or inconsistent."""


def _rate(name: str, p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1:
        raise ExperimentError(f"{name}={p!r} must be a proportion strictly between 0 and 1, e.g. 0.05 for 5%")
    return float(p)


def _z(q: float) -> float:
    return _N.inv_cdf(q)


def sample_size_per_arm(baseline: float, relative_lift: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Users per arm to detect baseline -> baseline x (1 + lift) with a two-sided two-proportion z-test.

    n = [z(1-a/2) sqrt(2 p(1-p)) + z(1-b) sqrt(p1(1-p1) + p2(1-p2))]^2 / (p2 - p1)^2, with p the mean of p1
    and p2, rounded up. Why: below this, a real lift of that size is missed more often than 1 - power.
    """
    p1 = _rate("baseline", baseline)
    if not isinstance(relative_lift, (int, float)) or relative_lift == 0:
        raise ExperimentError(f"relative_lift={relative_lift!r} must be a non-zero number, e.g. 0.05 for +5%")
    p2 = _rate("baseline x (1 + relative_lift)", p1 * (1 + relative_lift))
    _rate("alpha", alpha)
    _rate("power", power)
    p = (p1 + p2) / 2
    num = _z(1 - alpha / 2) * math.sqrt(2 * p * (1 - p)) + _z(power) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(num ** 2 / (p2 - p1) ** 2)


def power(baseline: float, relative_lift: float, n_per_arm: int, alpha: float = 0.05) -> float:
    """Power of the two-sided two-proportion z-test with n users per arm at a true lift (the inverse of
    `sample_size_per_arm`): Phi((|p2 - p1| sqrt(n) - z(1-a/2) sqrt(2 p(1-p))) / sqrt(p1(1-p1) + p2(1-p2))).

    Why: a test sized for one lift has another power at the lift that is really there; a result from an
    underpowered test (power well below 0.8) is as likely to miss a real effect as to find it.
    """
    p1 = _rate("baseline", baseline)
    if not isinstance(relative_lift, (int, float)) or relative_lift == 0:
        raise ExperimentError(f"relative_lift={relative_lift!r} must be a non-zero number")
    p2 = _rate("baseline x (1 + relative_lift)", p1 * (1 + relative_lift))
    if isinstance(n_per_arm, bool) or not isinstance(n_per_arm, (int, np.integer)) or n_per_arm < 1:
        raise ExperimentError(f"n_per_arm={n_per_arm!r} must be a positive whole number")
    _rate("alpha", alpha)
    p = (p1 + p2) / 2
    z = (abs(p2 - p1) * math.sqrt(n_per_arm) - _z(1 - alpha / 2) * math.sqrt(2 * p * (1 - p))) / \
        math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return _N.cdf(z)


def rule_of_thumb_per_arm(baseline: float, relative_lift: float) -> int:
    """Kohavi et al. (2009): n ~ 16 s^2 / d^2 per arm (alpha 0.05, power 0.8), s^2 = p(1-p), d = p x lift.

    Why: a number you can do in your head to sanity-check the exact formula (they agree within a few %).
    """
    p = _rate("baseline", baseline)
    if not isinstance(relative_lift, (int, float)) or relative_lift == 0:
        raise ExperimentError(f"relative_lift={relative_lift!r} must be a non-zero number")
    d = p * relative_lift
    return math.ceil(16 * p * (1 - p) / d ** 2)


def duration_days(n_per_arm: int, daily_users: float, traffic_share: float = 0.01) -> float:
    """Days until the challenger arm holding `traffic_share` of daily users reaches n: n / (share x daily)."""
    if n_per_arm <= 0 or daily_users <= 0:
        raise ExperimentError("n_per_arm and daily_users must be positive")
    if not 0 < traffic_share <= 1:
        raise ExperimentError(f"traffic_share={traffic_share!r} must be in (0, 1]")
    return n_per_arm / (traffic_share * daily_users)


@dataclass
class SRMResult:
    """Sample-ratio check: observed counts, expected counts, chi-square statistic, p-value, verdict."""

    observed: list[int]
    expected: list[float]
    chi2: float
    pvalue: float
    mismatch: bool


def srm_check(counts: Sequence[int], shares: Sequence[float] | None = None, threshold: float = 0.001) -> SRMResult:
    """Chi-square goodness-of-fit of assignment counts against the planned split.

    Why: when the arms' sizes differ from the plan by more than chance (p < 0.001 is the usual alarm), users
    were lost or moved unevenly (a redirect, a bot filter, a crash in one arm) and the results cannot be
    trusted, however good they look. Check this before reading any metric.
    """
    obs = np.asarray(counts, dtype=float)
    if obs.ndim != 1 or obs.size < 2 or np.any(obs < 0) or obs.sum() == 0:
        raise ExperimentError(f"counts={list(counts)!r}: give one non-negative count per arm (at least two arms)")
    if shares is None:
        sh = np.full(obs.size, 1 / obs.size)
    else:
        sh = np.asarray(shares, dtype=float)
        if sh.shape != obs.shape or np.any(sh <= 0) or not math.isclose(sh.sum(), 1.0, abs_tol=1e-9):
            raise ExperimentError(f"shares={list(shares)!r} must give one positive share per arm summing to 1")
    exp = sh * obs.sum()
    chi2 = float(np.sum((obs - exp) ** 2 / exp))
    df = obs.size - 1
    pvalue = _chi2_sf(chi2, df)
    return SRMResult([int(c) for c in obs], exp.tolist(), chi2, pvalue, pvalue < threshold)


def _chi2_sf(x: float, df: int) -> float:
    """Chi-square survival function (regularised upper incomplete gamma), without scipy."""
    if x <= 0:
        return 1.0
    if df == 1:
        return math.erfc(math.sqrt(x / 2))
    if df == 2:
        return math.exp(-x / 2)
    from scipy.stats import chi2 as _chi2  # only for three or more arms

    return float(_chi2.sf(x, df))


@dataclass
class TwoProportionResult:
    """A/B result for a rate: both rates, absolute and relative difference with intervals, p-value."""

    n_a: int
    n_b: int
    rate_a: float
    rate_b: float
    diff: float
    diff_ci: tuple[float, float]
    relative_lift: float
    relative_ci: tuple[float, float]
    pvalue: float


def two_proportion_test(successes_a: int, n_a: int, successes_b: int, n_b: int, level: float = 0.95
                        ) -> TwoProportionResult:
    """Difference of two rates (B - A) with a Wald interval, the relative lift with a delta-method interval,
    and the pooled two-sided z-test p-value.

    Why: "B's CTR is 5.4% vs 5.0%" says nothing until the interval says whether +8% could be +0% or +16%.
    """
    for name, s, n in (("a", successes_a, n_a), ("b", successes_b, n_b)):
        if n <= 0 or not 0 <= s <= n:
            raise ExperimentError(f"arm {name}: need 0 <= successes <= n and n > 0, got {s} of {n}")
    pa, pb = successes_a / n_a, successes_b / n_b
    if pa == 0:
        raise ExperimentError("arm a has no successes: the relative lift is undefined")
    z = _z(1 - (1 - level) / 2)
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    diff = pb - pa
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    pvalue = 2 * (1 - _N.cdf(abs(diff) / se0)) if se0 > 0 else 1.0
    rel = pb / pa - 1
    # delta method on the ratio pb/pa: var(r) ~ r^2 (var_b / pb^2 + var_a / pa^2)
    ratio = pb / pa
    se_rel = ratio * math.sqrt((1 - pb) / (n_b * pb) + (1 - pa) / (n_a * pa)) if pb > 0 else se / pa
    return TwoProportionResult(n_a, n_b, pa, pb, diff, (diff - z * se, diff + z * se), rel,
                               (rel - z * se_rel, rel + z * se_rel), pvalue)


def mean_difference(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> dict:
    """Mean of B minus mean of A, relative change and a Welch normal interval (for session duration).

    Why: continuous business metrics get the same treatment as rates: a point estimate is not a result.
    """
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.size < 2 or xb.size < 2:
        raise ExperimentError("need at least two values per arm")
    ma, mb = xa.mean(), xb.mean()
    se = math.sqrt(xa.var(ddof=1) / xa.size + xb.var(ddof=1) / xb.size)
    z = _z(1 - (1 - level) / 2)
    d = mb - ma
    return {"mean_a": float(ma), "mean_b": float(mb), "diff": float(d), "diff_ci": (d - z * se, d + z * se),
            "relative": float(d / ma), "relative_ci": ((d - z * se) / ma, (d + z * se) / ma)}


def msprt_lambda(diff: np.ndarray, var: np.ndarray, tau2: float) -> np.ndarray:
    """Mixture likelihood ratio of the always-valid test (normal mixture, theta ~ N(0, tau2)).

    Lambda = sqrt(V / (V + tau2)) exp(diff^2 tau2 / (2 V (V + tau2))), V the variance of `diff`.
    Rejecting when Lambda >= 1/alpha keeps the false-positive rate <= alpha at any stopping time.
    """
    v = np.asarray(var, dtype=float)
    d = np.asarray(diff, dtype=float)
    return np.sqrt(v / (v + tau2)) * np.exp(d ** 2 * tau2 / (2 * v * (v + tau2)))


def peeking_simulation(baseline: float, n_per_arm: int, looks: int = 20, n_sims: int = 2000,
                       alpha: float = 0.05, lift: float = 0.0, tau: float | None = None, seed: int = 0) -> dict:
    """Simulate A/A (lift=0) or A/B tests read `looks` times; return how often each rule declares a winner.

    Rules: "fixed" reads once at the end (z-test); "peeking" stops at the first look with p < alpha;
    "always_valid" stops at the first look where the mSPRT ratio reaches 1/alpha. With lift=0 these are
    false-positive rates: peeking inflates it well above alpha, the always-valid test stays at or below it.
    `tau` is the mixture's spread on the absolute difference (default: 10% of the baseline).
    """
    p = _rate("baseline", baseline)
    pb = _rate("baseline x (1 + lift)", p * (1 + lift))
    if looks < 1 or n_per_arm < looks or n_sims < 1:
        raise ExperimentError("need looks >= 1, n_per_arm >= looks and n_sims >= 1")
    rng = np.random.default_rng(seed)
    step = n_per_arm // looks
    sizes = step * np.arange(1, looks + 1)
    ca = np.cumsum(rng.binomial(step, p, size=(n_sims, looks)), axis=1)
    cb = np.cumsum(rng.binomial(step, pb, size=(n_sims, looks)), axis=1)
    ra, rb = ca / sizes, cb / sizes
    pooled = (ca + cb) / (2 * sizes)
    se0 = np.sqrt(np.maximum(pooled * (1 - pooled) * 2 / sizes, 1e-18))
    z = np.abs(rb - ra) / se0
    crit = _z(1 - alpha / 2)
    sig = z > crit
    var = np.maximum((ra * (1 - ra) + rb * (1 - rb)) / sizes, 1e-18)
    t2 = (tau if tau is not None else 0.1 * p) ** 2
    av = msprt_lambda(rb - ra, var, t2) >= 1 / alpha
    return {"fixed": float(sig[:, -1].mean()), "peeking": float(sig.any(axis=1).mean()),
            "always_valid": float(av.any(axis=1).mean()), "looks": looks, "n_sims": n_sims,
            "n_per_arm": int(sizes[-1]), "alpha": alpha, "lift": lift}


def promote(result: TwoProportionResult) -> bool:
    """Champion/challenger rule: promote only if the pre-chosen metric's interval lies above zero."""
    return result.diff_ci[0] > 0
