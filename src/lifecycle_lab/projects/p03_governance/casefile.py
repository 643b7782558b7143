"""Notebook 03's case file: the evidence, the two model cards and the incident report, assembled from what the
notebook computed. The notebook's cells call these; their tests check the documents against the evidence.

Why here and not in the toolkit: the wording (who owns the model, which sections cite which section of the
notebook) belongs to this case; the generic parts (the card's nine sections, the incident report's fields,
the risk rubric) are in `lifecycle_lab.governance`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Mapping, Sequence

from lifecycle_lab.evaluation.costs import Costs
from lifecycle_lab.governance import incident, modelcard, risk
from lifecycle_lab.projects.p03_governance import world as tx
from lifecycle_lab.projects.p03_governance.world import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

CONTACT = "model risk office, model-risk@bank.example"
EXPLANATIONS = "exact SHAP values in log-odds for every decision, with reason codes (section 4)"


MIN_EVAL_ROWS = 1000
"""Labelled rows the evaluation window should hold; with fewer (credit labels arrive late) it is widened."""


def windows(world: "pd.DataFrame", months: int) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """The evaluation window (the last three months' labelled rows, six when fewer than MIN_EVAL_ROWS labels
    have arrived: credit labels come late) and the fitting window (the labelled months before it, up to nine
    months back): what the replacement is trained on and every document is evaluated on."""
    eval_window = world[world.label_known & (world.month > months - 3)]
    if len(eval_window) < MIN_EVAL_ROWS:
        eval_window = world[world.label_known & (world.month > months - 6)]
    fit_window = world[world.label_known & (world.month > months - 9) & (world.month < eval_window.month.min())]
    return eval_window, fit_window


# -- the evidence of the risk assessment ------------------------------------------------------------------

def risk_evidence(*, variant: str, human_review: bool, concept_onset: int | None, detection_lag: int | None,
                  cost_per_decision: float, baseline_per_1k: float, share_drifted: float,
                  volume_per_year: float) -> dict:
    """The facts the risk rubric scores (`governance.risk.score_elements`), rounded as a person reads them
    (a relative change to 4 decimals, a share to 4, a yearly amount to the euro)."""
    if not (isinstance(baseline_per_1k, (int, float)) and math.isfinite(baseline_per_1k) and baseline_per_1k > 0):
        raise ScenarioError(f"the baseline cost of months 1-3 is {baseline_per_1k!r}: no labelled decisions to compare "
                            f"with; use more months or another seed")
    return {"concept_drift": concept_onset is not None, "legacy_architecture": True,
            "detection_lag_months": detection_lag, "inputs_monitored": True,
            "cost_increase": round(1000 * float(cost_per_decision) / baseline_per_1k - 1, 4),
            "share_drifted": round(float(share_drifted), 4), "variant": variant, "human_review": bool(human_review),
            "annual_error_cost": round(float(cost_per_decision) * volume_per_year)}


# -- the model cards ---------------------------------------------------------------------------------------

def card_common(entry: risk.InventoryEntry, *, variant: str, months: int, human_review: bool,
                eval_window: "pd.DataFrame", factor: str) -> dict:
    """The sections both cards share: intended use, factors and the evaluation data (the same rows)."""
    return {
        "intended_use": {"primary use": entry.purpose, "primary users": entry.users, "out of scope": entry.restrictions,
                         "human oversight": "every flagged case is reviewed by a person who can override it"
                         if human_review else "none: decisions are fully automated"},
        "factors": {"groups": "age band " + ", ".join(tx.AGE_BANDS) + " (not a model input)",
                    "instrumentation": f"{factor} (intersections table)",
                    "environment": f"{variant} decisions, months 1-{months}"},
        "evaluation_data": {"window": f"months {eval_window.month.min()}-{eval_window.month.max()} (labels known)",
                            "rows": len(eval_window), "base rate": float(eval_window.label.mean())}}


def mitigation_note(plain: Mapping, reweighed: Mapping, cost_change: float, adopted: bool) -> str:
    """What the fairness section decided about reweighing, for the ethical considerations of both cards."""
    return (f"reweighing in training (age used only while fitting) moves the equalized-odds difference of the "
            f"replacement from {plain['eo_difference']:.3f} to {reweighed['eo_difference']:.3f} at {cost_change:+.1%} "
            f"cost: " + ("adopt before go-live, pending legal review" if adopted else "not adopted"))


def _quantitative(q: Mapping, keys: Sequence[str]) -> dict:
    return {k: q[k] for k in keys}


def legacy_card_evidence(common: Mapping, entry: risk.InventoryEntry, *, quantitative: Mapping, metrics: Mapping,
                         variant: str, months: int, inputs: Sequence[str], threshold: float, train: "pd.DataFrame",
                         log_retention_months: int, log_complete: bool, parity: Mapping, four_fifths_flagged,
                         note: str, cost_increase: float, concept_onset: int | None) -> dict:
    """The legacy model's card: its Metrics section is the learner's answer to exercise 3 (`metrics`)."""
    flagged = list(four_fifths_flagged)
    details = {"name": entry.name, "id": entry.model_id, "version": "1.0 (GA month 1)", "owner": entry.owner,
               "type": "logistic regression on scaled numerics and one-hot categoricals", "date": f"month {months}",
               "license": "proprietary, internal use only", "contact": CONTACT, "inputs": ", ".join(inputs),
               "expected life": entry.expected_life, "explanations": EXPLANATIONS}
    if log_complete:
        details["decision log"] = (f"decision_log.csv.gz: one row per decision with inputs, score, threshold and "
                                   f"model version; kept {log_retention_months} months")
    return {
        **common, **_quantitative(quantitative, ("uncertainty", "uncertainty_note", "by_group", "intersections",
                                                 "parity")),
        "model_details": details,
        "metrics": {modelcard.METRIC_LABELS[k]: float(metrics[k]) for k in modelcard.METRIC_LABELS},
        "thresholds": {"operating threshold": threshold, "chosen by": "lowest expected cost on the training month"},
        "training_data": {"window": "month 0", "rows": len(train), "base rate": float(train.label.mean())},
        "ethical": [f"age band is not an input, yet flag rates differ by {parity['demographic_parity_difference']:.3f} "
                    f"(demographic parity difference) through proxies such as tenure or credit history",
                    f"four-fifths screen (heuristic): {'flags ' + ', '.join(flagged) if flagged else 'no group flagged'}",
                    "ThresholdOptimizer would use age at decision time: rejected"
                    + (" (disparate treatment under ECOA / Reg B)" if variant == "credit" else ""), note],
        "caveats": [f"performance degraded: expected cost up {cost_increase:.0%} against months 1-3",
                    f"concept drift from month {concept_onset}; the design cannot represent the new pattern"
                    if concept_onset is not None else "no concept drift found; inputs drifted",
                    "labels arrive late: the last months are partly unlabelled",
                    "no plan of pre-determined changes: any change needs a new validation"]}


def replacement_card_evidence(common: Mapping, entry: risk.InventoryEntry, *, quantitative: Mapping, variant: str,
                              months: int, inputs: Sequence[str], costs: Costs, fit_window: "pd.DataFrame",
                              legacy_parity: Mapping, note: str) -> dict:
    """The proposed replacement's card, on the same evaluation rows, at its operating threshold p*."""
    return {
        **common, **_quantitative(quantitative, ("metrics", "uncertainty", "uncertainty_note", "by_group",
                                                 "intersections", "parity")),
        "model_details": {"name": f"replacement {variant} model", "id": f"{variant.upper()}-NEXT-01",
                          "version": "2.0 (candidate)", "owner": entry.owner,
                          "type": "logistic regression on log-spline terms of numerics and one-hot categoricals "
                                  "(additive, exactly explainable)", "date": f"month {months}",
                          "license": "proprietary, internal use only", "contact": CONTACT, "inputs": ", ".join(inputs),
                          "expected life": "3 years, retrained yearly", "explanations": EXPLANATIONS,
                          "pre-determined changes": "yearly retraining on the latest labelled months with the same "
                                                    "inputs, design and threshold rule; any other change is revalidated",
                          "decision log": "the same fields as the legacy log, from the first shadow day"},
        "thresholds": {"operating threshold": costs.p_star,
                       "chosen by": "p* = (c_FP + c_review) / (c_FP + c_FN) (section 7)"},
        "training_data": {"window": f"months {fit_window.month.min()}-{fit_window.month.max()} (labels known)",
                          "rows": len(fit_window), "base rate": float(fit_window.label.mean())},
        "ethical": [f"demographic parity difference {quantitative['parity']['demographic_parity_difference']:.3f} "
                    f"against {legacy_parity['demographic_parity_difference']:.3f} for the legacy model", note],
        "caveats": ["validated on the months after its training window only; the canary and the label-free guard of "
                    "section 8 watch it in production", "new patterns will come: the yearly retraining is part of its "
                    "cost"]}


# -- the incident report -----------------------------------------------------------------------------------

def assess_incident(*, variant: str, cost_increase: float, monthly: "pd.DataFrame", baseline_per_1k: float,
                    data_onset: int | None, concept_onset: int | None, volume_per_year: float,
                    equalized_odds_difference: float, four_fifths_flagged) -> dict:
    """Was the degradation an incident, what caused it, what did it cost (at the production volume), and does
    AI Act Art 73 apply? The excess cost is counted from the onset of the cause (concept drift, else the first
    input drift, else month 1)."""
    degraded = incident.is_incident(cost_increase)
    start = concept_onset if concept_onset is not None else (data_onset or 1)
    impact = incident.excess_cost(monthly, baseline_per_1k, from_month=start, volume_per_month=volume_per_year / 12)
    if not degraded:
        impact = dict(impact, total=0.0)
    rights = incident.rights_breach_suspected(variant, equalized_odds_difference=equalized_odds_difference,
                                              four_fifths_flagged=four_fifths_flagged)
    return {"degraded": degraded, "start": start, "impact": impact,
            "root_cause": incident.classify_root_cause(data_onset=data_onset, concept_onset=concept_onset,
                                                       degraded=degraded),
            "art73": incident.art73_assessment(variant, rights_breach_suspected=rights, incident=degraded)}


def _rollback_text(rollback: Mapping, *, window_days: int, weeks_of_full_traffic: float, label_delay_days: int) -> str:
    if not rollback["rolled_back"]:
        return "the guard did not fire in the replay: rehearse before go-live"
    return (f"no earlier version to return to: the month-0 model is the one that degraded, so the remedy is the "
            f"migration of section 8. In its replay the label-free guard returned all traffic to the warm legacy model "
            f"{rollback['days']} days after a fault ({rollback['windows']} windows of {window_days} day(s), "
            f"{rollback['served_while_broken']:,} decisions served by the faulty model); a 5% outcome trigger would "
            f"need {weeks_of_full_traffic:.0f} weeks of full traffic plus a mean label delay of {label_delay_days} days")


def _actions(degraded: bool, last_ramp_week: int) -> list[tuple[str, str, str]]:
    if not degraded:
        return [("keep the monthly outcome and P(Y|X) monitors running", "ML engineering", "monthly"),
                ("review again at the next scheduled validation", "model risk", "next validation")]
    return [("freeze legacy model changes", "model owner", "now"),
            ("close AI Act gaps marked 'not met' in section 10", "compliance officer", "before canary"),
            ("validate replacement independently", "model risk", "week 1"),
            ("add the P(Y|X) score test to the monthly monitors", "ML engineering", "week 2"),
            ("run shadow and canary with the label-free guard armed", "ML engineering", f"weeks 2-{last_ramp_week}")]


def incident_report(assessment: Mapping, *, entry: risk.InventoryEntry, variant: str, months: int,
                    cost_increase: float, data_onset: int | None, concept_onset: int | None, detected: int | None,
                    detection_lag: int | None, share_drifted: float, volume_per_year: float, rollback: Mapping,
                    window_days: int, weeks_of_full_traffic: float, last_ramp_week: int) -> incident.IncidentReport:
    """The incident report (or, when nothing breached, the record of the review), every field from the evidence."""
    degraded, impact, start = assessment["degraded"], assessment["impact"], assessment["start"]
    monitor = ("monthly score test of P(Y|X) on arrived labels (calibration monitor)" if detected is not None
               else "monthly expected-cost report (outcomes)")
    if data_onset is not None:
        monitor += "; the input-drift monitor had alerted earlier without a performance signal"
    impact_note = (f"excess over the months 1-3 cost rate, at {volume_per_year:,.0f} decisions a year "
                   f"({volume_per_year / 12:,.0f} a month, the business case's volume); {impact['months_costed']} months "
                   f"costed from month {start}; {impact['months_without_labels']} months without labels yet not "
                   f"included" if degraded else "no excess cost: outcomes inside the breach level")
    cause = (f"score test z > 3 from month {concept_onset}" if concept_onset is not None
             else "score test quiet: P(Y|X) did not move") + f"; Evidently share drifted {share_drifted:.0%}"
    return incident.IncidentReport(
        title=f"{variant} model degradation" if degraded else f"{variant} model, month {months} review",
        model_id=entry.model_id, variant=variant, status="incident" if degraded else "no incident",
        summary=f"Expected cost per decision {'rose' if degraded else 'changed'} {cost_increase:+.0%} against months "
                f"1-3 ({'above' if degraded else 'inside'} the {incident.BREACH:.0%} breach level).",
        timeline=incident.build_timeline(months=months, data_onset=data_onset, concept_onset=concept_onset,
                                         detected=detected, incident=degraded),
        detected_by=monitor, detection_lag_months=detection_lag, impact_eur=round(impact["total"], 2),
        impact_note=impact_note, root_cause=assessment["root_cause"], root_cause_evidence=cause,
        time_to_rollback=_rollback_text(rollback, window_days=window_days, weeks_of_full_traffic=weeks_of_full_traffic,
                                        label_delay_days=tx.LABEL_DELAY_DAYS[variant]),
        art73=assessment["art73"], actions=_actions(degraded, last_ramp_week))
