"""Notebook 06's platform: the policy file, the registry built from the portfolio, the framing evidence of
the two candidate features, and the retire-vs-retrain cases; each a short call for the notebook."""

from __future__ import annotations

from pathlib import Path

from lifecycle_lab.deployment import registry
from lifecycle_lab.framing.canvas import MLCanvas, RulesOrML, rules_or_ml
from lifecycle_lab.governance import business
from lifecycle_lab.governance.policy import STAGES, Policy, playbook, read_policy, to_dict, validate_policy
from lifecycle_lab.projects.p06_platform.world import CANDIDATES, ECONOMICS, Portfolio, candidate_cases

POLICY_FILE = Path(__file__).with_name("policy.yaml")


def load_policy(path: str | Path | None = None) -> Policy:
    """The platform's policy (the package's policy.yaml unless another file is given), validated."""
    return read_policy(Path(path) if path else POLICY_FILE)


def build_registry(portfolio: Portfolio, folder: str | Path) -> str:
    """Register every model of the portfolio, with its tags and versions, in a new MLflow SQLite registry in
    `folder` (which must not hold one yet); production models get the champion alias. Returns the URI."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "mlflow.db").exists():
        raise FileExistsError(f"{folder / 'mlflow.db'} exists: give a new folder for each run")
    uri = registry.tracking_uri(folder)
    for r in portfolio.records:
        registry.register_model_record(uri, r["name"], tags=r["tags"], source=folder / "artifacts" / r["name"],
                                       versions=r["versions"], alias="champion" if r["aliases"] else None,
                                       description=r["tags"]["purpose"])
    return uri


def disclosure_policy(policy: Policy) -> Policy:
    """The policy with one more kind of evidence: the notice telling people they talk to an AI system (AI Act
    Art 50(1)); what a gate for chatbots would ask for (exercise 1)."""
    data = to_dict(policy)
    data["evidence"]["ai_disclosure"] = {"kind": "link", "tag": "evidence.ai_disclosure",
                                         "description": "the notice shown to users that they interact with an AI "
                                                        "system (AI Act Art 50(1))"}
    return validate_policy(data)


def write_playbooks(policy: Policy, folder: str | Path) -> list[Path]:
    """One markdown playbook per lifecycle stage into folder/playbooks/."""
    out = Path(folder) / "playbooks"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, stage in enumerate(STAGES):
        path = out / f"{i}_{stage}.md"
        path.write_text(playbook(policy, stage) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def value(y, flag, *, gain_tp: float, cost_fp: float, cost_fn: float) -> float:
    """Value per case of acting on `flag`: gain on each true positive, minus false positives' and misses' costs."""
    import numpy as np

    y, flag = np.asarray(y, bool), np.asarray(flag, bool)
    return float((gain_tp * (y & flag).sum() - cost_fp * (~y & flag).sum() - cost_fn * (y & ~flag).sum()) / len(y))


def framing_evidence(feature: str, seed: int = 0) -> dict:
    """Rules vs a model on the same held-out cases of a candidate feature, in EUR a year, and the verdict.

    The model (a depth-4 decision tree) is trained on half the cases; it acts where P(y) exceeds the
    cost-optimal threshold for this feature's gains and costs; both are valued on the other half."""
    from sklearn.tree import DecisionTreeClassifier

    spec = CANDIDATES[feature]
    X, y, rule = candidate_cases(feature, seed)
    half = len(y) // 2
    model = DecisionTreeClassifier(max_depth=4, min_samples_leaf=30, random_state=seed).fit(X[:half], y[:half])
    threshold = (spec["cost_fp"]) / (spec["cost_fp"] + spec["gain_tp"] + spec["cost_fn"])  # Elkan, with a gain
    flag_ml = model.predict_proba(X[half:])[:, 1] >= threshold
    costs = {k: spec[k] for k in ("gain_tp", "cost_fp", "cost_fn")}
    per_rule, per_ml = value(y[half:], rule[half:], **costs), value(y[half:], flag_ml, **costs)
    verdict: RulesOrML = rules_or_ml(value_rules=per_rule * spec["volume"], value_ml=per_ml * spec["volume"],
                                     cost_rules=spec["cost_rules"], cost_ml=spec["cost_ml"])
    return {"feature": feature, "rule": spec["rule"], "cases": int(len(y) - half), "threshold": threshold,
            "value_per_case_rules": per_rule, "value_per_case_ml": per_ml, **verdict.as_dict()}


def options(model: str) -> tuple[list[business.Option], business.Option]:
    """(retrain, retire) and the status quo of one ageing model, from world.ECONOMICS."""
    spec = ECONOMICS[model]
    status_quo = business.Option("status_quo", **spec["status_quo"], description="keep it as it is")
    return [business.Option("retrain", **spec["retrain"], description="retrain on recent data"),
            business.Option("retire", **spec["retire"], description="replace it with the rule it replaced")], \
        status_quo


def retire_or_retrain(model: str, *, horizon_years: int, discount_rate: float, drift_rate: float):
    """The NPV table of retrain and retire against keeping the model, and the recommendation."""
    opts, status_quo = options(model)
    inputs = business.CaseInputs(volume_per_year=ECONOMICS[model]["volume"], horizon_years=horizon_years,
                                 discount_rate=discount_rate, drift_rate=drift_rate)
    table = business.evaluate_options(opts, status_quo, inputs)
    return table, business.recommend(table)


CHURN_CANVAS = MLCanvas(
    title="churn-save offers",
    value_proposition="the retention team gets a weekly list of customers likely to cancel, so an offer reaches "
                      "them before they leave",
    prediction_task="binary classification: will this customer cancel within 30 days, scored every week",
    decisions="send a retention offer (EUR 10) to customers whose churn probability exceeds the cost-optimal "
              "threshold; a saved customer is worth EUR 60",
    impact_simulation="value the offers on last quarter's labelled customers with the gains and costs above, "
                      "against the tenure rule, before any launch",
    making_predictions="weekly batch scoring of every active customer, results by Monday 08:00",
    data_collection="churn labels arrive 30 days after each score; offers accepted are logged",
    data_sources="billing, product usage events, support tickets",
    features="tenure, weekly usage, support tickets in the last 30 days",
    building_models="one gradient-boosted or tree model, retrained monthly or on a drift alert",
    live_monitoring="precision of the flags once labels land, save rate of offers, PSI of inputs, churn rate",
)
"""The reference ML Canvas of the second candidate feature (exercise 4's solution)."""


def launch_fixes(violations: list[dict], *, today, directory) -> dict:
    """The registry tags that close a launch's unmet gates once the work is done: the council's approval dated
    today, monitors live, and (an orphaned model) a new owner from the staff directory. Only gates this
    notebook's launch can owe are known; any other is an error, so nothing is closed by accident."""
    fixes = {"council": {"council_review": today.isoformat()},
             "monitoring": {"monitoring": "drift + outcomes + latency, alerts to the owner's on-call"},
             "triage": {"owner": sorted(directory)[0]}}
    unknown = sorted({v["gate"] for v in violations} - set(fixes))
    if unknown:
        raise ValueError(f"no fix is defined for gates {unknown}; add their evidence by hand")
    return {k: v for g in dict.fromkeys(v["gate"] for v in violations) for k, v in fixes[g].items()}
