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

from lifecycle_lab.governance import GovernanceError, check_variant

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
    "technical_documentation": "Annex IV items not on file (list; [] = complete), see `annex_iv_missing`",
    "event_logging": "the decision-log check of `check_decision_log` (dict), or a bool",
    "human_review": "flagged cases go to a person who can override (bool)",
    "accuracy_maintained": "the declared accuracy is still achieved (bool)",
    "qms": "a quality management system covers the model (bool, declared by the organisation)",
    "log_retention_months": "how long decision logs are kept (months, declared)",
    "fria_done": "a fundamental-rights impact assessment was done (bool, declared)",
    "monitoring_lag_months": "months from a problem's onset to its detection (number, None = not detected)",
    "incident_process": "an incident report with owners exists (bool)",
    "authority_reporting": "a procedure to notify the market-surveillance authority exists (bool, declared)",
    "per_decision_explanations": "exact per-decision explanations are produced (bool)",
    "reason_codes": "principal reasons are given to affected persons (bool)",
    "instructions_for_use": "Art 13(3) items the documents do not cover (list; [] = all), see `art13_missing`",
}

DUTIES = {
    "Art 9": "risk management system over the whole lifecycle",
    "Art 10": "data and data governance (relevance, representativeness, bias examination)",
    "Art 11 + Annex IV": "technical documentation",
    "Art 12": "automatic recording of events (logs)",
    "Art 13": "transparency and instructions for use for deployers",
    "Art 14": "human oversight",
    "Art 15": "accuracy, robustness and cybersecurity",
    "Art 17": "quality management system",
    "Art 19 / 26(6)": f"logs kept at least {LOG_RETENTION_MONTHS} months",
    "Art 27": "fundamental-rights impact assessment before use (deployers of credit scoring)",
    "Art 72": "post-market monitoring system and plan",
    "Art 73": f"report serious incidents within {SERIOUS_INCIDENT_DAYS} days",
    "Art 86": "right to an explanation of an individual decision",
}

# Who owes each duty. A firm that builds its model in-house and uses it holds both roles; after a sunset to
# a vendor, the vendor becomes the provider and the firm keeps the deployer's duties.
ROLES = {"Art 9": "provider", "Art 10": "provider", "Art 11 + Annex IV": "provider", "Art 12": "provider",
         "Art 13": "provider", "Art 14": "provider + deployer", "Art 15": "provider", "Art 17": "provider",
         "Art 19 / 26(6)": "provider + deployer", "Art 27": "deployer", "Art 72": "provider",
         "Art 73": "provider", "Art 86": "deployer"}

# The items of Art 13(3) that instructions for use must contain, and the text that shows a generated
# document covers each (the headings and fields `modelcard.model_card` writes).
ART13_ITEMS = {
    "13(3)(a) identity and contact details of the provider": "**contact:**",
    "13(3)(b)(i) intended purpose": "## 2. Intended use",
    "13(3)(b)(ii) level of accuracy and the metrics behind it": "## 4. Metrics",
    "13(3)(b)(iii) known circumstances that may lead to risks": "## 8. Ethical considerations",
    "13(3)(b)(iv) capabilities to explain the output": "**explanations:**",
    "13(3)(b)(v) performance for the groups it is used on": "## 7. Quantitative analyses",
    "13(3)(b)(vi) specifications of the input data": "**inputs:**",
    "13(3)(c) pre-determined changes to the system and its performance": "**pre-determined changes:**",
    "13(3)(d) human oversight measures": "**human oversight:**",
    "13(3)(e) expected lifetime and maintenance": "**expected life:**",
    "13(3)(f) how to collect, store and interpret the logs": "**decision log:**",
}

# Annex IV items of technical documentation, and the file on disk that holds each.
ANNEX_IV_ITEMS = {
    "general description of the system": "model_card_legacy.md",
    "data requirements and datasheet of the training data": "datasheet.md",
    "design choices, architecture and validation procedures": "validation_report.md",
    "risk management": "risk_assessment.md",
    "monitoring, functioning and control (drift, outcomes)": "monthly_performance.csv",
    "changes made over the lifecycle": "change_log.md",
    "post-market monitoring plan and incidents": "incident_report.md",
}

LOG_COLUMNS = ("decision_id", "day", "model_id", "model_version", "score", "threshold", "decision")


def art13_missing(documents: Mapping[str, str]) -> list[str]:
    """The Art 13(3) items that none of the generated documents covers (by the markers of ART13_ITEMS)."""
    text = "\n".join(documents.values())
    return [item for item, marker in ART13_ITEMS.items() if marker not in text]


def annex_iv_missing(folder) -> list[str]:
    """The Annex IV items whose document is not on file in `folder` (see ANNEX_IV_ITEMS)."""
    from pathlib import Path

    folder = Path(folder)
    if not folder.is_dir():
        raise GovernanceError(f"{folder} is not a folder: give the folder the documents were written to")
    return [item for item, name in ANNEX_IV_ITEMS.items() if not (folder / name).is_file()]


def check_decision_log(log: "pd.DataFrame", *, inputs, expected_ids) -> dict:
    """Is every decision logged with its inputs, score, threshold, model version and time (Art 12)?

    Why a check: 'we log decisions' is a claim; a log with a missing column, a missing decision or blank
    cells cannot reconstruct what the system did. Returns complete (bool), rows, missing_columns,
    missing_decisions (count of `expected_ids` absent from the log) and blank_cells.
    """
    need = list(LOG_COLUMNS) + list(inputs)
    missing_cols = [c for c in need if c not in log.columns]
    ids = set(log["decision_id"]) if "decision_id" in log.columns else set()
    expected = set(expected_ids)
    missing_ids = len(expected - ids)
    present = [c for c in need if c in log.columns]
    blanks = int(log[present].isna().sum().sum()) if present else 0
    return {"complete": not missing_cols and missing_ids == 0 and blanks == 0 and len(expected) > 0,
            "rows": int(len(log)), "missing_columns": missing_cols, "missing_decisions": missing_ids,
            "blank_cells": blanks}


def ai_act_tier(variant: str) -> dict:
    """The risk tier of the variant under the AI Act, and why."""
    check_variant(variant)
    if variant == "credit":
        return {"tier": "high-risk", "basis": "Art 6(2) + Annex III point 5(b): evaluating the "
                "creditworthiness of natural persons or establishing their credit score", "high_risk": True}
    return {"tier": "minimal risk (not high-risk)", "basis": "Annex III point 5(b) excepts AI systems used "
            "to detect financial fraud; no Art 50 transparency duty applies to a back-office fraud score",
            "high_risk": False}


def duties(variant: str) -> "pd.DataFrame":
    """The duties, whether each is required for this variant and who owes it, before any evidence."""
    import pandas as pd

    high = ai_act_tier(variant)["high_risk"]
    # Art 27 binds deployers of Annex III 5(b) credit scoring; the rest binds every high-risk system
    rows = [(a, d, high and (a != "Art 27" or variant == "credit"), ROLES[a]) for a, d in DUTIES.items()]
    return pd.DataFrame(rows, columns=["article", "duty", "required", "role"])


def _status(ok: bool, partial: bool = False) -> str:
    return "met" if ok else ("partly" if partial else "not met")


def checklist(variant: str, evidence: Mapping) -> "pd.DataFrame":
    """One row per duty: article, duty, required for this variant?, role (provider / deployer), status, the
    evidence behind it. Evidence marked 'declared' is an organisational fact the notebook cannot compute."""

    check_variant(variant)
    missing = sorted(set(EVIDENCE_KEYS) - set(evidence))
    if missing:
        raise GovernanceError(f"regulatory evidence is missing {missing}; see regulation.EVIDENCE_KEYS")
    e = dict(evidence)
    retention = e["log_retention_months"]
    if isinstance(retention, bool) or not isinstance(retention, (int, float)) or retention < 0:
        raise GovernanceError(f"log_retention_months={retention!r} must be a non-negative number of months")
    for key in ("technical_documentation", "instructions_for_use"):
        if isinstance(e[key], (str, bytes)) or not hasattr(e[key], "__iter__"):
            raise GovernanceError(f"{key} must be the list of items missing ([] when complete); see "
                                  f"{'annex_iv_missing' if key == 'technical_documentation' else 'art13_missing'}")
    log = e["event_logging"]
    if isinstance(log, Mapping):
        logged = bool(log.get("complete"))
        log_text = (f"decision log checked: {log.get('rows', 0):,} rows, every decision with inputs, score, threshold "
                    f"and model version" if logged else
                    f"decision log incomplete: missing columns {log.get('missing_columns')}, "
                    f"{log.get('missing_decisions')} decisions absent, {log.get('blank_cells')} blank cells")
    else:
        logged = bool(log)
        log_text = "per-decision log declared" if logged else "no per-decision log"
    annex, art13 = list(e["technical_documentation"]), list(e["instructions_for_use"])
    lag = e["monitoring_lag_months"]
    rows = [
        ("Art 9", _status(e["risk_assessment"] and e["continuous_risk_process"], e["risk_assessment"]),
         "SR 11-7-style assessment in section 2" + ("; event-driven revalidation defined"
                                                    if e["continuous_risk_process"] else
                                                    "; a one-off assessment, not yet a continuous process")),
        ("Art 10", _status(e["drift_analysis"] and e["fairness_audit"], e["drift_analysis"] or e["fairness_audit"]),
         "drift diagnosis (section 1)" + (" and group audit (section 5)" if e["fairness_audit"] else "")),
        ("Art 11 + Annex IV", _status(e["model_card"] and not annex, e["model_card"]),
         "model card (section 6)" + ("; all Annex IV items on file" if not annex else
                                     "; not on file: " + "; ".join(annex))),
        ("Art 12", _status(logged), log_text),
        ("Art 13", _status(e["model_card"] and not art13, e["model_card"]),
         "the model card covers the items of Art 13(3)" if not art13 else
         "the model card covers part of Art 13(3); missing: " + "; ".join(art13)),
        ("Art 14", _status(e["human_review"] and e["per_decision_explanations"], e["human_review"]),
         ("every flag is reviewed by a person" if e["human_review"] else "decisions are fully automated") +
         ("; the reviewer sees the decision's exact attributions" if e["per_decision_explanations"] else "")),
        ("Art 15", _status(e["accuracy_maintained"]),
         "declared accuracy still achieved" if e["accuracy_maintained"] else
         "monthly outcomes (section 1) show the declared accuracy is no longer achieved"),
        ("Art 17", _status(e["qms"]),
         "QMS in place (declared)" if e["qms"] else "no QMS covers this model (declared)"),
        ("Art 19 / 26(6)", _status(logged and retention >= LOG_RETENTION_MONTHS,
                                   logged and 0 < retention < LOG_RETENTION_MONTHS),
         f"decision logs kept {retention:g} months (declared)" + ("" if logged else "; but there is no log to keep")),
        ("Art 27", _status(e["fria_done"]), "FRIA done (declared)" if e["fria_done"] else "no FRIA on file (declared)"),
        ("Art 72", _status(lag is not None and lag <= 1, lag is not None),
         "drift detected " + (f"{lag:g} month(s) after onset" if lag is not None else "by no monitor")),
        ("Art 73", _status(e["incident_process"] and e["authority_reporting"], e["incident_process"]),
         ("incident report (section 9)" if e["incident_process"] else "no incident report") +
         ("" if e["authority_reporting"] else "; no procedure yet to notify the authority (declared)")),
        ("Art 86", _status(e["per_decision_explanations"] and e["reason_codes"], e["per_decision_explanations"]),
         ("exact per-decision attributions (section 4)" if e["per_decision_explanations"] else
          "no per-decision explanation") + ("; reason codes" if e["reason_codes"] else "")),
    ]
    status = {a: (st, text) for a, st, text in rows}
    table = duties(variant)
    table["status"] = [status[a][0] for a in table["article"]]
    table["evidence"] = [status[a][1] for a in table["article"]]
    return table


def summary(table: "pd.DataFrame") -> dict:
    """Counts of met / partly / not met among the duties that are required."""
    req = table[table["required"]]
    return {s: int((req["status"] == s).sum()) for s in STATUSES} | {"required": int(len(req))}


def to_markdown(table: "pd.DataFrame", variant: str) -> str:
    """The checklist as a markdown table headed by the tier and its legal basis."""
    info = ai_act_tier(variant)
    lines = [f"**EU AI Act tier ({variant}):** {info['tier']} - {info['basis']}.", "",
             "| article | duty | required | role | status | evidence |", "|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.article} | {r.duty} | {'yes' if r.required else 'voluntary'} | {r.role} | {r.status} | "
                     f"{r.evidence} |")
    return "\n".join(lines)


# -- the EU AI Act's category of a platform's uses (notebook 06) ------------------------------------------

USES = {
    "credit_scoring": ("high-risk", "Annex III 5(b): creditworthiness or credit score of natural persons", True),
    "recruitment": ("high-risk", "Annex III 4(a): recruitment or selection, filtering applications and "
                                 "evaluating candidates", True),
    "health_insurance_pricing": ("high-risk", "Annex III 5(c): risk assessment and pricing for natural persons in "
                                              "life and health insurance", True),
    "fraud_detection": ("minimal risk", "Annex III 5(b) excepts AI systems used to detect financial fraud", False),
    "chatbot": ("limited risk (transparency)", "Art 50(1): people must be told they interact with an AI "
                                               "system", False),
    "recommendation": ("minimal risk", "not listed in Annex III; no Art 50 duty for ranking content", False),
    "internal_tool": ("minimal risk", "back-office use, not listed in Annex III", False),
    "forecasting": ("minimal risk", "aggregate forecasts, no decision about a person", False),
    "customer_analytics": ("minimal risk", "not listed in Annex III (no decision with legal effect on a person)",
                           False),
}
"""{use: (AI Act category, basis, high-risk?)}: the uses notebook 06's platform has. A teaching aid, not legal
advice: a real classification reads the system's intended purpose against Art 5, Art 6 and Annex III."""


def ai_act_category(use: str) -> dict:
    """The AI Act category of a use, its basis and whether the high-risk duties apply."""
    if use not in USES:
        raise GovernanceError(f"unknown use {use!r}; use one of {sorted(USES)} (regulation.USES)")
    category, basis, high = USES[use]
    return {"use": use, "category": category, "basis": basis, "high_risk": high}
