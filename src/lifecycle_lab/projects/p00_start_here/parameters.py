"""Notebook 00's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it)."""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.projects.p00_start_here.world import urgent_ticket_scores

NOTEBOOK = "00_start_here"


def feasible(p: Params) -> None:
    """Refuse, before anything runs, a combination whose scores reach no threshold of the precision target.

    Why: exercise 4 asks for the threshold with the best recall among those that reach `min_precision`;
    with a small or unlucky sample no threshold may reach it, and the notebook would stop there. The check
    builds the same scores the notebook builds (a second or less)."""
    from sklearn.metrics import precision_recall_curve

    scores = urgent_ticket_scores(p.n_tickets, p.seed, p.urgent_share)
    if scores.urgent.sum() < 5:
        raise ParameterError(f"n_tickets={p.n_tickets} with urgent_share={p.urgent_share} leaves only "
                             f"{int(scores.urgent.sum())} urgent tickets to evaluate; raise n_tickets or urgent_share")
    precision = precision_recall_curve(scores.urgent, scores.score)[0][:-1]
    if precision.max() < p.min_precision:
        raise ParameterError(f"min_precision={p.min_precision} cannot be reached with seed={p.seed}, "
                             f"n_tickets={p.n_tickets}, urgent_share={p.urgent_share}: the best precision any "
                             f"threshold reaches is {precision.max():.3f}; lower min_precision (e.g. "
                             f"{max(0.5, 0.05 * int(precision.max() / 0.05)):.2f}) or choose another seed")


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 42, "drives every random draw in this notebook", low=0, high=2**31 - 1),
    Param("fast", bool, False, "smaller data for a quick run"),
    Param("n_tickets", int, 4000, "tickets generated (half train the model, half are scored)", low=200,
          high=1_000_000),
    Param("urgent_share", float, 0.2, "share of urgent tickets", low=0.05, high=0.5),
    Param("min_precision", float, 0.75, "the precision the support team asks for when a ticket is flagged urgent",
          low=0.5, high=0.99),
    Param("output_dir", "dir", None, "where files go (default: build/outputs/00_start_here)"),
], fast={"n_tickets": 1000}, check=feasible)
