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

COSTS = Costs(fp=50.0, fn=250.0)
"""Per decision, in EUR (an assumption, stated): a retention offer is a EUR 30 discount plus a 20-minute
customer-success call (EUR 20), so EUR 50 wasted on a customer who would have stayed. A churner is worth
EUR 1,000 of remaining gross margin (EUR 80 a month over ~12.5 months); an offer keeps ~30 % of those it
reaches (retention offers are commonly accepted by 20-40 %), so missing a churner costs 0.3 x 1,000 - 50 =
EUR 250 against offering. The threshold is p* = 50 / (50 + 250) = 1/6."""
THRESHOLD = COSTS.elkan_threshold


DESIGN_COLUMNS = ("ln1p_usage_hours", "ln1p_seats", "support_tickets", "billing_failures", "tenure_years",
                  "plan_pro", "plan_enterprise", "region_eu", "region_apac")


def design(frame: "pd.DataFrame") -> np.ndarray:
    """The model's design matrix, computed by a fixed function (no fitted preprocessing step): ln(1 + x)
    for usage and seats, tenure in years, one-hot plan and region with basic / na as the base.

    Why outside the pipeline: the registry loads only the exact types on its allow-list
    (`deployment.registry.ALLOWED_TYPES`: a Pipeline and a LogisticRegression, no FunctionTransformer or
    ColumnTransformer), so the served model is the classifier alone and this function is its feature code.
    """
    f = features(frame)
    plan, region = f["plan"].to_numpy(), f["region"].to_numpy()
    return np.column_stack([np.log1p(f["usage_hours"].to_numpy(float)), np.log1p(f["seats"].to_numpy(float)),
                            f["support_tickets"].to_numpy(float), f["billing_failures"].to_numpy(float),
                            f["tenure_months"].to_numpy(float) / 12, plan == PLANS[1], plan == PLANS[2],
                            region == REGIONS[1], region == REGIONS[2]]).astype(float)


def build_model(seed: int = 0):
    """An unfitted pipeline holding the logistic regression (inputs: `design`)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([("clf", LogisticRegression(C=1.0, max_iter=1000, random_state=seed))])


def features(frame: "pd.DataFrame") -> "pd.DataFrame":
    """The model's inputs as the pipeline delivers them (never the hidden true_* columns)."""
    return frame[list(NUMERIC) + list(CATEGORICAL)]


def train(frame: "pd.DataFrame", seed: int = 0):
    """Fit a fresh model on labelled rows."""
    return build_model(seed).fit(design(frame), frame["churned"].to_numpy(int))


def score(model, frame: "pd.DataFrame") -> np.ndarray:
    """Churn scores P(churn within 30 days) for the rows."""
    return model.predict_proba(design(frame))[:, 1]
