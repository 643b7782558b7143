"""Notebook 02's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it),
and what they mean for the scenario: the world's knobs (`world_config`) and the review's sizes
(`review_settings`).

The cheap feasibility check (`feasible`) refuses, before any heavy work, the one combination the notebook
cannot carry through: an A/B test so large that it would not fit a laptop's memory or a session's time
(a small planned lift on a world whose champion CTR is low). Every other accepted value runs: the tests sweep
seeds and the bounds of every size parameter through these functions (tests/projects/p02_gate/
test_parameters.py).
"""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.evaluation import experiment
from lifecycle_lab.projects.p02_gate.review import champion_baseline
from lifecycle_lab.projects.p02_gate.settings import ReviewSettings
from lifecycle_lab.projects.p02_gate.world import UNDERSERVED_CHOICES, RecsysConfig, RecsysWorld

NOTEBOOK = "02_intermediate_graduation_gate"

MAX_USERS_PER_ARM = 500_000
"""The largest A/B test the notebook runs: 2 x 500,000 simulated users take about a minute and ~1.5 GB on a
two-core laptop (the default plan is ~110,000 per arm; bench/RESULTS-intermediate.md)."""

MAX_SEED = 2**31 - 1


def world_config(p: Params) -> RecsysConfig:
    """The world the parameters describe (validated values: `P = PARAMETERS.validate(globals())`)."""
    return RecsysConfig(seed=p.seed, world_seed=p.world_seed, n_items=p.n_items,
                        challenger_quality=p.challenger_quality, challenger_latency_ms=p.challenger_latency_ms,
                        underserved_segment=p.underserved_segment, drift=p.drift, concept_drift=p.concept_drift,
                        inject_regression=p.inject_regression, regression_share=p.regression_share,
                        srm_loss=p.srm_loss)


def review_settings(p: Params) -> ReviewSettings:
    """The review's sizes and stated prices: the fast sizes when `fast`, the target rate and planned lift
    from the parameters, and two challenger model servers at the given price plus the feature store."""
    price = p.challenger_instance_usd_per_h
    chosen = dict(target_rps=p.target_rps, planned_lift=p.planned_lift, challenger_usd_per_h=(price, price, 0.25))
    return ReviewSettings.fast(**chosen) if p.fast else ReviewSettings(**chosen)


def planned_users_per_arm(p: Params) -> int:
    """Users per arm the A/B test will need: the planned lift on the champion's CTR in this world's logs
    (the same baseline, rounded the same way, as `review.RecsysReview` measures)."""
    baseline = round(champion_baseline(RecsysWorld(world_config(p)), seed=p.seed), 4)
    return experiment.sample_size_per_arm(baseline, p.planned_lift)


def smallest_feasible_lift(baseline: float, cap: int = MAX_USERS_PER_ARM) -> float:
    """The smallest planned lift (to 0.01) whose test fits in `cap` users per arm at this baseline."""
    lift = 0.01
    while lift < 0.5 and experiment.sample_size_per_arm(baseline, lift) > cap:
        lift = round(lift + 0.01, 2)
    return lift


def feasible(p: Params) -> None:
    """Refuse, before anything runs, a plan the notebook cannot carry out (about a second: it builds the world
    and measures the champion's CTR in the logs, which the notebook then reuses from the cache).

    Why: the A/B test is sized from the champion's CTR and the planned lift; a small world (few items, a low
    CTR) planned for a small lift needs millions of users per arm, more than a laptop holds."""
    n = planned_users_per_arm(p)
    if n > MAX_USERS_PER_ARM:
        baseline = round(champion_baseline(RecsysWorld(world_config(p)), seed=p.seed), 4)
        raise ParameterError(
            f"planned_lift={p.planned_lift} on this world's champion CTR ({baseline:.4f}, n_items={p.n_items}, "
            f"world_seed={p.world_seed}) needs {n:,} users per arm, more than the {MAX_USERS_PER_ARM:,} the "
            f"notebook simulates; raise planned_lift to at least {smallest_feasible_lift(baseline):.2f} "
            f"(or use more items: a larger catalogue has a higher CTR)")


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 42, "drives every sample drawn from the world (users, traffic, clicks)", low=0,
          high=MAX_SEED),
    Param("world_seed", int, 42, "the world itself: catalogue, training log, trained models, hence the truth",
          low=0, high=MAX_SEED),
    Param("n_items", int, 400, "items in the catalogue", low=50, high=5000),
    Param("fast", bool, False, "smaller samples (offline users, drift rows, bootstrap, simulations)"),
    Param("output_dir", "dir", None, "where the criteria, the drift report and the memo go "
                                     "(default: build/outputs/02_intermediate_graduation_gate)"),
    Param("challenger_quality", float, 0.55, "share of the fitted personal weight the challenger uses "
                                             "(0: it is the champion)", low=0.0, high=1.0),
    Param("challenger_latency_ms", float, 40.0, "the challenger's feature-store call, awaited on every request "
                                                "(milliseconds)", low=0.0, high=5000.0),
    Param("underserved_segment", "choice", "new", "the segment whose history the challenger mis-joins "
                                                  "('none' to switch off)", choices=list(UNDERSERVED_CHOICES)),
    Param("drift", float, 0.5, "data drift of current traffic vs training data (0 to 1)", low=0.0, high=1.0),
    Param("concept_drift", float, 0.0, "share of taste that moved since the history was logged (0 to 1)",
          low=0.0, high=1.0),
    Param("inject_regression", bool, False, "the page build being rolled out has a stale item-id table"),
    Param("regression_share", float, 1.0, "share of live requests that hit the stale table (with "
                                          "inject_regression)", low=0.01, high=1.0),
    Param("srm_loss", float, 0.0, "share of the challenger arm's new users a redirect loses before logging",
          low=0.0, high=0.5),
    Param("challenger_instance_usd_per_h", float, 0.17, "price of each of the challenger's two model servers "
                                                        "(US dollars per hour)", low=0.001, high=100.0),
    Param("target_rps", float, 200.0, "the request rate the latency criterion is measured at (requests per "
                                      "second)", low=10.0, high=2000.0),
    Param("planned_lift", float, 0.06, "the smallest relative CTR lift the A/B test is sized to detect "
                                       "(0.06 = +6%)", low=0.02, high=0.5),
], fast={"n_items": 1000}, check=feasible)
