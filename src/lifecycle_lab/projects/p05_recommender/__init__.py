"""Notebook 05, advanced: a self-improving recommender in its feedback loop.

The world with its true preferences (`world`), the loop of policies over the simulated days (`loop`),
feedback and label quality (`feedback`), the CTR-decline diagnosis (`diagnosis`), champion/challenger with
guardrails and off-policy estimates (`champion`), the fairness audit, exposure floor and flywheel (`audit`),
serving cost, cache and distillation (`serving`); the notebook's parameters (`parameters`) and exercises.
"""

from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.projects.p05_recommender import exercises
from lifecycle_lab.projects.p05_recommender.exercises import EXERCISES
from lifecycle_lab.projects.p05_recommender.parameters import NOTEBOOK, PARAMETERS

ARTEFACTS = [
    Artefact("Daily loop metrics", "loop_metrics.csv",
             "per policy and day: true and logged CTR, coverage, Gini of exposure, provider share, regret"),
    Artefact("Diagnosis of the CTR decline", "diagnosis.md",
             "the step day, the evidence of each test, the cause named and the world's truth"),
    Artefact("Fairness audit", "fairness_audit.csv",
             "CTR per user segment and exposure per provider group, before and after the exposure floor"),
    Artefact("Serving options", "serving_options.csv",
             "teacher / student x cache / none: measured latency, NDCG, cores and cost per day"),
]
"""The documents the notebook writes into its output folder (the learner's portfolio)."""

__all__ = ["ARTEFACTS", "EXERCISES", "NOTEBOOK", "PARAMETERS", "exercises"]
