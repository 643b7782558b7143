"""Notebook 02, intermediate: the graduation gate of a recommender with a "15% offline lift". Criteria written
first as data, offline and online evaluation, a bias audit, drift, a load test, a staged rollout with
automated rollback, and the GO / NO-GO / GO WITH CONDITIONS decision with its memo, on a simulated world
whose truth is known."""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p02_gate import exercises
from lifecycle_lab.projects.p02_gate.exercises import EXERCISES
from lifecycle_lab.projects.p02_gate.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Graduation gate memo",
             "decision_memo.md",
             "GO / NO-GO / GO WITH CONDITIONS with every criterion, its evidence and the checklist"),
    Artefact("Launch criteria",
             "criteria.yaml",
             "the criteria written down before the evidence was seen"),
    Artefact("Drift report",
             "drift_report.html",
             "Evidently's feature drift between training and current traffic"),
]
"""The decision documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
