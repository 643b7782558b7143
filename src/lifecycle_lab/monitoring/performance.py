"""Outcomes analysis of a model in production: monthly performance and the drift diagnosis.

Why: "the model degraded" is a claim to be shown month by month (precision, recall, expected cost on the
labels that have arrived), and its cause decides the remedy: inputs that moved (data drift, P(X)) can be
benign; a changed relation between inputs and outcome (concept drift, P(Y|X)) needs a new model.
The drift statistics come from `lifecycle_lab.monitoring.drift` (one implementation of PSI / KS / Evidently).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

from lifecycle_lab.evaluation.costs import Costs, expected_cost
from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.monitoring.drift import MonitorInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PSI_MODERATE = 0.1  # practitioner folklore bands (they change with binning): < 0.1 stable, > 0.25 major
PSI_MAJOR = 0.25


def monthly_performance(frame: "pd.DataFrame", proba, threshold: float, costs: Costs, *,
                        month_col: str = "month", label_col: str = "label",
                        known_col: str | None = "label_known") -> "pd.DataFrame":
    """Per month: decisions, labelled share, base rate, flag rate, precision, recall, expected cost.

    Metrics use only rows whose label had arrived (labels are late); `cost_per_1k` is the expected cost
    per 1,000 decisions on those rows. A month with no rows is an error (a broken feed, not good news);
    a month with no labels yet gets NaN metrics and labelled_share 0.
    """
    import numpy as np
    import pandas as pd

    if not 0 < threshold < 1:
        raise MonitorInputError(f"threshold={threshold!r} must be strictly between 0 and 1")
    p = np.asarray(proba, dtype=float)
    if len(p) != len(frame):
        raise MonitorInputError(f"proba has {len(p)} values for {len(frame)} rows")
    if len(frame) == 0:
        raise MonitorInputError("no rows: the frame is empty")
    months = frame[month_col].to_numpy()
    expected = np.arange(months.min(), months.max() + 1)
    empty = sorted(set(expected.tolist()) - set(months.tolist()))
    if empty:
        raise MonitorInputError(f"month(s) {empty} have no decisions at all: a gap in the feed must be explained "
                              f"before performance can be read (check the pipeline)")
    known = np.ones(len(frame), bool) if known_col is None else frame[known_col].to_numpy(bool)
    y = frame[label_col].to_numpy().astype(int)
    flag = (p >= threshold).astype(int)
    rows = []
    for m in expected:
        sel = months == m
        lab = sel & known
        row = {"month": int(m), "decisions": int(sel.sum()), "labelled_share": float(lab.mean() / sel.mean()),
               "flag_rate": float(flag[sel].mean())}
        if lab.sum() == 0:
            row.update(base_rate=math.nan, precision=math.nan, recall=math.nan, cost_per_1k=math.nan)
        else:
            c = expected_cost(y[lab], flag[lab], costs)
            row.update(base_rate=float(y[lab].mean()),
                       precision=c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else math.nan,
                       recall=c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else math.nan,
                       cost_per_1k=1000 * c["cost_per_decision"])
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_drift(frame: "pd.DataFrame", proba, *, month_col: str = "month", label_col: str = "label",
                      known_col: str | None = "label_known", z_limit: float = 3.0, consecutive: int = 2,
                      min_labels: int = 200) -> "pd.DataFrame":
    """Did P(Y|X) move? Compare each month's labels with what a reference model of P(Y|X) promised.

    Why this test: if only P(X) moved, a well-specified model fitted before the shift still describes the
    new rows (its log loss matches the loss it expects of itself); if P(Y|X) moved, it does not. Per month
    on labelled rows: observed / expected positives, and the score test z = sum(l_i - H_i) / sqrt(sum V_i)
    with l_i the log loss, H_i = E[l_i] (the entropy of p_i) and V_i = p_i (1-p_i) logit(p_i)^2 its
    variance under the model. `concept_drift` marks the months from the first run of `consecutive` months
    with z > z_limit. Needs labels, so it lags the label delay; months with fewer than `min_labels`
    labels are not judged.
    """
    import numpy as np
    import pandas as pd

    p = np.asarray(proba, dtype=float)
    if len(p) != len(frame):
        raise MonitorInputError(f"proba has {len(p)} values for {len(frame)} rows")
    if len(frame) == 0:
        raise MonitorInputError("no rows: the frame is empty, so there is no month to test (an empty feed?)")
    missing = [c for c in (month_col, label_col) + ((known_col,) if known_col else ()) if c not in frame]
    if missing:
        raise MonitorInputError(f"columns {missing} are missing: the test needs the month, the label and whether "
                              f"the label is known yet; name yours with month_col=, label_col=, known_col= "
                              f"(known_col=None when every label is known)")
    known = np.ones(len(frame), bool) if known_col is None else frame[known_col].to_numpy(bool)
    months = frame[month_col].to_numpy()
    y = frame[label_col].to_numpy().astype(int)
    rows = []
    for m in np.unique(months):
        lab = (months == m) & known
        n = int(lab.sum())
        if n < min_labels:
            rows.append({"month": int(m), "labels": n, "observed": math.nan, "expected": math.nan,
                         "o_e_ratio": math.nan, "z": math.nan})
            continue
        q = np.clip(p[lab], 1e-12, 1 - 1e-12)
        yl = y[lab]
        loss = -(yl * np.log(q) + (1 - yl) * np.log(1 - q))
        entropy = -(q * np.log(q) + (1 - q) * np.log(1 - q))
        var = q * (1 - q) * np.log(q / (1 - q)) ** 2
        obs, exp = float(yl.sum()), float(q.sum())
        rows.append({"month": int(m), "labels": n, "observed": obs, "expected": exp,
                     "o_e_ratio": obs / exp, "z": float((loss - entropy).sum() / math.sqrt(var.sum()))})
    table = pd.DataFrame(rows)
    breach = (table["z"] > z_limit).to_numpy()
    onset = None
    for i in range(len(breach) - consecutive + 1):
        if breach[i:i + consecutive].all():
            onset = int(table["month"].iloc[i])
            break
    table["concept_drift"] = False if onset is None else table["month"] >= onset
    table.attrs["onset"] = onset
    return table


JS_LIMIT = 0.1  # Evidently's rule for categorical inputs on large samples: Jensen-Shannon distance >= 0.1


def input_drift(frame: "pd.DataFrame", numerical: Sequence[str], categorical: Sequence[str], *,
                reference_month: int = 0, month_col: str = "month", bins: int = 10,
                psi_limit: float = PSI_MODERATE) -> "pd.DataFrame":
    """Did P(X) move? Per input and month against the reference month.

    Numerical inputs: PSI (`lifecycle_lab.monitoring.drift.psi`, drifted when > psi_limit) and the KS statistic and
    p-value (`monitor.ks`; with thousands of rows almost any shift is 'significant', so the PSI decides).
    Categorical inputs: Jensen-Shannon distance of the category shares (scipy), drifted when >= 0.1, the
    rule Evidently applies to large samples. `score` holds the PSI or the JS distance.
    """
    import pandas as pd
    from scipy.spatial.distance import jensenshannon


    for col in list(numerical) + list(categorical):
        if col not in frame:
            raise MonitorInputError(f"input {col!r} is not a column of the frame")
    if reference_month not in set(frame[month_col]):
        raise MonitorInputError(f"reference month {reference_month} has no rows")
    ref = frame[frame[month_col] == reference_month]
    rows = []
    for m, cur in frame[frame[month_col] != reference_month].groupby(month_col):
        for col in numerical:
            stat, pvalue = monitor.ks(ref[col].to_numpy(float), cur[col].to_numpy(float))
            score = float(monitor.psi(ref[col].to_numpy(float), cur[col].to_numpy(float), bins=bins))
            rows.append({"month": int(m), "feature": col, "kind": "numerical", "method": "psi",
                         "score": score, "drifted": score > psi_limit, "ks": float(stat),
                         "ks_pvalue": float(pvalue)})
        for col in categorical:
            shares = pd.concat([ref[col].value_counts(normalize=True), cur[col].value_counts(normalize=True)],
                               axis=1).fillna(0.0).to_numpy()
            score = float(jensenshannon(shares[:, 0], shares[:, 1]))
            rows.append({"month": int(m), "feature": col, "kind": "categorical", "method": "jensen_shannon",
                         "score": score, "drifted": score >= JS_LIMIT, "ks": math.nan, "ks_pvalue": math.nan})
    return pd.DataFrame(rows)


def drift_onset(table: "pd.DataFrame") -> dict:
    """For each input, the first month it drifted (None if never) and its score in the last month."""
    out = {}
    for col, g in table.sort_values("month").groupby("feature", sort=False):
        over = g[g["drifted"]]
        out[col] = {"first_month": None if over.empty else int(over["month"].iloc[0]),
                    "method": str(g["method"].iloc[0]), "last_score": float(g["score"].iloc[-1])}
    return out


def detection_month(frame: "pd.DataFrame", proba, *, label_day_col: str = "label_day", month_col: str = "month",
                    days_per_month: int = 30, **kwargs) -> int | None:
    """The first month-end at which the calibration test, with only the labels known by then, flags drift.

    Why: the concept drift of month m can only be seen once its labels arrive; replaying the test month
    by month as of each month-end gives the honest detection date (and so the detection lag).
    """
    import numpy as np

    if label_day_col not in frame:
        raise MonitorInputError(f"column {label_day_col!r} (the day each label became known) is missing")
    proba = np.asarray(proba, dtype=float)
    for asof in range(1, int(frame[month_col].max()) + 1):
        seen = (frame[month_col] <= asof).to_numpy()
        sub = frame[seen].copy()
        sub["_known"] = (sub[label_day_col] < (asof + 1) * days_per_month) | (sub[month_col] == 0)
        table = calibration_drift(sub, proba[seen], month_col=month_col, known_col="_known", **kwargs)
        if table.attrs["onset"] is not None:
            return asof
    return None
