"""Notebook 01, beginner: a support-ticket classifier from notebook to service (data and its schema, baselines,
a TF-IDF model, the review threshold, an MLflow registry and a verified artifact, a nightly batch job, a REST
API, a monitoring dashboard and the ML Test Score)."""

from lifecycle_lab.projects.p01_tickets import exercises
from lifecycle_lab.projects.p01_tickets.exercises import EXERCISES
from lifecycle_lab.projects.p01_tickets.parameters import NOTEBOOK, PARAMETERS

__all__ = ["EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
