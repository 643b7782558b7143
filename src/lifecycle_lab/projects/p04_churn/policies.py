"""Remediation and continuous training: split leakage, champion/challenger through the gate engine, and
retraining policies compared over the year by total cost.

Why: "retrain it" is a policy with a price. A random split of time-ordered data validates on weeks mixed
into training and overstates quality; a challenger replaces the champion only when the pre-chosen metric
improves with its interval on the right side of zero, on rows it did not train on; and how often to
retrain (never, weekly, monthly, when inputs drift, when precision drops) is decided by total cost:
errors priced by the cost matrix plus what each retrain costs (compute, assembling labels, review). The
simulation knows each customer's true churn probability, so the errors are priced at their expectation
(the labels' coin flips taken out) beside what the realised labels book, and against the least any model
could cost (`oracle_cost`): a precision drop is not a money drop until it is priced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.evaluation.costs import Costs
from lifecycle_lab.evaluation.ranking import paired_lift_ci
from lifecycle_lab.gates.criteria import MetricSpec, validate_criteria
from lifecycle_lab.gates.decision import GO, GO_WITH_CONDITIONS, Evidence, evaluate_gate
from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn.world import NUMERIC, ChurnWorld

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

POLICIES = ("never", "weekly", "monthly", "drift", "performance")


class PolicyError(LifecycleLabError, ValueError):
    """A retraining policy or its parameters cannot be run as given."""


def labelled_by(world: ChurnWorld, week: int, window: int) -> "pd.DataFrame":
    """The last `window` scored weeks whose labels are known at `week` (history included)."""
    last = week - world.label_delay_weeks - 1
    first = max(-world.scenario.history_weeks, last - window + 1)
    if last < first:
        raise PolicyError(f"no labelled week is known at week {week}")
    return world.weeks(first, last + 1)


# -- time-based vs random split --------------------------------------------------------------------------

def split_leakage(world: ChurnWorld, train_weeks: tuple[int, int], future_weeks: tuple[int, int], *,
                  valid_share: float = 0.25, seed: int = 0) -> dict:
    """Validate a model on a random split and on a time-based split of the same weeks, and compare both
    with what it then scores on the future weeks. Metric: ROC AUC (threshold-free).

    Why: with a world that changes, random validation rows come from the same mixture of weeks as the
    training rows, so they flatter the model; the last weeks (time-based) look like the future.
    """
    from sklearn.metrics import roc_auc_score

    frame = world.weeks(*train_weeks)
    future = world.weeks(*future_weeks)
    rng = np.random.default_rng(seed)
    rand = rng.random(len(frame)) < valid_share
    weeks = np.sort(frame["week"].unique())
    cut = weeks[int(round(len(weeks) * (1 - valid_share)))]
    timed = frame["week"].to_numpy() >= cut
    out = {}
    for name, valid in (("random", rand), ("time", timed)):
        model = churn_model.train(frame[~valid], seed)
        out[f"{name}_valid_auc"] = float(roc_auc_score(frame["churned"][valid], churn_model.score(model, frame[valid])))
        out[f"{name}_future_auc"] = float(roc_auc_score(future["churned"], churn_model.score(model, future)))
        out[f"{name}_overstatement"] = out[f"{name}_valid_auc"] - out[f"{name}_future_auc"]
    return out


# -- champion / challenger through the gate engine -------------------------------------------------------

PROMOTION_METRICS = {
    "cost_change": MetricSpec("technical", "relative", -1.0, 10.0,
                              description="relative change of the expected cost per scored customer"),
    "precision": MetricSpec("business", "share", 0.0, 1.0, description="precision of the retention offers"),
    "region_flag_gap": MetricSpec("ethical", "share", 0.0, 1.0,
                                  description="largest difference between regions' flag rates"),
}
PROMOTION_CRITERIA = {
    "name": "churn challenger promotion",
    "technical": [{"metric": "cost_change", "op": "<", "threshold": 0.0, "severity": "blocker",
                   "why": "the challenger must cost less, with the whole interval below zero"}],
    "business": [{"metric": "precision", "op": ">=", "threshold": 0.2, "severity": "blocker",
                  "why": "below 1 in 5 the retention team stops trusting the list"}],
    "ethical": [{"metric": "region_flag_gap", "op": "<=", "threshold": 0.15, "severity": "condition",
                 "why": "offers should not pile up in one region without a reason"}],
}


def row_costs(y, flag, costs: Costs) -> np.ndarray:
    """Each customer's cost under the decision: c_FP if offered and stayed, c_FN if not offered and left."""
    y, flag = np.asarray(y, int), np.asarray(flag, bool)
    return np.where(flag & (y == 0), costs.fp, 0.0) + np.where(~flag & (y == 1), costs.fn, 0.0)


def expected_costs(probability, flag, costs: Costs = churn_model.COSTS) -> np.ndarray:
    """Each customer's EXPECTED cost under the decision, from the world's true churn probability p:
    (1 - p) c_FP if offered, p c_FN if not. Only a simulation knows p; it takes the coin flips of the
    labels out of a comparison, so what is left is the decisions' own quality."""
    p, flag = np.asarray(probability, float), np.asarray(flag, bool)
    return np.where(flag, (1 - p) * costs.fp, p * costs.fn)


def promotion(champion, challenger, holdout: "pd.DataFrame", *, costs: Costs = churn_model.COSTS,
              criteria: dict | None = None, n_boot: int = 400, seed: int = 0):
    """The gate's verdict on replacing the champion by the challenger, from rows neither trained on.

    Evidence: the relative change of cost per customer with a paired bootstrap interval
    (`evaluation.ranking.paired_lift_ci`), the challenger's precision, and the gap between regions' flag
    rates. Returns (promote: bool, GateResult): promote on GO or GO WITH CONDITIONS (a failed condition
    becomes a launch condition; a failed or inconclusive blocker keeps the champion).
    """
    y = holdout["churned"].to_numpy(int)
    flags = {name: churn_model.score(m, holdout) >= churn_model.THRESHOLD
             for name, m in (("champion", champion), ("challenger", challenger))}
    ci = paired_lift_ci(row_costs(y, flags["champion"], costs), row_costs(y, flags["challenger"], costs),
                        n_boot=n_boot, seed=seed)
    f = flags["challenger"]
    by_region = holdout.assign(flag=f).groupby("region")["flag"].mean()
    evidence = {"cost_change": Evidence(ci["lift"], (ci["lower"], ci["upper"]), "paired bootstrap on the holdout"),
                "precision": Evidence(float(y[f].mean()) if f.any() else 0.0, source="holdout"),
                "region_flag_gap": Evidence(float(by_region.max() - by_region.min()), source="holdout")}
    result = evaluate_gate(validate_criteria(criteria or PROMOTION_CRITERIA, PROMOTION_METRICS), evidence)
    return result.decision in (GO, GO_WITH_CONDITIONS), result


# -- retraining policies over the year -------------------------------------------------------------------

AUTOMATED_RETRAIN = 20.0
"""EUR per retrain in an automated pipeline (an assumption, stated): the compute of a run (extract,
validate, fit, evaluate, register: minutes on a small VM, under EUR 1) and a reviewer reading the gate's
report for 15 minutes at EUR 80 an hour before the alias moves."""
MANUAL_RETRAIN = 1_000.0
"""EUR per retrain done by hand: a data scientist's day and a half at EUR 80 an hour (pull the data, refit,
validate, hand over the deploy)."""


@dataclass(frozen=True)
class PolicyCosts:
    """What a retrain costs (compute, assembling and checking labels, review) beside the error costs."""

    retrain: float = AUTOMATED_RETRAIN
    errors: Costs = churn_model.COSTS

    def __post_init__(self):
        if not (isinstance(self.retrain, (int, float)) and self.retrain >= 0):
            raise PolicyError(f"retrain={self.retrain!r} must be a non-negative cost per retrain")


def run_policy(world: ChurnWorld, policy: str, *, window: int = 8, psi_limit: float = 0.1,
               precision_drop: float = 0.1, start_model=None) -> "pd.DataFrame":
    """Operate the year under one policy. Per week: the model's version, whether it retrained before
    scoring, precision of the week's flags (on its eventual labels), the week's error cost on those labels
    (`error_cost`) and at the world's true probabilities (`expected_cost`, `expected_costs`).

    Retraining uses the last `window` labelled weeks known that week (stateless: a fresh fit). Triggers:
    weekly; monthly (every 4 weeks); drift (any numeric input's PSI against the model's training data
    above `psi_limit` this week); performance (precision on the newest labelled week known below the
    model's own precision at training time by more than `precision_drop`, relative).
    """
    import pandas as pd

    if policy not in POLICIES:
        raise PolicyError(f"policy={policy!r} must be one of {list(POLICIES)}")
    model = start_model if start_model is not None else churn_model.train(world.history())
    train = world.history()
    rows, version = [], 1

    def own_precision(m, frame):
        f = churn_model.score(m, frame) >= churn_model.THRESHOLD
        return float(frame["churned"].to_numpy()[f].mean()) if f.any() else 0.0

    reference_precision = own_precision(model, train[train["week"] >= train["week"].max() - 3])
    profiles = {c: monitor.psi_profile(train[c]) for c in NUMERIC}
    for w in range(world.scenario.n_weeks):
        frame = world.week(w)
        retrain = False
        if w > 0 and policy == "weekly":
            retrain = True
        elif w > 0 and policy == "monthly":
            retrain = w % 4 == 0
        elif policy == "drift":
            retrain = max(monitor.psi_from_profile(profiles[c], frame[c]) for c in NUMERIC) > psi_limit
        elif policy == "performance":
            newest = w - world.label_delay_weeks - 1
            if newest >= 0:
                retrain = own_precision(model, world.week(newest)) < reference_precision * (1 - precision_drop)
        if retrain:
            train = labelled_by(world, w, window)
            model = churn_model.train(train)
            version += 1
            reference_precision = own_precision(model, train[train["week"] >= train["week"].max() - 3])
            profiles = {c: monitor.psi_profile(train[c]) for c in NUMERIC}
        flag = churn_model.score(model, frame) >= churn_model.THRESHOLD
        y = frame["churned"].to_numpy(int)
        rows.append({"week": w, "version": version, "retrained": retrain,
                     "precision": float(y[flag].mean()) if flag.any() else np.nan,
                     "error_cost": float(row_costs(y, flag, churn_model.COSTS).sum()),
                     "expected_cost": float(expected_costs(frame["churn_probability"], flag).sum())})
    return pd.DataFrame(rows)


def oracle_cost(world: ChurnWorld, costs: Costs = churn_model.COSTS) -> float:
    """The expected error cost of the year's decisions made with the world's own churn probabilities (flag
    when p >= the threshold): the least any model could cost, so `error_cost - oracle_cost` is what better
    models (retraining included) could at most save."""
    total = 0.0
    for w in range(world.scenario.n_weeks):
        p = world.week(w)["churn_probability"].to_numpy(float)
        total += float(expected_costs(p, p >= churn_model.THRESHOLD, costs).sum())
    return total


def compare_policies(world: ChurnWorld, costs: PolicyCosts = PolicyCosts(), policies=POLICIES,
                     runs: dict | None = None, **kwargs) -> "pd.DataFrame":
    """One row per policy, ranked by total cost (ties: fewer retrains first).

    Columns: retrains; mean_precision; booked_error_cost (the cost matrix on the year's realised labels: what
    the company's books would show); error_cost (the same decisions priced at the world's true churn
    probabilities: the labels' coin flips taken out, so two policies differ only by their decisions);
    avoidable_cost (error_cost minus `oracle_cost`: what the best possible model would still have saved);
    retrain_cost; total_cost = error_cost + retrain_cost. With "never" among the policies, also the error
    cost each saves against never retraining and its break-even retrain cost (saving / retrains): the policy
    beats never exactly when a retrain costs less than that; negative means it loses at any price.

    Why expected costs rank the policies: one year of realised labels is noisy (a few hundred churners more or
    less move the booked cost by more than the policies differ), and the choice is about the years to come.

    `runs` ({policy: run_policy(...) frame}) reuses weeks already simulated: pricing the same runs at
    another retraining cost needs no new simulation.
    """
    import pandas as pd

    runs = runs if runs is not None else {p: run_policy(world, p, **kwargs) for p in policies}
    floor = oracle_cost(world, costs.errors)
    rows = []
    for p in policies:
        r = runs[p]
        n = int(r["retrained"].sum())
        err = float(r["expected_cost"].sum())
        rows.append({"policy": p, "retrains": n, "mean_precision": float(r["precision"].mean()),
                     "booked_error_cost": float(r["error_cost"].sum()), "error_cost": err,
                     "avoidable_cost": err - floor, "retrain_cost": n * costs.retrain,
                     "total_cost": err + n * costs.retrain})
    table = pd.DataFrame(rows)
    if "never" in set(table["policy"]):
        never = float(table.loc[table["policy"] == "never", "error_cost"].iloc[0])
        saved = never - table["error_cost"]
        table["saved_vs_never"] = saved
        table["break_even_retrain_cost"] = np.where(table["retrains"] > 0, saved / table["retrains"].where(
            table["retrains"] > 0), np.nan)
    table = table.sort_values(["total_cost", "retrains"], ignore_index=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table
