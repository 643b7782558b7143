"""The change test behind the diagnosis: the offset logistic fit against statsmodels, and the two
likelihood-ratio tests on data whose change is known."""

import numpy as np
import pytest
import statsmodels.api as sm

from lifecycle_lab.monitoring import diagnosis as dx
from lifecycle_lab.monitoring.drift import MonitorInputError


def _data(seed, n=6000, intercept_after=0.0, slope_after=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 1, (n, 3))
    after = np.arange(n) >= n // 2
    offset = 0.8 * X[:, 0] - 1.5  # the deployed model's logit: right before the onset
    eta = offset + after * (intercept_after + slope_after * X[:, 0])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y, offset, after


def test_offset_logistic_matches_statsmodels():
    X, y, offset, _ = _data(0)
    ours = dx.fit_logistic(X, y, offset)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), offset=offset).fit()
    assert np.allclose(ours["coef"], ref.params, atol=1e-5)
    assert ours["loglik"] == pytest.approx(ref.llf, rel=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_change_test_tells_label_shift_from_concept_drift(seed):
    stable = dx.change_test(*_data(seed))
    assert stable["label_shift_p"] > 0.001 and stable["concept_p"] > 0.001
    shift = dx.change_test(*_data(seed, intercept_after=0.6))
    assert shift["label_shift_p"] < 1e-6 and shift["concept_p"] > 0.001
    assert shift["intercept_change"] == pytest.approx(0.6, abs=0.2)
    concept = dx.change_test(*_data(seed, slope_after=-0.5))
    assert concept["concept_p"] < 1e-6


def test_bad_inputs_are_refused():
    X, y, offset, after = _data(0, n=100)
    with pytest.raises(MonitorInputError, match="after"):
        dx.change_test(X, y, offset, np.ones(100, bool))
    with pytest.raises(MonitorInputError, match="offset"):
        dx.fit_logistic(X, y, offset[:5])
