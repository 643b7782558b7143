"""Notebook 04's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it),
and the world they describe."""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.projects.p04_churn.world import BUG_KINDS, ChurnWorld, ScenarioError

NOTEBOOK = "04_intermediate_operate_churn"

AFTER_CHANGE = 6
"""Scored weeks a change needs after its labels start to land (label delay + the pooled window + 2 weeks of
consecutive breaches) before the end of the year, so the monitoring can see it at all."""


def world(P: Params, **changes) -> ChurnWorld:
    """The notebook's world for these parameters (the same call the notebook makes); `changes` override."""
    kw = dict(seed=P.seed, n_weeks=P.n_weeks, n_per_week=P.n_per_week, label_delay_days=P.label_delay_days,
              concept_drift=P.concept_drift, launch_week=P.launch_week, data_bug=P.data_bug, bug_week=P.bug_week,
              bug_kind=P.bug_kind, seasonal_drift=P.seasonal_drift, label_shift=P.label_shift,
              label_shift_week=P.label_shift_week)
    return ChurnWorld(**{**kw, **changes})


def feasible(P: Params) -> None:
    """Refuse, before anything runs, a combination the notebook cannot run. Cheap: the world is only built
    (its weeks are simulated lazily), no model is fitted."""
    try:
        w = world(P)
    except ScenarioError as error:
        raise ParameterError(f"{error}; the week parameters must lie inside n_weeks={P.n_weeks}") from None
    last = P.n_weeks - 1 - w.label_delay_weeks - AFTER_CHANGE
    for name, switch in (("launch_week", "concept_drift"), ("bug_week", "data_bug"),
                         ("label_shift_week", "label_shift")):
        if getattr(P, switch) and getattr(P, name) > last:
            raise ParameterError(f"{name}={getattr(P, name)} leaves too few labelled weeks after the change "
                                 f"(label delay {w.label_delay_weeks} weeks + {AFTER_CHANGE}) before week "
                                 f"{P.n_weeks - 1}: give {name} <= {last} or raise n_weeks")
    if P.n_weeks < 24 + w.label_delay_weeks:
        raise ParameterError(f"n_weeks={P.n_weeks} is too short for the split and promotion windows with a "
                             f"{w.label_delay_weeks}-week label delay: give at least {24 + w.label_delay_weeks}")


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 0, "drives every random draw of the world", low=0, high=2**31 - 1),
    Param("fast", bool, False, "40 weeks of 1,500 customers instead of 52 of 2,000"),
    Param("output_dir", "dir", None, "where the audit log, incident log and memo go "
                                     "(default: build/outputs/04_intermediate_operate_churn)"),
    Param("n_weeks", int, 52, "weeks of weekly scoring in production", low=30, high=104),
    Param("n_per_week", int, 2000, "customers scored each week", low=1000, high=20_000),
    Param("label_delay_days", int, 30, "days until a week's churn labels are known", low=0, high=60),
    Param("concept_drift", bool, True, "a product launch changes how usage relates to churn (P(Y|X))"),
    Param("launch_week", int, 20, "week of the product launch", low=4, high=90),
    Param("data_bug", bool, False, "an upstream pipeline deploy breaks one feature"),
    Param("bug_week", int, 26, "week of the broken deploy", low=4, high=90),
    Param("bug_kind", "choice", "unit", "'unit' (usage in minutes) or 'join' (support tickets lost)",
          choices=list(BUG_KINDS)),
    Param("seasonal_drift", bool, False, "a yearly usage cycle that moves inputs without hurting the model"),
    Param("label_shift", bool, False, "a market change that moves the churn base rate"),
    Param("label_shift_week", int, 26, "week of the market change", low=4, high=90),
    Param("retrain_cost", float, 20.0, "EUR per retrain in the policy comparison (20: an automated pipeline "
                                       "with a 15-minute review; see policies.AUTOMATED_RETRAIN)",
          low=0.0, high=1e6),
    Param("run_flow", bool, True, "run the Prefect flow (a local server; ~20 s the first time)"),
], fast={"n_weeks": 40, "n_per_week": 1500}, check=feasible)
