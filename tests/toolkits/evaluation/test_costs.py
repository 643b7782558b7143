"""The cost of decisions (evaluation.costs): the cost matrix with review costs, its optimal threshold p*, the
expected cost of a set of decisions and the threshold sweep, each against an independent oracle (a root
finder, scikit-learn's confusion matrix, a brute-force count)."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle_lab.evaluation import costs as ec
from lifecycle_lab.evaluation.costs import CostError


def test_costs_validate_and_p_star_matches_root_finding():
    from scipy.optimize import brentq

    with pytest.raises(CostError, match="negative"):
        ec.Costs(fp=-1, fn=10)
    with pytest.raises(CostError, match="both 0"):
        ec.Costs(fp=0, fn=0)
    with pytest.raises(CostError, match="finite"):
        ec.Costs(fp=float("nan"), fn=1)
    for fp, fn, review in [(10, 250, 3), (300, 3000, 40), (1, 1, 0), (5, 100, 0)]:
        c = ec.Costs(fp, fn, review)
        root = brentq(lambda p: review + (1 - p) * fp - p * fn, 0, 1)
        assert c.p_star == pytest.approx(root, abs=1e-10)
        assert c.elkan_threshold == pytest.approx(fp / (fp + fn))
    assert ec.Costs(fp=1, fn=10, review=50).p_star == 1.0  # reviews dearer than the loss: never flag
    # 2 false positives, 1 false negative, 5 reviews at EUR 10 / 250 / 3; counts may be arrays
    assert ec.Costs(fp=10, fn=250, review=3).total(2, 1, 5) == 2 * 10 + 250 + 5 * 3
    assert ec.Costs(fp=10, fn=250, review=3).total(np.array([0, 2]), np.array([1, 0]), np.array([0, 4])).tolist() == [
        250, 32]


def test_expected_cost_against_sklearn_confusion_matrix():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    c = ec.Costs(fp=7, fn=90, review=2)
    got = ec.expected_cost(y, pred, c)
    tn, fp, fn, tp = confusion_matrix(y, pred).ravel()
    assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (tp, fp, fn, tn)
    assert got["cost"] == pytest.approx(fp * 7 + fn * 90 + (tp + fp) * 2)
    with pytest.raises(CostError, match="empty"):
        ec.expected_cost([], [], c)


def test_sweep_matches_brute_force_and_finds_p_star_on_calibrated_scores():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 12, 200_000)
    y = (rng.random(len(p)) < p).astype(int)  # calibrated by construction
    c = ec.Costs(fp=10, fn=250, review=3)
    sweep = ec.threshold_sweep(y, p, c)
    for thr in (0.02, 0.05, 0.2):
        row = sweep.loc[np.isclose(sweep.threshold, thr)].iloc[0]
        assert row.cost_per_decision == pytest.approx(ec.expected_cost(y, p >= thr, c)["cost_per_decision"])
    assert ec.best_threshold(sweep) == pytest.approx(c.p_star, abs=0.0101)
