"""Cost-sensitive evaluation: the price of each outcome, the expected cost of decisions, the cost-optimal threshold.

Why a module of its own: a model's errors have prices, and the release threshold that minimises cost is an
evaluation question asked by several projects (the fraud case's business case, the churn model's retraining
policies, the model card's bootstrap). The cost matrix turns a confusion matrix into money; Elkan (2001)
turns it into a threshold when probabilities are calibrated; a sweep finds the empirical optimum.

numpy and pandas are imported inside the functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class CostError(LifecycleLabError, ValueError):
    """A cost or a set of decisions to cost is invalid (negative price, empty or mismatched arrays)."""


def nonnegative(name: str, value, error: type[Exception] = CostError) -> float:
    """`value` as a float when it is a finite amount >= 0; else `error` naming the input (costs are entered
    as positive amounts; a benefit is a cost avoided). Shared with the business case, which raises its own."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise error(f"{name}={value!r} must be a finite number")
    if value < 0:
        raise error(f"{name}={value} is negative: costs are entered as positive amounts "
                    f"(a benefit is a cost avoided)")
    return float(value)


@dataclass(frozen=True)
class Costs:
    """Price of each outcome of one decision: a false positive, a false negative, a human review.

    fraud: FP = a good customer's card blocked (friction, call), FN = fraud loss, review = analyst time.
    credit: FP = a good applicant declined (lost margin), FN = loss given default, review = underwriter.
    Every flagged case (TP or FP) is reviewed, which is the human oversight the AI Act asks for.
    """

    fp: float
    fn: float
    review: float = 0.0

    def __post_init__(self):
        for name in ("fp", "fn", "review"):
            object.__setattr__(self, name, nonnegative(f"cost_{name}", getattr(self, name)))
        if self.fp + self.fn == 0:
            raise CostError("cost_fp and cost_fn are both 0: nothing to trade off")

    def total(self, fp, fn, reviews):
        """FP c_FP + FN c_FN + reviews c_review: the cost of a set of decisions from its counts.

        Why one place: the cost matrix is applied to counts of a window, of each threshold of a sweep and
        of each bootstrap replicate; numbers or numpy arrays of counts alike."""
        return fp * self.fp + fn * self.fn + reviews * self.review

    @property
    def elkan_threshold(self) -> float:
        """p* = c_FP / (c_FP + c_FN): flag when the expected cost of not flagging exceeds that of flagging."""
        return self.fp / (self.fp + self.fn)

    @property
    def p_star(self) -> float:
        """p* with the review cost of a flag included: (c_FP + c_review) / (c_FP + c_FN), capped at 1.

        Flagging costs c_review + (1 - p) c_FP, not flagging costs p c_FN; they are equal at this p.
        With c_review = 0 it is Elkan's p* = c_FP / (c_FP + c_FN).
        """
        return min(1.0, (self.fp + self.review) / (self.fp + self.fn))


def _labels(y_true, y_pred):
    import numpy as np

    yt, yp = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    if yt.shape != yp.shape or yt.ndim != 1:
        raise CostError(f"y_true and y_pred must be 1-D of equal length, got {yt.shape} and {yp.shape}")
    if len(yt) == 0:
        raise CostError("no decisions to cost: the arrays are empty (an empty month?)")
    return yt, yp


def expected_cost(y_true, y_pred, costs: Costs) -> dict:
    """Total cost = FP c_FP + FN c_FN + (TP + FP) c_review, with the counts and the cost per decision."""
    yt, yp = _labels(y_true, y_pred)
    tp = int(((yt == 1) & (yp == 1)).sum())
    fp = int(((yt == 0) & (yp == 1)).sum())
    fn = int(((yt == 1) & (yp == 0)).sum())
    tn = int(len(yt) - tp - fp - fn)
    total = costs.total(fp, fn, tp + fp)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "reviews": tp + fp, "cost": float(total),
            "cost_per_decision": float(total) / len(yt)}


def threshold_sweep(y_true, proba, costs: Costs, grid: Sequence[float] | None = None) -> "pd.DataFrame":
    """Expected cost per decision at each threshold of a grid (default 0.005 .. 0.995 by 0.005).

    Why: p* assumes calibrated probabilities; the sweep finds the empirical optimum on labelled data, and
    the gap between the two says how far the scores are from calibrated.
    """
    import numpy as np
    import pandas as pd

    yt = np.asarray(y_true).astype(int)
    p = np.asarray(proba, dtype=float)
    if len(yt) != len(p) or len(yt) == 0:
        raise CostError(f"y_true ({len(yt)}) and proba ({len(p)}) must be non-empty and of equal length")
    grid = np.round(np.arange(0.005, 1.0, 0.005), 3) if grid is None else np.asarray(grid, dtype=float)
    flag = p[None, :] >= grid[:, None]
    pos = (yt == 1)[None, :]
    fp = (flag & ~pos).sum(axis=1)
    fn = (~flag & pos).sum(axis=1)
    reviews = flag.sum(axis=1)
    cost = costs.total(fp, fn, reviews)
    return pd.DataFrame({"threshold": grid, "fp": fp, "fn": fn, "reviews": reviews,
                         "cost_per_decision": cost / len(yt)})


def best_threshold(sweep: "pd.DataFrame") -> float:
    """The threshold with the lowest cost in a sweep (the lowest such threshold on ties)."""
    return float(sweep.loc[sweep["cost_per_decision"].idxmin(), "threshold"])
