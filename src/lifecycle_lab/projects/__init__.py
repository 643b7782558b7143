"""The practice projects: one package per notebook, each with its world, its own code and its exercises.

Each project package defines `NOTEBOOK` (its solution notebook's stem), `PARAMETERS` (the declaration of
the notebook's parameters) and `EXERCISES` (its exercises, in order). Projects never import each other;
the course layer finds them through this table.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PROJECTS = {
    "00_start_here": "p00_start_here",
    "01_beginner_ticket_classifier": "p01_tickets",
    "02_intermediate_graduation_gate": "p02_gate",
    "03_advanced_governance_sunset": "p03_governance",
    "04_intermediate_operate_churn": "p04_churn",
    "05_advanced_feedback_loop_recommender": "p05_recommender",
    "06_advanced_platform_governance": "p06_platform",
    "07_beginner_review_sentiment": "p07_reviews",
}
"""Solution notebook stem -> project package (under lifecycle_lab.projects)."""


def project_for(notebook: str) -> ModuleType:
    """The project package of a notebook, by its stem ("01_beginner_ticket_classifier") or its number ("01");
    a dotted module path is imported as it is (a course of your own, or a test's project)."""
    if "." in notebook:
        return importlib.import_module(notebook)
    matches = [stem for stem in PROJECTS if stem == notebook or stem.split("_", 1)[0] == notebook]
    if len(matches) != 1:
        raise KeyError(f"no practice project for notebook {notebook!r}; known: {', '.join(PROJECTS)}")
    module = PROJECTS[matches[0]]
    return importlib.import_module(module if "." in module else f"{__name__}.{module}")
