"""The churn model: a scaled logistic regression on the world's inputs, trained on labelled weeks.

Why this model: it is what a churn team ships first, it trains in well under a second on a year of weeks
(so a retraining policy can retrain 52 times in a test), and it is well specified for the world's hidden
model, so a change of P(X) alone leaves it calibrated and a drop in quality means something moved.
The decision: flag a customer for a retention offer when the churn score reaches `THRESHOLD`, the
cost-optimal p* = c_FP / (c_FP + c_FN) of `COSTS` (an offer wasted on a stayer vs a customer lost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lifecycle_lab.evaluation.costs import Costs
from lifecycle_lab.projects.p04_churn.world import CATEGORICAL, NUMERIC, PLANS, REGIONS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COSTS = Costs(fp=40.0, fn=200.0)
"""A retention offer sent to a customer who would have stayed costs 40; a customer lost costs 200."""
THRESHOLD = COSTS.elkan_threshold
LOG_FEATURES = ("usage_hours", "seats")


def build_model(seed: int = 0):
    """An unfitted pipeline: ln(1 + x) for usage and seats, scaling, one-hot plan and region, logistic."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    other = [c for c in NUMERIC if c not in LOG_FEATURES]
    pre = ColumnTransformer([
        ("log", Pipeline([("log1p", FunctionTransformer(np.log1p)), ("scale", StandardScaler())]),
         list(LOG_FEATURES)),
        ("num", StandardScaler(), other),
        ("cat", OneHotEncoder(categories=[list(PLANS), list(REGIONS)], handle_unknown="ignore"), list(CATEGORICAL)),
    ])
    return Pipeline([("pre", pre), ("clf", LogisticRegression(C=1.0, max_iter=500, random_state=seed))])


def features(frame: "pd.DataFrame") -> "pd.DataFrame":
    """The model's inputs as the pipeline delivers them (never the hidden true_* columns)."""
    return frame[list(NUMERIC) + list(CATEGORICAL)]


def train(frame: "pd.DataFrame", seed: int = 0):
    """Fit a fresh model on labelled rows."""
    return build_model(seed).fit(features(frame), frame["churned"].to_numpy(int))


def score(model, frame: "pd.DataFrame") -> np.ndarray:
    """Churn scores P(churn within 30 days) for the rows."""
    return model.predict_proba(features(frame))[:, 1]
