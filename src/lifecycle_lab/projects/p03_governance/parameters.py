"""Notebook 03's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it),
and the case's settings derived from them (the cost matrix, the business-case inputs, the sample sizes)."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.evaluation.costs import CostError, Costs
from lifecycle_lab.governance import VARIANTS, business
from lifecycle_lab.projects.p03_governance import world as tx
from lifecycle_lab.projects.p03_governance.casefile import windows

NOTEBOOK = "03_advanced_governance_sunset"

MIN_POSITIVES = 20
"""Positive (fraud / default) cases a window must hold for precision, recall and the cost sweep to mean much."""
MIN_PER_GROUP = 3
"""Positive and negative cases every age band of the evaluation window must hold (equalized odds per band)."""


@dataclass(frozen=True)
class Sizes:
    """How much the notebook simulates and resamples: smaller with `fast`."""

    n_per_month: int
    importance_repeats: int
    n_boot: int
    gate_boot: int
    replays: int


def sizes(P: Params) -> Sizes:
    """The sample sizes of a run (`fast`: 1,500 decisions a month instead of 4,000, fewer repeats)."""
    if P.fast:
        return Sizes(n_per_month=1500, importance_repeats=3, n_boot=100, gate_boot=500, replays=40)
    return Sizes(n_per_month=4000, importance_repeats=5, n_boot=200, gate_boot=1000, replays=100)


def costs_of(P: Params) -> Costs:
    """The cost matrix: the variant's defaults, with each cost the parameters set replacing its default."""
    default = business.DEFAULT_COSTS[P.variant]
    return Costs(fp=default.fp if P.cost_fp is None else P.cost_fp, fn=default.fn if P.cost_fn is None else P.cost_fn,
                 review=default.review if P.cost_review is None else P.cost_review)


def inputs_of(P: Params) -> business.CaseInputs:
    """The business case's inputs: the production volume of the variant, the horizon and the rates."""
    return business.CaseInputs(volume_per_year=business.VOLUME[P.variant], horizon_years=P.horizon_years,
                               discount_rate=P.discount_rate, drift_rate=P.drift_rate)


def simulate(P: Params):
    """The notebook's world for these parameters (the same call the notebook makes)."""
    return tx.simulate(P.variant, months=P.months, n_per_month=sizes(P).n_per_month, seed=P.seed,
                       data_drift=P.data_drift, concept_drift=P.concept_drift, drift_strength=P.drift_strength,
                       concept_start=P.concept_start)


def scenario_problems(world, months: int) -> list[str]:
    """What the world lacks for the notebook to run (empty when it has everything): labelled rows in the
    baseline months 1-3, enough positive and negative cases in the fitting and evaluation windows, and both
    outcomes in every age band of the evaluation window (the fairness audit compares bands)."""
    problems = []
    baseline = world[world.label_known & world.month.between(1, 3)]
    if len(baseline) == 0:
        problems.append("months 1-3 have no labelled decisions, so there is no baseline to compare with")
    eval_window, fit_window = windows(world, months)
    for name, frame in (("evaluation", eval_window), ("fitting", fit_window), ("training", world[world.month == 0])):
        positives, negatives = int(frame.label.sum()), int(len(frame) - frame.label.sum())
        if min(positives, negatives) < MIN_POSITIVES:
            problems.append(f"the {name} window holds {positives} positive and {negatives} negative labelled cases "
                            f"(at least {MIN_POSITIVES} of each are needed)")
    counts = eval_window.groupby(tx.SENSITIVE).label.agg(["sum", "count"])
    thin = [band for band in tx.AGE_BANDS if band not in counts.index
            or min(counts.loc[band, "sum"], counts.loc[band, "count"] - counts.loc[band, "sum"]) < MIN_PER_GROUP]
    if thin:
        problems.append(f"age bands {thin} have fewer than {MIN_PER_GROUP} positive or negative cases in the "
                        f"evaluation window, so the fairness audit cannot compare them")
    return problems


def feasible(P: Params) -> None:
    """Refuse, before anything runs, a combination the notebook cannot run.

    Cheap: no model is fitted. The cross-parameter rules (concept_start within the months; a flag that can pay
    for its review) are checked first, then the world is simulated (well under a second at full size) and its
    windows checked for the labels every section needs."""
    if P.concept_start is not None and P.concept_start > P.months:
        raise ParameterError(f"concept_start={P.concept_start} is after the last production month (months="
                             f"{P.months}): give a month from 1 to {P.months}, or None for half-way")
    try:
        costs = costs_of(P)
    except CostError as error:
        raise ParameterError(f"{error}; give cost_fp or cost_fn a positive amount (or None for the default)") from None
    if costs.review >= costs.fn:
        raise ParameterError(f"cost_review={costs.review:g} is not below cost_fn={costs.fn:g}: a flag would cost "
                             f"more to review than the loss it prevents (p* = 1), so no case is worth flagging and "
                             f"the business case has nothing to compare; lower cost_review or raise cost_fn")
    problems = scenario_problems(simulate(P), P.months)
    if problems:
        raise ParameterError(f"seed={P.seed}, variant={P.variant!r}, months={P.months}, fast={P.fast}: "
                             + "; ".join(problems) + "; choose another seed, or run without fast (more decisions "
                             "a month)")


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 42, "drives every random draw", low=0, high=2**31 - 1),
    Param("fast", bool, False, "1,500 decisions a month instead of 4,000, fewer repeats"),
    Param("output_dir", "dir", None, "where the model cards, memo, logs and reports go "
                                     "(default: build/outputs/03_advanced_governance_sunset)"),
    Param("variant", "choice", "fraud", "'fraud' (card transactions) or 'credit' (credit-risk scoring of people)",
          choices=list(VARIANTS)),
    Param("months", int, 18, "months in production (the case is about a model 18 months or more in production)",
          low=18, high=36),
    Param("data_drift", bool, True, "inputs change over time (P(X))"),
    Param("concept_drift", bool, True, "a new pattern changes P(Y|X)"),
    Param("concept_start", int, None, "production month the new pattern starts ramping in (None: half-way, "
                                      "months // 2)", low=1, high=36, optional=True),
    Param("drift_strength", float, 1.0, "scales both kinds of drift", low=0.0, high=3.0),
    Param("cost_fp", float, None, "EUR per false positive (None: the variant's default)", low=0.0, high=1e7,
          optional=True),
    Param("cost_fn", float, None, "EUR per false negative (None: the variant's default)", low=0.0, high=1e7,
          optional=True),
    Param("cost_review", float, None, "EUR per human review of a flagged case (None: the variant's default)",
          low=0.0, high=1e7, optional=True),
    Param("discount_rate", float, 0.08, "yearly discount rate of the NPV", low=0.0, high=0.5),
    Param("horizon_years", int, 3, "years the business case looks ahead", low=1, high=15),
    Param("drift_rate", float, 0.15, "yearly growth of an un-adapted model's error cost", low=0.0, high=2.0),
    Param("human_review", bool, True, "every flagged case is reviewed by a person"),
    Param("log_retention_months", int, 12, "how long decision logs are kept", low=0, high=240),
], fast={"months": 18}, check=feasible)
