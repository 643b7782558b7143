"""Ranking metrics against hand-worked lists and scikit-learn's ndcg_score."""

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from lifecycle_lab.evaluation import ranking
from lifecycle_lab.evaluation.ranking import RankingInputError


def test_metrics_on_a_hand_worked_list():
    rel = np.array([[1, 0, 0, 1, 0]])      # items 0 and 3 are relevant
    ranked = np.array([[3, 1, 0, 2, 4]])
    assert ranking.precision_at_k(ranked, rel, 2)[0] == 0.5
    assert ranking.recall_at_k(ranked, rel, 3)[0] == 1.0
    assert ranking.hit_rate_at_k(ranked, rel, 1)[0] == 1.0
    # DCG@3 = 1/log2(2) + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3)
    assert ranking.ndcg_at_k(ranked, rel, 3)[0] == pytest.approx(1.5 / (1 + 1 / np.log2(3)))


def test_ndcg_matches_scikit_learn_with_graded_relevance():
    rng = np.random.default_rng(0)
    rel = rng.integers(0, 4, size=(50, 30)).astype(float)
    scores = rng.normal(size=(50, 30))
    ranked = ranking.top_k(scores, 10)
    want = [ndcg_score(rel[i:i + 1], scores[i:i + 1], k=10) for i in range(50)]
    assert ranking.ndcg_at_k(ranked, rel, 10) == pytest.approx(np.array(want))


def test_top_k_orders_best_first():
    s = np.array([[0.1, 0.9, 0.5, 0.7]])
    assert ranking.top_k(s, 3).tolist() == [[1, 3, 2]]


def test_bootstrap_interval_contains_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(1)
    small = ranking.bootstrap_mean_ci(rng.binomial(1, 0.3, 200))
    large = ranking.bootstrap_mean_ci(rng.binomial(1, 0.3, 20_000))
    assert small[1] < small[0] < small[2] and large[1] < large[0] < large[2]
    assert (large[2] - large[1]) < (small[2] - small[1]) / 5
    # matches the normal interval for a proportion: +-1.96 sqrt(p(1-p)/n)
    assert (large[2] - large[1]) / 2 == pytest.approx(1.96 * np.sqrt(0.3 * 0.7 / 20_000), rel=0.1)


def test_paired_lift_is_tighter_than_unpaired_and_centred():
    rng = np.random.default_rng(2)
    base = rng.gamma(1.0, 1.0, 5000)
    a, b = base, base * 1.1 + rng.normal(0, 0.05, 5000)
    out = ranking.paired_lift_ci(a, b)
    assert out["lower"] < out["lift"] < out["upper"] and out["lift"] == pytest.approx(0.1, abs=0.01)
    assert out["upper"] - out["lower"] < 0.02


def test_bad_input_is_refused():
    with pytest.raises(RankingInputError, match="k=11"):
        ranking.precision_at_k(np.zeros((2, 10), int), np.zeros((2, 20)), 11)
    with pytest.raises(RankingInputError, match="same"):
        ranking.ndcg_at_k(np.zeros((2, 3), int), np.zeros((3, 5)), 2)
