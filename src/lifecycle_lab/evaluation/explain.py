"""Explanations: how much the model relies on each input (global), why it scored one case (per decision),
and the adverse-action reason codes a declined credit applicant is owed.

Why exact rather than approximate: an explainability mandate (EU AI Act Art 13 and 86; Reg B 1002.9(b)(2)
for US credit) asks for the factors *actually scored* (CFPB Circulars 2022-03, 2023-03). For a logistic
regression the SHAP values in log-odds space have a closed form, phi_j = w_j (z_j - E[z_j]), so no sampling
library is needed and the additivity property (base value + sum of phi = the model's log-odds) can be
checked to machine precision for every decision.

Works on a scikit-learn Pipeline(ColumnTransformer, LogisticRegression): contributions of the transformed
columns are summed back to the raw input they came from (exact, because each transformed column depends
on one raw input only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

MAX_REASONS = 4  # Reg B official interpretation: more than four reasons is not likely to be helpful

# Reason statements for the credit variant: (when the value is above typical, when below / the category).
REASON_TEXT = {
    "debt_to_income": ("Debt-to-income ratio too high", "Debt-to-income ratio"),
    "utilisation": ("Proportion of revolving credit in use too high", "Revolving credit utilisation"),
    "recent_inquiries": ("Too many recent credit inquiries", "Number of recent credit inquiries"),
    "credit_history_months": ("Length of credit history", "Length of credit history too short"),
    "income": ("Income level", "Income insufficient for amount of credit requested"),
    "loan_amount": ("Amount of credit requested too high relative to profile", "Amount of credit requested"),
    "employment": ("Type of employment", "Type of employment"),
    "purpose": ("Purpose of the credit", "Purpose of the credit"),
    "channel": ("Channel of the application or payment", "Channel of the application or payment"),
    # fraud: what the analyst reviewing a flag sees (human oversight), not a legal adverse-action notice
    "amount": ("Amount unusually high for this merchant", "Amount unusually small (card-testing pattern)"),
    "hour": ("Unusual time of day", "Unusual time of day (night)"),
    "tenure_months": ("Customer tenure", "Short customer relationship"),
    "merchant_category": ("Merchant category", "Merchant category"),
    "country": ("Transaction country", "Transaction country"),
    "device": ("Device used", "Device used"),
}


class ExplanationError(LifecycleLabError, ValueError):
    """The model or data cannot be explained exactly with this module (wrong model type, bad shapes...)."""


@dataclass
class Explanation:
    """Exact SHAP values (log-odds) per raw input, the base value and the model's log-odds per row."""

    values: "pd.DataFrame"
    base_value: float
    output: "np.ndarray"
    data: "pd.DataFrame"

    @property
    def additivity_error(self) -> float:
        """max |base + sum(phi) - log-odds| over rows: ~1e-12 when the explanation is exact."""
        import numpy as np

        return float(np.max(np.abs(self.base_value + self.values.to_numpy().sum(axis=1) - self.output)))

    def check_additivity(self, tol: float = 1e-8) -> float:
        """Raise when the attributions do not add up to the model output; return the error otherwise."""
        err = self.additivity_error
        if not err <= tol:
            raise ExplanationError(f"additivity fails: base + sum(phi) differs from the log-odds by {err:.3g} "
                                   f"(> {tol}); the explanation is not exact for this model")
        return err


def _split(pipeline):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression

    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 2:
        raise ExplanationError("expected a fitted Pipeline of (ColumnTransformer, LogisticRegression)")
    pre, model = steps[0][1], steps[1][1]
    if not isinstance(pre, ColumnTransformer) or not isinstance(model, LogisticRegression):
        raise ExplanationError(f"exact linear SHAP needs ColumnTransformer + LogisticRegression, got "
                               f"{type(pre).__name__} + {type(model).__name__}; use permutation importance "
                               f"or a model-specific explainer instead")
    if not hasattr(model, "coef_"):
        raise ExplanationError("the pipeline is not fitted yet: call fit() first")
    if model.coef_.shape[0] != 1:
        raise ExplanationError("only binary classifiers are supported (one row of coefficients)")
    return pre, model


def column_owner(pre) -> list[str]:
    """For each output column of a fitted ColumnTransformer, the raw input column it was built from."""
    owners: list[str] = []
    for name, transformer, columns in pre.transformers_:
        if name == "remainder" and transformer == "drop":
            continue
        cols = [columns] if isinstance(columns, str) else list(columns)
        out = pre.output_indices_[name]
        width = out.stop - out.start
        if width == 0:
            continue
        if width == len(cols):
            owners += cols
        elif len(cols) == 1:
            owners += cols * width
        elif hasattr(transformer, "categories_") and getattr(transformer, "drop_idx_", None) is None:
            for col, cats in zip(cols, transformer.categories_):
                owners += [col] * len(cats)
        else:
            raise ExplanationError(f"cannot tell which input each output of transformer {name!r} comes from; "
                                   f"give it one input column or make it one-to-one")
        if len(owners) != out.stop:
            raise ExplanationError(f"column bookkeeping failed at transformer {name!r}")
    return owners


def linear_shap(pipeline, X: "pd.DataFrame", background: "pd.DataFrame") -> Explanation:
    """Exact interventional SHAP values in log-odds of a logistic-regression pipeline.

    phi_j(x) = sum over transformed columns k of input j of w_k (z_k(x) - mean_b z_k), with the mean over
    `background` (usually the training data); base value = w . mean_b z + b. Why: exact, fast (one matrix
    product per batch) and checkable by additivity.
    """
    import numpy as np
    import pandas as pd

    pre, model = _split(pipeline)
    if len(X) == 0:
        raise ExplanationError("no rows to explain")
    if len(background) < 10:
        raise ExplanationError("background needs at least 10 rows (use the training data or a sample of it)")
    z = np.asarray(pre.transform(X), dtype=float)
    zb_mean = np.asarray(pre.transform(background), dtype=float).mean(axis=0)
    w = model.coef_[0]
    contrib = (z - zb_mean) * w
    owners = column_owner(pre)
    names = list(dict.fromkeys(owners))
    index = {n: i for i, n in enumerate(names)}
    group = np.zeros((len(owners), len(names)))
    group[np.arange(len(owners)), [index[o] for o in owners]] = 1.0
    values = pd.DataFrame(contrib @ group, columns=names, index=X.index)
    base = float(zb_mean @ w + model.intercept_[0])
    output = np.asarray(pipeline.decision_function(X), dtype=float)
    return Explanation(values, base, output, X)


def global_importance(pipeline, X, y, *, scoring: str = "roc_auc", n_repeats: int = 5, seed: int = 0,
                      max_rows: int | None = 4000) -> "pd.DataFrame":
    """Permutation importance: how much the score drops when one input is shuffled (sklearn).

    Why: it measures how much *this model* relies on an input on *this data*, the global view a reviewer
    wants before looking at single decisions. Subsamples to `max_rows` to stay fast.
    """
    import numpy as np
    import pandas as pd
    from sklearn.inspection import permutation_importance

    if len(X) != len(y):
        raise ExplanationError(f"X has {len(X)} rows but y has {len(y)}")
    if max_rows is not None and len(X) > max_rows:
        pick = np.random.default_rng(seed).choice(len(X), size=max_rows, replace=False)
        X, y = X.iloc[pick], np.asarray(y)[pick]
    result = permutation_importance(pipeline, X, y, scoring=scoring, n_repeats=n_repeats, random_state=seed,
                                    n_jobs=1)
    table = pd.DataFrame({"feature": list(X.columns), "importance_mean": result.importances_mean,
                          "importance_std": result.importances_std})
    return table.sort_values("importance_mean", ascending=False, ignore_index=True)


def typical_values(background: "pd.DataFrame") -> dict:
    """The median of each numeric input of the background: what 'above / below typical' is measured against.

    Compute it once and pass it as `medians=` to `reason_codes` when phrasing many decisions."""
    return {c: float(background[c].median()) for c in background.columns
            if background[c].dtype.kind in "biuf"}


def reason_codes(explanation: Explanation, row: Any, *, max_reasons: int = MAX_REASONS,
                 background: "pd.DataFrame | None" = None, text: dict | None = None,
                 medians: dict | None = None) -> list[dict]:
    """The principal reasons for one adverse decision: the inputs that pushed the risk score up most.

    Why: Reg B 1002.9(b)(2) asks for the specific principal reasons, and the CFPB (Circulars 2022-03,
    2023-03) says they must describe the factors actually scored, even for complex models. Only inputs
    with a positive contribution (towards 'bad') qualify, largest first, at most four. Each reason carries
    its contribution in log-odds and a statement; numeric statements depend on whether the applicant's
    value is above or below the background median (`medians`, computed from `background` when not given).
    """
    if not 1 <= max_reasons <= MAX_REASONS:
        raise ExplanationError(f"max_reasons={max_reasons}: give between 1 and {MAX_REASONS} principal reasons "
                               f"(Reg B: more than four is not likely to be helpful)")
    if row not in explanation.values.index:
        raise ExplanationError(f"row {row!r} is not among the explained rows")
    text = REASON_TEXT if text is None else text
    if medians is None and background is not None:
        medians = typical_values(background)
    phi = explanation.values.loc[row]
    positive = phi[phi > 0].sort_values(ascending=False).head(max_reasons)
    reasons = []
    for feature, value in positive.items():
        raw = explanation.data.loc[row, feature]
        above, below = text.get(feature, (feature, feature))
        if isinstance(raw, str):
            statement = f"{above}: {raw}"
        elif medians is not None and feature in medians:
            statement = above if raw > medians[feature] else below
        else:
            statement = above
        reasons.append({"feature": feature, "contribution": float(value), "value": raw, "statement": statement})
    return reasons
