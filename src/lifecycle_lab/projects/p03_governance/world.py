"""The advanced project's world: 18+ months of card transactions (or credit applications) with late labels.

Why simulated: governance questions (did P(X) move? did P(Y|X) move? when?) can only be answered for
sure when the truth is known. Here the data drift and the concept drift are switched on by parameters,
so the learner can check the diagnosis against how the world was built.

Two variants share one generator shape and differ where the rules differ:
- `fraud`: card transactions scored for fraud (EU AI Act Annex III 5(b) excepts fraud detection);
- `credit`: credit applications of natural persons scored for default (high-risk, Annex III 5(b)).
`age_band` is the protected attribute for the fairness audit; it is NOT a model input, but tenure /
credit history correlate with it and act as proxies.

Month 0 is the training period before general availability; months 1..N are production.
Labels arrive late (chargebacks, defaults): `label_known` says whether a row's label had arrived by the end
of the last month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.governance import VARIANTS

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

SENSITIVE = "age_band"
AGE_BANDS = ("18-29", "30-59", "60+")
FEATURES = {
    "fraud": {"numerical": ["amount", "hour", "tenure_months"],
              "categorical": ["merchant_category", "channel", "country", "device"]},
    "credit": {"numerical": ["loan_amount", "income", "debt_to_income", "utilisation", "credit_history_months",
                             "recent_inquiries"],
               "categorical": ["purpose", "employment", "channel"]},
}
# Mean days until the label is known: a chargeback takes weeks, a default months.
LABEL_DELAY_DAYS = {"fraud": 40, "credit": 90}
DAYS_PER_MONTH = 30


class ScenarioError(LifecycleLabError, ValueError):
    """The scenario was asked for something it cannot simulate (unknown variant, too few rows, ...)."""


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ScenarioError(f"unknown variant {variant!r}: use 'fraud' (card transactions) or 'credit' "
                            f"(credit-risk scoring of people)")
    return variant


def features(variant: str) -> list[str]:
    """The model inputs of a variant (numerical first, then categorical); age_band is not one of them."""
    spec = FEATURES[check_variant(variant)]
    return spec["numerical"] + spec["categorical"]


def _ramp(month, start: int, length: int = 3):
    """0 before `start`, rising linearly to 1 over `length` months: a new pattern does not appear at once."""
    import numpy as np

    return np.clip((np.asarray(month, dtype=float) - start + 1) / length, 0.0, 1.0)


def _pick(rng, options, probs):
    """One categorical draw per row from per-row probability vectors (rows of probs sum to 1)."""
    import numpy as np

    probs = np.asarray(probs, dtype=float)
    cum = probs.cumsum(axis=1)
    u = rng.random(len(probs))[:, None]
    return np.asarray(options)[(u > cum).sum(axis=1).clip(0, len(options) - 1)]


def _fraud(rng, month, drift, concept):
    import numpy as np
    import pandas as pd

    n = len(month)
    d = drift * month / 18.0  # 0 .. 1 over 18 months when data drift is on
    age = rng.choice(AGE_BANDS, size=n, p=[0.25, 0.55, 0.20])
    young, senior = age == "18-29", age == "60+"
    tenure = rng.gamma(2.0, np.where(young, 10.0, np.where(senior, 45.0, 28.0)))
    online_p = np.clip(0.30 + 0.15 * young - 0.10 * senior + 0.20 * d, 0.05, 0.9)
    contactless_p = np.clip(0.30 + 0.15 * d, 0.05, 0.9)
    channel = _pick(rng, ["online", "contactless", "card_present"],
                    np.column_stack([online_p, contactless_p * (1 - online_p),
                                     (1 - contactless_p) * (1 - online_p)]))
    device = np.where(channel == "online", np.where(rng.random(n) < 0.55 + 0.25 * d, "mobile", "desktop"),
                      np.where((channel == "contactless") & (rng.random(n) < 0.5 + 0.3 * d), "mobile", "pos"))
    cats = ["grocery", "restaurant", "fuel", "travel", "electronics", "digital_goods"]
    base = np.array([0.30, 0.20, 0.15, 0.10, 0.13, 0.12])
    shift = np.array([-0.06, -0.02, -0.04, 0.02, 0.0, 0.10])
    probs = np.clip(base[None, :] + shift[None, :] * d[:, None], 0.01, None)
    merchant = _pick(rng, cats, probs / probs.sum(axis=1, keepdims=True))
    scale = pd.Series(merchant).map({"grocery": 40, "restaurant": 35, "fuel": 55, "travel": 300,
                                     "electronics": 220, "digital_goods": 25}).to_numpy()
    amount = np.round(scale * rng.lognormal(0, 0.8, n) * (1 + 0.25 * d), 2)
    country = _pick(rng, ["domestic", "eu", "non_eu"],
                    np.column_stack([0.86 - 0.06 * d, 0.10 + 0.03 * d, 0.04 + 0.03 * d]))
    night = rng.random(n) < 0.10 + 0.05 * d
    hour = np.where(night, rng.integers(0, 6, n), np.clip(np.round(rng.normal(14, 3.5, n)), 6, 23)).astype(int)
    logit = (-4.6 + 0.7 * np.log(amount / 50) + 1.3 * (channel == "online") + 1.4 * (country == "non_eu")
             + 0.5 * (country == "eu") + 0.9 * (hour < 6) + 0.6 * (merchant == "electronics")
             + 0.4 * (merchant == "travel") - 0.015 * np.minimum(tenure, 120) + 0.3 * (device == "desktop"))
    # concept drift: a new card-testing pattern (small digital-goods payments by mobile wallet) that the
    # legacy model learned as safe, while the old online pattern weakens as 3-D Secure rolls out.
    s = concept
    logit = (logit + s * (3.2 * ((merchant == "digital_goods") & (amount < 30))
                          + 1.6 * ((device == "mobile") & (channel == "contactless"))
                          - 0.8 * (channel == "online")))
    frame = pd.DataFrame({"amount": amount, "hour": hour, "tenure_months": np.round(tenure, 1),
                          "merchant_category": merchant, "channel": channel, "country": country,
                          "device": device, SENSITIVE: age})
    return frame, logit


def _credit(rng, month, drift, concept):
    import numpy as np
    import pandas as pd

    n = len(month)
    d = drift * month / 18.0
    age = rng.choice(AGE_BANDS, size=n, p=[0.28, 0.55, 0.17])
    young, senior = age == "18-29", age == "60+"
    history = np.round(rng.gamma(2.0, np.where(young, 18.0, np.where(senior, 110.0, 70.0))), 0)
    income = np.round(rng.lognormal(np.log(np.where(young, 28000, np.where(senior, 34000, 45000))), 0.4)
                      * (1 - 0.06 * d), -2)
    emp = np.column_stack([np.where(senior, 0.2, 0.65), np.full(n, 0.12),
                           np.where(senior, 0.03, np.where(young, 0.23 + 0.08 * d, 0.15 + 0.05 * d)),
                           np.where(senior, 0.65, 0.0)])
    employment = _pick(rng, ["salaried", "self_employed", "contract", "retired"], emp / emp.sum(axis=1, keepdims=True))
    dti = np.clip(rng.beta(3, 6, n) + 0.08 * d, 0.0, 0.95)
    util = np.clip(rng.beta(2, 3, n) + 0.10 * d, 0.0, 1.0)
    inquiries = rng.poisson(0.8 + 0.6 * young + 0.7 * d)
    purpose = _pick(rng, ["car", "home_improvement", "debt_consolidation", "education", "other"],
                    np.tile([0.3, 0.2, 0.3, 0.08, 0.12], (n, 1)))
    loan = np.round(rng.lognormal(np.log(9000), 0.6, n) * (1 + 0.1 * d), -2)
    channel = _pick(rng, ["branch", "online", "broker"],
                    np.column_stack([0.45 - 0.15 * d, 0.40 + 0.15 * d, np.full(n, 0.15)]))
    logit = (-3.0 + 3.0 * (dti - 0.33) + 2.2 * (util - 0.4) + 0.30 * inquiries
             - 0.006 * np.minimum(history, 240) + 0.5 * np.log(loan / income * 4)
             + 0.5 * (employment == "contract") + 0.3 * (employment == "self_employed")
             + 0.3 * (purpose == "debt_consolidation") + 0.2 * (channel == "broker"))
    # concept drift: after rate rises, stretched borrowers default far more often than before
    s = concept
    # and signals that used to matter stop mattering (rate shopping inflates inquiries; long histories no
    # longer protect), so the legacy weights point the wrong way.
    logit = logit + s * (1.5 * (dti > 0.45) + 0.9 * (employment == "contract") - 0.30 * inquiries
                         + 0.006 * np.minimum(history, 240) - 1.6 * (util - 0.4) - 0.6)
    frame = pd.DataFrame({"loan_amount": loan, "income": income, "debt_to_income": np.round(dti, 3),
                          "utilisation": np.round(util, 3), "credit_history_months": history,
                          "recent_inquiries": inquiries, "purpose": purpose, "employment": employment,
                          "channel": channel, SENSITIVE: age})
    return frame, logit


def simulate(variant: str = "fraud", *, months: int = 18, n_per_month: int = 4000, n_train: int | None = None,
             seed: int = 42, data_drift: bool = True, concept_drift: bool = True, drift_strength: float = 1.0,
             concept_start: int | None = None) -> "pd.DataFrame":
    """Rows of month 0 (training, `n_train` rows) and months 1..`months` (`n_per_month` each).

    Why these knobs: switching data drift and concept drift on and off separately is how the learner
    tests a diagnosis. `drift_strength` scales both; `concept_start` (default: month months // 2) is when
    the new pattern begins to ramp in over three months. Columns: month, day, the variant's features,
    age_band, label (the truth), label_day (when it became known) and label_known (by the end of the
    last month). The frame's `attrs` record how it was built.
    """
    import numpy as np
    import pandas as pd

    check_variant(variant)
    for name, value, low in (("months", months, 3), ("n_per_month", n_per_month, 200)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ScenarioError(f"{name}={value!r}: use a whole number of at least {low}")
    n_train = n_per_month * 3 if n_train is None else n_train
    if isinstance(n_train, bool) or not isinstance(n_train, int) or n_train < 500:
        raise ScenarioError(f"n_train={n_train!r}: use a whole number of at least 500 training rows")
    if not 0 <= drift_strength <= 3:
        raise ScenarioError(f"drift_strength={drift_strength!r} must be between 0 and 3")
    concept_start = months // 2 if concept_start is None else concept_start
    if not 1 <= concept_start <= months:
        raise ScenarioError(f"concept_start={concept_start} must be a production month from 1 to {months}")
    rng = np.random.default_rng(seed)
    month = np.concatenate([np.zeros(n_train, int), np.repeat(np.arange(1, months + 1), n_per_month)])
    data = drift_strength * float(data_drift)
    concept = drift_strength * float(concept_drift) * _ramp(month, concept_start)
    make = _fraud if variant == "fraud" else _credit
    frame, logit = make(rng, month.astype(float), np.full(len(month), data), concept)
    prob = 1.0 / (1.0 + np.exp(-logit))
    label = (rng.random(len(month)) < prob).astype(int)
    day = rng.integers(0, DAYS_PER_MONTH, len(month))
    delay = np.round(rng.gamma(2.0, LABEL_DELAY_DAYS[variant] / 2.0, len(month))).astype(int)
    label_day = month * DAYS_PER_MONTH + day + delay
    end = (months + 1) * DAYS_PER_MONTH
    out = pd.concat([pd.DataFrame({"month": month, "day": day}), frame], axis=1)
    out["label"] = label
    out["label_day"] = label_day
    out["label_known"] = (label_day < end) | (month == 0)
    out.insert(0, "id", np.arange(len(out)))
    out.attrs.update({"variant": variant, "months": months, "seed": seed, "data_drift": bool(data_drift),
                      "concept_drift": bool(concept_drift), "drift_strength": float(drift_strength),
                      "concept_start": int(concept_start), "numerical": FEATURES[variant]["numerical"],
                      "categorical": FEATURES[variant]["categorical"], "sensitive": SENSITIVE})
    return out


def build_model(variant: str, kind: str = "legacy", seed: int = 0):
    """An unfitted scikit-learn pipeline: one-hot categoricals, scaled numerics, logistic regression.

    Why logistic regression for both: the explainability mandate needs exact per-decision attributions,
    and a linear model in log-odds has them in closed form. `legacy` uses the raw inputs as the model was
    built 18 months ago; `replacement` (the new architecture) adds a log amount, spline terms and
    interaction features that can represent the new patterns, still additive and exactly explainable.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, SplineTransformer, StandardScaler

    check_variant(variant)
    num, cat = FEATURES[variant]["numerical"], FEATURES[variant]["categorical"]
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if kind == "legacy":
        pre = ColumnTransformer([("num", StandardScaler(), num), ("cat", onehot, cat)],
                                verbose_feature_names_out=False)
        return Pipeline([("pre", pre), ("model", LogisticRegression(C=1.0, max_iter=2000))])
    if kind != "replacement":
        raise ScenarioError(f"unknown model kind {kind!r}: use 'legacy' or 'replacement'")
    import numpy as np

    spline = Pipeline([("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")),
                       ("spline", SplineTransformer(n_knots=5, degree=3))])
    transformers = [("cat", onehot, cat)]
    transformers += [(f"spl_{c}", spline, [c]) for c in num]
    pre = ColumnTransformer(transformers, verbose_feature_names_out=True)
    return Pipeline([("pre", pre), ("model", LogisticRegression(C=1.0, max_iter=3000))])
