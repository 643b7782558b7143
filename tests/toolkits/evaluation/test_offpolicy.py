"""Off-policy estimates and exposure measures against independent computations."""

import numpy as np
import pytest

from lifecycle_lab.evaluation.offpolicy import OffPolicyInputError, coverage, gini, ips, snips


def test_ips_is_unbiased_for_a_known_logging_policy():
    # logging: uniform over 4 actions; target: always action 2; reward prob per action known
    rng = np.random.default_rng(0)
    p_reward = np.array([0.1, 0.2, 0.6, 0.3])
    a = rng.integers(0, 4, 200_000)
    r = rng.random(a.size) < p_reward[a]
    pi = (a == 2).astype(float)
    mu = np.full(a.size, 0.25)
    assert ips(r, pi, mu) == pytest.approx(0.6, abs=0.01)
    assert snips(r, pi, mu) == pytest.approx(0.6, abs=0.01)
    assert r.mean() == pytest.approx(p_reward.mean(), abs=0.01)  # the naive logged rate is the logger's value


def test_ips_refuses_a_logger_that_never_explores():
    with pytest.raises(OffPolicyInputError, match="explore"):
        ips([1, 0], [1.0, 1.0], [1.0, 0.0])


def test_gini_matches_the_mean_absolute_difference_formula():
    rng = np.random.default_rng(1)
    x = rng.exponential(1.0, 50)
    mad = np.abs(x[:, None] - x[None, :]).mean()
    assert gini(x) == pytest.approx(mad / (2 * x.mean()), rel=1e-9)
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini([0, 0, 0, 5]) == pytest.approx(0.75)  # (n - 1) / n when one item has everything
    assert coverage([0, 1, 0, 3]) == 0.5
