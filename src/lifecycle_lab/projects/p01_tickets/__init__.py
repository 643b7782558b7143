"""Notebook 01, beginner: a support-ticket classifier from notebook to service (data and its schema, baselines,
a TF-IDF model, the review threshold, an MLflow registry and a verified artifact, a nightly batch job, a REST
API, a monitoring dashboard and the ML Test Score)."""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p01_tickets import exercises
from lifecycle_lab.projects.p01_tickets.exercises import EXERCISES
from lifecycle_lab.projects.p01_tickets.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Class drift report",
             "class_drift_report.html",
             "the label-free check on a drifted night: which classes the model now predicts more or less often"),
]
"""The decision documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
