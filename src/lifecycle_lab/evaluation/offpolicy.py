"""Off-policy evaluation and exposure measures for recommenders: IPS and self-normalised IPS, the Gini
coefficient of exposure, catalogue coverage.

Why: a recommender's logs only contain what it chose to show, so "the logged CTR" of a new policy is not its
value. Inverse propensity scoring re-weights each logged reward by how much more (or less) likely the new
policy was to take the logged action than the logging policy was:

    V_IPS  = (1/n) sum_i r_i pi(a_i|x_i) / mu(a_i|x_i)
    V_SNIPS = sum_i r_i w_i / sum_i w_i,   w_i = pi(a_i|x_i) / mu(a_i|x_i)

(Li, Chu, Langford and Wang, WSDM 2011). It is unbiased when mu > 0 wherever pi > 0: a policy that never
explores leaves nothing to re-weight. Exposure concentration: Gini of impressions per item (0 = equal, 1 =
one item gets everything); coverage = share of the catalogue shown at least once.
"""

from __future__ import annotations

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError


class OffPolicyInputError(LifecycleLabError, ValueError):
    """Off-policy inputs are inconsistent (lengths differ, a propensity is zero where the target acts)."""


def _weights(rewards, target_prob, logging_prob):
    r = np.asarray(rewards, dtype=float)
    pi = np.asarray(target_prob, dtype=float)
    mu = np.asarray(logging_prob, dtype=float)
    if not r.shape == pi.shape == mu.shape or r.ndim != 1 or r.size == 0:
        raise OffPolicyInputError(f"rewards, target_prob and logging_prob must be 1-d of one length; got "
                                  f"{r.shape}, {pi.shape}, {mu.shape}")
    if np.any((mu <= 0) & (pi > 0)):
        raise OffPolicyInputError("a logged action has logging_prob 0 where the target policy acts: IPS needs "
                                  "the logging policy to explore (give every action a propensity > 0)")
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(pi > 0, pi / np.where(mu > 0, mu, 1.0), 0.0)
    return r, w


def ips(rewards, target_prob, logging_prob) -> float:
    """The inverse-propensity estimate of the target policy's mean reward from logged (reward, mu) pairs."""
    r, w = _weights(rewards, target_prob, logging_prob)
    return float(np.mean(r * w))


def snips(rewards, target_prob, logging_prob) -> float:
    """Self-normalised IPS: lower variance, slightly biased; NaN when no logged action matches the target."""
    r, w = _weights(rewards, target_prob, logging_prob)
    return float(np.sum(r * w) / np.sum(w)) if np.sum(w) > 0 else float("nan")


def gini(counts) -> float:
    """Gini coefficient of non-negative counts (impressions per item): 0 all equal, (n-1)/n one item has all."""
    x = np.sort(np.asarray(counts, dtype=float).ravel())
    if x.size == 0 or np.any(x < 0):
        raise OffPolicyInputError("gini needs at least one non-negative count")
    total = x.sum()
    if total == 0:
        return 0.0
    n = x.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * total))


def coverage(counts) -> float:
    """Share of items with at least one impression."""
    x = np.asarray(counts, dtype=float).ravel()
    if x.size == 0:
        raise OffPolicyInputError("coverage needs at least one item")
    return float(np.mean(x > 0))
