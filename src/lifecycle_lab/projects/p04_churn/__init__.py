"""Notebook 04, intermediate: operate a live churn model (monitor, diagnose, remediate, retrain automatically).

The world (`world`), the model (`model`), a year of operation (`operate`), remediation and retraining policies
(`policies`) and the Prefect pipeline (`pipeline`); the notebook's parameters (`parameters`) and exercises.
"""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p04_churn import exercises
from lifecycle_lab.projects.p04_churn.exercises import EXERCISES
from lifecycle_lab.projects.p04_churn.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Prediction audit log",
             "audit_log.sqlite",
             "every weekly prediction once (SQLite table `predictions`): week, customer, model version, "
             "inputs hash, score, decision"),
    Artefact("Alert log",
             "alerts.jsonl",
             "the deduplicated alerts posted to the webhook, in Slack's JSON format"),
    Artefact("Incident log",
             "incident_log.csv",
             "each incident of each scenario: the diagnosis, its evidence and the world's truth"),
    Artefact("Remediation memo",
             "remediation_memo.md",
             "the cause, the remedy, the promotion decision and the rollback step"),
    Artefact("Policy comparison",
             "policy_comparison.csv",
             "retraining policies over the year: retrains, precision, error and retraining cost"),
]
"""The documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
