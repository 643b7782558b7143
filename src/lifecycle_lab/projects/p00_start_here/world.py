"""The orientation notebook's small world: is a support ticket urgent? Scores from a real model.

Small and fast on purpose: the warm-up teaches metrics, not modelling, but the scores come from a real
logistic regression on held-out data so the trade-offs look like the ones learners will meet later.
"""

from __future__ import annotations


def urgent_ticket_scores(n: int = 2000, seed: int = 42, urgent_share: float = 0.2):
    """A DataFrame of held-out tickets with `urgent` (0/1, the truth) and `score` (model probability).

    Half of the n generated tickets train the model, the other half are returned for evaluation.
    """
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    if n < 100:
        raise ValueError(f"n={n} is too small for a meaningful warm-up: use at least 100 tickets")
    if not 0.02 <= urgent_share <= 0.5:
        raise ValueError(f"urgent_share={urgent_share} must be between 0.02 and 0.5")
    X, y = make_classification(n_samples=n, n_features=8, n_informative=4, n_redundant=2,
                               weights=[1 - urgent_share], n_clusters_per_class=1, flip_y=0.05, class_sep=1.2,
                               random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, stratify=y, random_state=seed)
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    score = model.predict_proba(X_test)[:, 1]
    return pd.DataFrame({"urgent": y_test.astype(int), "score": np.round(score, 6)})
