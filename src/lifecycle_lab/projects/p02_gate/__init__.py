"""Notebook 02, intermediate: the graduation gate of a recommender with a "15% offline lift". Criteria written
first as data, offline and online evaluation, a bias audit, drift, a load test, a staged rollout with
automated rollback, and the GO / NO-GO / GO WITH CONDITIONS decision with its memo, on a simulated world
whose truth is known."""

from lifecycle_lab.projects.p02_gate import exercises
from lifecycle_lab.projects.p02_gate.exercises import EXERCISES
from lifecycle_lab.projects.p02_gate.parameters import NOTEBOOK, PARAMETERS

__all__ = ["EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
