"""Notebook 00, orientation: the environment check, how exercises answer back, and the metrics of a classifier
(precision, recall, F1, ROC-AUC, thresholds) on a small world of urgent tickets."""

from lifecycle_lab.projects.p00_start_here import exercises
from lifecycle_lab.projects.p00_start_here.exercises import EXERCISES
from lifecycle_lab.projects.p00_start_here.parameters import NOTEBOOK, PARAMETERS

__all__ = ["EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
