"""Notebook 03, advanced: governance and sunset of a degraded model (outcomes analysis and drift diagnosis,
SR 11-7-style risk tiering, the EU AI Act checklist, explanations and reason codes, fairness, model cards, the
business case for patch / retrain / sunset, the migration, the incident report)."""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p03_governance import exercises
from lifecycle_lab.projects.p03_governance.exercises import EXERCISES
from lifecycle_lab.projects.p03_governance.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Risk assessment",
             "risk_assessment.md",
             "the model's risk tier and why"),
    Artefact("Model card (legacy model)",
             "model_card_legacy.md",
             "what the degraded model is for and how it performs now"),
    Artefact("Model card (replacement)",
             "model_card_replacement.md",
             "the retrained model's intended use, metrics with intervals, limits"),
    Artefact("Business case",
             "business_case.json",
             "patch / retrain / sunset, costed"),
    Artefact("Decision memo",
             "decision_memo.md",
             "the recommendation and the assumption that would flip it"),
    Artefact("Incident report",
             "incident_report.md",
             "what happened, impact, root cause, actions"),
    Artefact("EU AI Act checklist",
             "ai_act_checklist.md",
             "the obligations that apply and what is on file"),
]
"""The decision documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
