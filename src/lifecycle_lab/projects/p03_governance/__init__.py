"""Notebook 03, advanced: governance and sunset of a degraded model (outcomes analysis and drift diagnosis,
SR 11-7-style risk tiering, the EU AI Act checklist, explanations and reason codes, fairness, model cards, the
business case for patch / retrain / sunset, the migration, the incident report)."""

from lifecycle_lab.projects.p03_governance import exercises
from lifecycle_lab.projects.p03_governance.exercises import EXERCISES
from lifecycle_lab.projects.p03_governance.parameters import NOTEBOOK, PARAMETERS

__all__ = ["EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
