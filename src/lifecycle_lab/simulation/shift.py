"""Label shift by resampling: change P(Y) while keeping every class's P(X|Y) exactly as it was.

Why a helper: "label shift" is often simulated by moving a logistic model's intercept, which changes
P(Y|X) directly and is indistinguishable from a kind of concept drift. The definition (Huyen, ch. 8) is
P(Y) moves and P(X|Y) stays: draw a pool from the unshifted world, then draw the week's rows from the
pool's positives and negatives in the new proportion, uniformly within each class. numpy only.
"""

from __future__ import annotations

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError


class ShiftError(LifecycleLabError, ValueError):
    """A label-shift request cannot be met by the pool it is drawn from."""


def label_shift_indices(labels, n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Row positions of `n` rows from a pool with 0/1 `labels` whose positive share is `rate`.

    The number of positives is Binomial(n, rate); positives and negatives are drawn without replacement
    and uniformly within their class, so P(X|Y) of the result equals the pool's. The positions are
    returned sorted (the pool's order is kept).
    """
    y = np.asarray(labels).astype(int).ravel()
    if not 0 < rate < 1:
        raise ShiftError(f"rate={rate!r}: the positive share after the shift must be strictly between 0 and 1")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ShiftError(f"n={n!r} must be a positive whole number of rows")
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = int(rng.binomial(n, rate))
    n_neg = n - n_pos
    if n_pos > pos.size or n_neg > neg.size:
        raise ShiftError(f"the pool has {pos.size} positives and {neg.size} negatives, too few for {n} rows at "
                         f"rate {rate:.3f}: draw a larger pool (or ask for a smaller shift)")
    take = np.concatenate([rng.choice(pos, n_pos, replace=False), rng.choice(neg, n_neg, replace=False)])
    return np.sort(take)
