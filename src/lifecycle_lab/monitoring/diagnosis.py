"""Diagnosis of an incident: data bug, data drift, concept drift, label shift or benign, with the evidence.

Why: the remedy depends on the cause. A data bug is fixed at its source (retraining on broken data bakes
the bug in); concept drift needs fresh labels and a new model; label shift can often be absorbed by
re-calibrating the base rate; benign drift needs nothing but a note. Each alert signal's onset is examined:

- an abrupt step in one feature (its PSI against the previous week above `step_limit`), ideally at a
  deploy in the events calendar: a data bug;
- a change test on the labels around the onset: with the deployed model's logit as an offset, fit
  y ~ offset + a + bX on the weeks before and after the onset, then let the after-weeks have their own
  intercept (a likelihood-ratio test, 1 df: the base rate moved at fixed P(X|Y), label shift) and their own
  slopes (k df: P(Y|X) moved, concept drift);
- inputs that moved without either: data drift, which is benign when precision holds.

The logistic fit with an offset is Newton-Raphson (IRLS) in numpy; scipy gives the chi-square tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from lifecycle_lab.evaluation.experiment import two_proportion_test
from lifecycle_lab.monitoring.drift import MonitorInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

KINDS = ("data_bug", "data_drift", "concept_drift", "label_shift", "benign")


def fit_logistic(X, y, offset=None, *, max_iter: int = 30, tol: float = 1e-8) -> dict:
    """Unpenalised logistic regression of y on X (an intercept column is added) with a fixed `offset`
    added to the linear predictor. Returns {"coef" (intercept first), "loglik", "iterations"}.

    Why an offset: it holds the deployed model's logit fixed, so the fitted coefficients measure how far
    the labels depart from what that model says, not the model again.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim != 2 or X.shape[0] != y.size or y.size == 0:
        raise MonitorInputError(f"X must be a 2-d array with one row per label; got {X.shape} for {y.size} labels")
    off = np.zeros(y.size) if offset is None else np.asarray(offset, dtype=float).ravel()
    if off.size != y.size or not np.all(np.isfinite(off)):
        raise MonitorInputError("offset must be finite, one value per label")
    A = np.column_stack([np.ones(y.size), X])
    beta = np.zeros(A.shape[1])
    ridge = 1e-6 * np.eye(A.shape[1])  # collinear columns (one-hot sets beside the intercept) stay solvable
    eta = np.clip(off, -30, 30)
    loglik = float(np.sum(y * eta - np.logaddexp(0, eta)))
    for it in range(1, max_iter + 1):
        p = 1 / (1 + np.exp(-eta))
        w = p * (1 - p)
        step = np.linalg.solve(A.T @ (A * w[:, None]) + ridge, A.T @ (y - p))
        beta += step
        eta = np.clip(off + A @ beta, -30, 30)
        new = float(np.sum(y * eta - np.logaddexp(0, eta)))
        done = abs(new - loglik) < tol * (1 + abs(loglik))
        loglik = new
        if done:
            break
    return {"coef": beta, "loglik": loglik, "iterations": it}


def change_test(X, y, offset, after) -> dict:
    """Did the labels change at an onset? Likelihood-ratio tests with the deployed model as offset.

    M0: offset + a + bX on all rows; M1: M0 + a' on the rows `after` the onset; M2: M1 + b'X after.
    label_shift_p: M1 vs M0 (1 df); concept_p: M2 vs M1 (k df). Also the fitted intercept change a'
    (log-odds: > 0 means more positives than before at the same inputs).
    """
    from scipy.stats import chi2

    X = np.asarray(X, dtype=float)
    post = np.asarray(after, dtype=bool).ravel()
    if post.size != X.shape[0] or post.all() or not post.any():
        raise MonitorInputError("`after` must mark some, not all, rows as after the onset")
    m0 = fit_logistic(X, y, offset)
    m1 = fit_logistic(np.column_stack([X, post]), y, offset)
    m2 = fit_logistic(np.column_stack([X, post, X * post[:, None]]), y, offset)
    lr1, lr2 = max(0.0, 2 * (m1["loglik"] - m0["loglik"])), max(0.0, 2 * (m2["loglik"] - m1["loglik"]))
    return {"label_shift_lr": lr1, "label_shift_p": float(chi2.sf(lr1, 1)),
            "concept_lr": lr2, "concept_p": float(chi2.sf(lr2, X.shape[1])), "df": int(X.shape[1]),
            "intercept_change": float(m1["coef"][-1]), "rows_before": int((~post).sum()), "rows_after": int(post.sum())}


@dataclass(frozen=True)
class DiagnosisSettings:
    """Thresholds of the diagnosis, fixed before looking (as a gate's criteria are)."""

    step_limit: float = 0.25
    """Week-over-week PSI above which a feature changed abruptly (a pipeline change, not a trend)."""
    psi_limit: float = 0.1
    alpha: float = 0.001
    """Significance of the change tests (small: thousands of labels make small departures significant)."""
    alpha_precision: float = 0.01
    """Significance of the precision drop before vs after the onset: a one-df confirmation of a signal
    that already alerted, on a few thousand flags, so less strict than the many-df change test."""
    window: int = 6
    """Weeks before and after an onset used by the change test."""
    precision_drop: float = 0.1
    same_class_p: float = 0.01
    """KS p-value above which the scores within each class count as unchanged (label shift keeps P(X|Y))."""


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def examine(log: "pd.DataFrame", drift: "pd.DataFrame", onset: int, *, design: Callable, as_of: int,
            baseline_precision: float, threshold: float, calendar: "pd.DataFrame | None" = None,
            settings: DiagnosisSettings = DiagnosisSettings(), score_col: str = "score",
            label_col: str = "churned", known_col: str = "label_week", bug_since: int | None = None,
            known_drift: Sequence[str] = ()) -> dict:
    """Classify the change that starts at scored week `onset`, with the evidence a reviewer can check.

    `design(frame)` returns the numeric design matrix of rows (e.g. the deployed model's transformed
    inputs); `log` holds the scored rows with their scores and labels; only labels known by `as_of` are
    used. `bug_since` is the onset of a data bug found earlier and still live: a window that straddles it
    cannot separate the bug from anything else. `known_drift` names inputs whose drift an earlier
    incident already explained as benign (a season still going on): they do not count as new drift here.

    The rules, in order: a step in one feature -> data bug; a window straddling a live bug -> data bug;
    the base rate moved (two-proportion test) while the scores of churners and of stayers kept their
    distributions (KS within each class: P(X|Y) held) -> label shift; P(Y|X) moved (the change test, or a
    significant precision drop while no input drifted) -> concept drift; the base rate moved and P(Y|X)
    moved by a constant log-odds only (the change test's intercept, no slope) -> label shift too: by Bayes'
    rule a change of P(Y) alone does exactly that, and it still holds when a season or a live bug moves the
    inputs (and with them the scores within each class, which defeats the KS check); inputs moved -> benign if the
    model still fits the labels in the new region (the change test), else data drift (a retrain on recent
    data helps). Precision against the baseline is reported, not judged: with a model that still fits, a
    precision change comes from the new mix and a retrain would not bring it back.
    """
    from scipy.stats import ks_2samp

    s = settings
    at = drift[drift["week"] == onset]
    steps = at[at["step_psi"] > s.step_limit].sort_values("step_psi", ascending=False)
    drifted = sorted(set(drift[(drift["week"] >= onset) & (drift["week"] < onset + s.window)
                               & (drift["psi"] > s.psi_limit)]["feature"]))
    new_drift = [f for f in drifted if f not in set(known_drift)]
    event = None
    if calendar is not None and len(calendar):
        near = calendar[(calendar["week"] - onset).abs() <= 1]
        event = None if near.empty else str(near["event"].iloc[0])
    ev = {"onset": int(onset), "step_feature": None if steps.empty else str(steps["feature"].iloc[0]),
          "step_psi": None if steps.empty else float(steps["step_psi"].iloc[0]), "drifted": drifted,
          "calendar_event": event, "label_shift_p": math.nan, "concept_p": math.nan, "intercept_change": math.nan,
          "base_rate_p": math.nan, "class_scores_p": math.nan, "precision_p": math.nan, "bbse_change": math.nan,
          "base_rate_change": math.nan, "bbse_z": math.nan, "bbse_gap_z": math.nan,
          "precision_before": math.nan, "precision_after": math.nan, "labels_after": 0, "continues": None}
    window = log[(log["week"] >= onset - s.window) & (log["week"] < onset + s.window) & (log[known_col] <= as_of)]
    after = window["week"].to_numpy() >= onset
    if after.sum() >= 200 and (~after).sum() >= 200:
        y, score = window[label_col].to_numpy(int), window[score_col].to_numpy(float)
        t = change_test(design(window), y, _logit(score), after)
        ev.update(label_shift_p=t["label_shift_p"], concept_p=t["concept_p"], intercept_change=t["intercept_change"])
        rate = two_proportion_test(int(y[~after].sum()), int((~after).sum()), int(y[after].sum()), int(after.sum()))
        ev["base_rate_p"] = rate.pvalue
        ev["class_scores_p"] = min(float(ks_2samp(score[~after & (y == c)], score[after & (y == c)]).pvalue)
                                   for c in (0, 1))
        ev.update(_bbse(log, onset, s.window, score_col, y[~after], score[~after], rate.diff,
                        math.sqrt(rate.rate_a * (1 - rate.rate_a) / rate.n_a + rate.rate_b * (1 - rate.rate_b) / rate.n_b)))
        flag = score >= threshold
        before_f, after_f = flag & ~after, flag & after
        ev["labels_after"] = int(after_f.sum())
        if before_f.any() and after_f.any() and y[before_f].sum() > 0:
            prec = two_proportion_test(int(y[before_f].sum()), int(before_f.sum()), int(y[after_f].sum()),
                                       int(after_f.sum()))
            ev.update(precision_before=prec.rate_a, precision_after=prec.rate_b,
                      precision_p=prec.pvalue if prec.rate_b < prec.rate_a else 1.0)
    if ev["step_feature"] is not None:
        kind, why = "data_bug", (f"{ev['step_feature']} stepped (PSI {ev['step_psi']:.2f} against the week before) "
                                 f"at week {onset}" + (f", at the event '{event}'" if event else ""))
    elif bug_since is not None and onset - s.window < bug_since <= onset + s.window:
        kind, why = "data_bug", f"starts next to the data bug of week {bug_since}: the bug explains it"
    elif math.isnan(ev["concept_p"]):
        kind, why = "pending", "too few labels yet around the onset: wait for them"
    elif ev["base_rate_p"] < s.alpha and ev["class_scores_p"] > s.same_class_p and ev["bbse_z"] > 3 \
            and abs(ev["bbse_gap_z"]) < 3:
        kind, why = "label_shift", (f"churn rate moved (log-odds {ev['intercept_change']:+.2f} at fixed inputs, "
                                    f"p={ev['base_rate_p']:.1e}) while churners' and stayers' scores kept their "
                                    f"distributions (KS p >= {ev['class_scores_p']:.2f}) and the scores' shift "
                                    f"predicts it ({ev['bbse_change']:+.3f} vs {ev['base_rate_change']:+.3f} seen)")
    elif not new_drift and (ev["concept_p"] < s.alpha or ev["precision_p"] < s.alpha_precision):
        kind, why = "concept_drift", (f"P(Y|X) moved at week {onset}, inputs stable: precision "
                                      f"{ev['precision_before']:.3f} -> {ev['precision_after']:.3f} "
                                      f"(p={ev['precision_p']:.1e}), change test p={ev['concept_p']:.1e}")
    elif ev["base_rate_p"] < s.alpha and ev["label_shift_p"] < s.alpha and not ev["concept_p"] < s.alpha:
        moved = f"; the scores within each class moved with the inputs {drifted}" if drifted else ""
        kind, why = "label_shift", (f"churn rate moved (p={ev['base_rate_p']:.1e}) and P(Y|X) moved by one constant: "
                                    f"log-odds {ev['intercept_change']:+.2f} at fixed inputs (p={ev['label_shift_p']:.1e}) "
                                    f"with no change of the slopes (p={ev['concept_p']:.2f}): what a change of P(Y) "
                                    f"alone does, by Bayes' rule" + moved)
    elif new_drift:
        fits = not ev["concept_p"] < s.alpha
        kind = "benign" if fits else "data_drift"
        why = (f"inputs {drifted} moved and the model {'still fits' if fits else 'no longer fits'} the labels "
               f"there (change test p={ev['concept_p']:.1e}); precision {ev['precision_after']:.3f} against the "
               f"baseline {baseline_precision:.3f}" + ("" if fits else ": retrain on recent data"))
    else:
        kind, why = "benign", "no input moved and the labels agree with the model: noise"
    ev.update(kind=kind, why=why)
    return ev


def _bbse(log, onset, window, score_col, y_before, s_before, seen, seen_se) -> dict:
    """Black-box shift estimation with soft scores (after Lipton, Wang and Smola, ICML 2018): under label
    shift E[score | y] stays, so the change of the mean score over ALL rows (labelled or not) predicts the
    change of the churn rate: d_rate = d_mean_score / (E[s|1] - E[s|0]). Concept drift leaves P(X), and so
    the mean score, where it was; a change of P(X) alone moves the score by about the rate, not by it
    divided by the separation. Returns the predicted change, its z against 0, and its gap z to the seen one."""
    rows = log[(log["week"] >= onset - window) & (log["week"] < onset + window)]
    cur = rows["week"].to_numpy() >= onset
    sc = rows[score_col].to_numpy(float)
    sep = float(s_before[y_before == 1].mean() - s_before[y_before == 0].mean())
    if not cur.any() or cur.all() or sep <= 0:
        return {}
    change = (sc[cur].mean() - sc[~cur].mean()) / sep
    se = math.sqrt(sc[cur].var() / cur.sum() + sc[~cur].var() / (~cur).sum()) / sep
    return {"bbse_change": float(change), "base_rate_change": float(seen), "bbse_z": abs(change) / se,
            "bbse_gap_z": float((seen - change) / math.sqrt(se ** 2 + seen_se ** 2))}


def onsets(timeline: "pd.DataFrame", *, consecutive: int, label_delay: int, window: int = 1) -> list[dict]:
    """The scored week at which each alert signal's run began: a drift run's first breach week; a
    performance or base-rate run's first breach moved back by the label delay (to the week scored) and
    to the start of the pooled `window` of scored weeks."""
    out = []
    for signal, breach, alert, delay in (("drift", "psi_breach", "psi_alert", 0),
                                         ("performance", "perf_breach", "perf_alert", label_delay + window - 1),
                                         ("base_rate", "rate_breach", "rate_alert", label_delay + window - 1)):
        if alert not in timeline:
            continue
        on = timeline[alert].to_numpy(bool)
        for i in np.flatnonzero(on & ~np.concatenate([[False], on[:-1]])):
            week = int(timeline["week"].iloc[i]) - (consecutive - 1) - delay
            out.append({"signal": signal, "alert_week": int(timeline["week"].iloc[i]), "onset": week})
    return sorted(out, key=lambda r: (r["onset"], r["signal"]))


def diagnose(log: "pd.DataFrame", drift: "pd.DataFrame", timeline: "pd.DataFrame", *, design: Callable,
             as_of: int, baseline_precision: float, threshold: float, consecutive: int, label_delay: int,
             window: int = 1, calendar: "pd.DataFrame | None" = None, settings: DiagnosisSettings = DiagnosisSettings(),
             **columns) -> "pd.DataFrame":
    """Every alert signal's onset, examined: one row per signal with its kind, reason and evidence.

    A performance alert whose onset shows no new change while precision is still below the floor, after an
    earlier concept drift, label shift or data drift that nothing remediated (the log is one model's), is
    that earlier incident still in effect: it gets the earlier kind and `continues` = the earlier onset.
    """
    import pandas as pd

    rows, bug_since, open_incident, benign_inputs = [], None, None, set()
    floor = baseline_precision * (1 - settings.precision_drop)
    signals = onsets(timeline, consecutive=consecutive, label_delay=label_delay, window=window)
    # a step in one input while the drift alert is already on (a broken deploy during a season) is a change
    # of its own: it gets an onset although no new drift run starts there
    drift_onsets = [r["onset"] for r in signals if r["signal"] == "drift"]
    alerting = timeline.set_index("week")["psi_alert"] if "psi_alert" in timeline else {}
    for week in sorted(drift.loc[drift["step_psi"] > settings.step_limit, "week"].unique()):
        if bool(alerting.get(week, False)) and all(abs(int(week) - o) > 1 for o in drift_onsets):
            signals.append({"signal": "drift", "alert_week": int(week), "onset": int(week)})
            drift_onsets.append(int(week))
    signals.sort(key=lambda r: (r["onset"], r["signal"]))
    for sig in signals:
        ev = examine(log, drift, sig["onset"], design=design, as_of=as_of, baseline_precision=baseline_precision,
                     threshold=threshold, calendar=calendar, settings=settings, bug_since=bug_since,
                     known_drift=sorted(benign_inputs), **columns)
        if ev["kind"] == "benign":
            benign_inputs.update(ev["drifted"])
        if ev["kind"] == "data_bug" and bug_since is None:
            bug_since = sig["onset"]
        # No new change at this onset, but precision is still below the floor while an earlier incident
        # was never remediated (the same model scored on): the earlier incident is still in effect, a
        # re-alert of it, not noise.
        if (ev["kind"] == "benign" and open_incident is not None and not ev["drifted"]
                and ev["step_feature"] is None and sig["signal"] == "performance"
                and ev["precision_after"] < floor):
            first = open_incident
            ev.update(kind=first["kind"], continues=first["onset"],
                      why=f"no new change at week {sig['onset']} (change test p={ev['concept_p']:.2f}), but precision "
                          f"{ev['precision_after']:.3f} is still below {floor:.3f}: the {first['kind']} that began in "
                          f"week {first['onset']} is still in effect (the model that scores was not replaced)")
        elif ev["kind"] in ("concept_drift", "label_shift", "data_drift") and open_incident is None:
            open_incident = {"kind": ev["kind"], "onset": sig["onset"]}
        rows.append({**sig, **ev})
    cols = ["signal", "alert_week", "onset", "kind", "continues", "why", "step_feature", "drifted", "calendar_event", "label_shift_p",
            "concept_p", "base_rate_p", "class_scores_p", "intercept_change", "precision_before",
            "precision_after", "precision_p", "labels_after"]
    return pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame(columns=cols)


def incident_kinds(diagnosis: "pd.DataFrame", exclude: Sequence[str] = ("pending",)) -> set[str]:
    """The set of kinds found (what a test compares with the world's truth)."""
    return set(diagnosis["kind"]) - set(exclude)
