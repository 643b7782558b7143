"""EU AI Act (Regulation 2024/1689) checklist for the two variants, each duty marked from the evidence.

Why the variants differ: Annex III point 5(b) lists AI systems that evaluate the creditworthiness of
natural persons or establish their credit score as high-risk, "with the exception of AI systems used for
the purpose of detecting financial fraud". So the credit model carries the high-risk duties below and the
fraud model does not (they remain good practice, and other regimes may apply). This module states what
applies and marks each duty met / partly / not met with the evidence that decides it. It is a teaching
aid, not legal advice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from . import GovernanceError, check_variant

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

STATUSES = ("met", "partly", "not met")
LOG_RETENTION_MONTHS = 6  # Art 19(1) / 26(6): logs kept at least six months
SERIOUS_INCIDENT_DAYS = 15  # Art 73(2): report not later than 15 days after becoming aware

EVIDENCE_KEYS = {
    "risk_assessment": "a documented model risk assessment exists (bool)",
    "continuous_risk_process": "risks are re-assessed on events over the lifecycle (bool)",
    "drift_analysis": "input and concept drift were analysed (bool)",
    "fairness_audit": "error rates and outcomes were compared across groups (bool)",
    "model_card": "a model card documents the model (bool)",
    "technical_documentation": "full Annex IV technical documentation exists (bool)",
    "event_logging": "each decision is logged automatically with inputs, output, version (bool)",
    "human_review": "flagged cases go to a person who can override (bool)",
    "accuracy_maintained": "the declared accuracy is still achieved (bool)",
    "qms": "a quality management system covers the model (bool)",
    "log_retention_months": "how long decision logs are kept (months)",
    "fria_done": "a fundamental-rights impact assessment was done (bool)",
    "monitoring_lag_months": "months from a problem's onset to its detection (number, None = not detected)",
    "incident_process": "an incident report with owners exists (bool)",
    "authority_reporting": "a procedure to notify the market-surveillance authority exists (bool)",
    "per_decision_explanations": "exact per-decision explanations are produced (bool)",
    "reason_codes": "principal reasons are given to affected persons (bool)",
}


def ai_act_tier(variant: str) -> dict:
    """The risk tier of the variant under the AI Act, and why."""
    check_variant(variant)
    if variant == "credit":
        return {"tier": "high-risk", "basis": "Art 6(2) + Annex III point 5(b): evaluating the "
                "creditworthiness of natural persons or establishing their credit score", "high_risk": True}
    return {"tier": "minimal risk (not high-risk)", "basis": "Annex III point 5(b) excepts AI systems used "
            "to detect financial fraud; no Art 50 transparency duty applies to a back-office fraud score",
            "high_risk": False}


def _status(ok: bool, partial: bool = False) -> str:
    return "met" if ok else ("partly" if partial else "not met")


def checklist(variant: str, evidence: Mapping) -> "pd.DataFrame":
    """One row per duty: article, duty, required for this variant?, status, the evidence behind it."""
    import pandas as pd

    check_variant(variant)
    missing = sorted(set(EVIDENCE_KEYS) - set(evidence))
    if missing:
        raise GovernanceError(f"regulatory evidence is missing {missing}; see regulation.EVIDENCE_KEYS")
    e = dict(evidence)
    retention = e["log_retention_months"]
    if isinstance(retention, bool) or not isinstance(retention, (int, float)) or retention < 0:
        raise GovernanceError(f"log_retention_months={retention!r} must be a non-negative number of months")
    high = ai_act_tier(variant)["high_risk"]
    lag = e["monitoring_lag_months"]
    rows = [
        ("Art 9", "risk management system over the whole lifecycle",
         _status(e["risk_assessment"] and e["continuous_risk_process"], e["risk_assessment"]),
         "SR 11-7-style assessment in section 2" + ("; event-driven revalidation defined"
                                                    if e["continuous_risk_process"] else
                                                    "; a one-off assessment, not yet a continuous process")),
        ("Art 10", "data and data governance (relevance, representativeness, bias examination)",
         _status(e["drift_analysis"] and e["fairness_audit"], e["drift_analysis"] or e["fairness_audit"]),
         "drift diagnosis (section 1)" + (" and group audit (section 5)" if e["fairness_audit"] else "")),
        ("Art 11 + Annex IV", "technical documentation",
         _status(e["model_card"] and e["technical_documentation"], e["model_card"]),
         "model card (section 6)" + ("" if e["technical_documentation"] else "; Annex IV items such as the "
                                     "design choices, validation procedures and change log still missing")),
        ("Art 12", "automatic recording of events (logs)", _status(e["event_logging"]),
         "per-decision log with inputs, score, version" if e["event_logging"] else "no per-decision log"),
        ("Art 13", "transparency and instructions for use for deployers", _status(False, e["model_card"]),
         "intended use and limitations are in the model card; no instructions for use yet"),
        ("Art 14", "human oversight", _status(e["human_review"] and e["per_decision_explanations"],
                                              e["human_review"]),
         "every flag is reviewed by a person" if e["human_review"] else "decisions are fully automated"),
        ("Art 15", "accuracy, robustness and cybersecurity", _status(e["accuracy_maintained"]),
         "declared accuracy still achieved" if e["accuracy_maintained"] else
         "monthly outcomes (section 1) show the declared accuracy is no longer achieved"),
        ("Art 17", "quality management system (provider)", _status(e["qms"]),
         "QMS in place" if e["qms"] else "no QMS covers this model"),
        ("Art 19 / 26(6)", f"logs kept at least {LOG_RETENTION_MONTHS} months",
         _status(retention >= LOG_RETENTION_MONTHS, 0 < retention < LOG_RETENTION_MONTHS),
         f"decision logs kept {retention:g} months"),
        ("Art 27", "fundamental-rights impact assessment before use (deployers of credit scoring)",
         _status(e["fria_done"]), "FRIA done" if e["fria_done"] else "no FRIA on file"),
        ("Art 72", "post-market monitoring system and plan",
         _status(lag is not None and lag <= 1, lag is not None),
         "drift detected " + (f"{lag:g} month(s) after onset" if lag is not None else "by no monitor")),
        ("Art 73", f"report serious incidents within {SERIOUS_INCIDENT_DAYS} days",
         _status(e["incident_process"] and e["authority_reporting"], e["incident_process"]),
         "incident report (section 9)" + ("" if e["authority_reporting"] else
                                          "; no procedure yet to notify the authority")),
        ("Art 86", "right to an explanation of an individual decision",
         _status(e["per_decision_explanations"] and e["reason_codes"], e["per_decision_explanations"]),
         "exact per-decision attributions (section 4)" + ("; reason codes" if e["reason_codes"] else "")),
    ]
    table = pd.DataFrame(rows, columns=["article", "duty", "status", "evidence"])
    required = [high] * len(rows)
    if high:
        required[9] = variant == "credit"  # Art 27 applies to deployers of Annex III 5(b) credit scoring
    table.insert(2, "required", required)
    return table


def summary(table: "pd.DataFrame") -> dict:
    """Counts of met / partly / not met among the duties that are required."""
    req = table[table["required"]]
    return {s: int((req["status"] == s).sum()) for s in STATUSES} | {"required": int(len(req))}


def to_markdown(table: "pd.DataFrame", variant: str) -> str:
    """The checklist as a markdown table headed by the tier and its legal basis."""
    info = ai_act_tier(variant)
    lines = [f"**EU AI Act tier ({variant}):** {info['tier']} - {info['basis']}.", "",
             "| article | duty | required | status | evidence |", "|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.article} | {r.duty} | {'yes' if r.required else 'voluntary'} | {r.status} | "
                     f"{r.evidence} |")
    return "\n".join(lines)
