"""Notebook 07, beginner: product-review sentiment through the same service (a seeded review world, the "could
rules do it?" check with VADER, a TF-IDF classifier saved as a verified artifact and served by the workbook's one
API and batch job, a request script, and the feedback table where logged predictions meet the labels that
arrive later)."""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p07_reviews import exercises
from lifecycle_lab.projects.p07_reviews.exercises import EXERCISES
from lifecycle_lab.projects.p07_reviews.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Rules or model decision", "rules_or_model.md",
             "VADER against the classifier on the true labels, by kind of review, and which one ships"),
]
"""The decision documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
