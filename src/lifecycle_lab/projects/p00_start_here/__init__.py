"""Notebook 00, orientation: the environment check, how exercises answer back, and the metrics of a classifier
(precision, recall, F1, ROC-AUC, thresholds) on a small world of urgent tickets."""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p00_start_here import exercises
from lifecycle_lab.projects.p00_start_here.exercises import EXERCISES
from lifecycle_lab.projects.p00_start_here.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS: list[Artefact] = []  # the orientation notebook writes no decision documents
"""The decision documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
