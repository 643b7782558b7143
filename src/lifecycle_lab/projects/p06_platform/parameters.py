"""Notebook 06's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it)."""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.projects.p06_platform import world

NOTEBOOK = "06_advanced_platform_governance"


def feasible(P: Params) -> None:
    """Refuse, before anything runs, a portfolio that cannot plant its four gaps. Cheap: tags only."""
    try:
        world.portfolio(P.seed, P.n_models)
    except (ValueError, IndexError) as error:
        raise ParameterError(f"seed={P.seed}, n_models={P.n_models}: the portfolio cannot be built ({error})") \
            from None


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 0, "drives the portfolio's owners, dates and which models carry the planted gaps",
          low=0, high=2**31 - 1),
    Param("fast", bool, False, "a portfolio of 10 models instead of 12"),
    Param("output_dir", "dir", None, "where the registry, playbooks and council records go "
                                     "(default: build/outputs/06_advanced_platform_governance)"),
    Param("n_models", int, 12, "models in the portfolio (the first n of world.CATALOGUE)", low=8, high=12),
    Param("horizon_years", int, 3, "years the retire-vs-retrain NPV looks ahead", low=1, high=10),
    Param("discount_rate", float, 0.08, "yearly discount rate of the NPV", low=0.0, high=0.5),
    Param("drift_rate", float, 0.15, "yearly growth of an un-adapted model's error cost", low=0.0, high=1.0),
    Param("confidence_delta", int, 1, "points added to one backlog item's confidence in the sensitivity check",
          low=1, high=4),
], fast={"n_models": 10}, check=feasible)
