"""Notebook 06's world: a company's portfolio of models, its staff, its OKRs, its AI backlog, two candidate
features to frame, and the economics of two ageing models.

The portfolio is seeded and plants four realistic gaps, each recorded as the ground truth the tests compare
the checker with (one gap, one model, one gate):

- `no_council`: an AI Act high-risk model promoted to production without the council's sign-off;
- `stale_validation`: a risk event (a drift incident) after the model's last validation;
- `missing_monitoring`: a production model with no monitors;
- `orphaned_owner`: the model's owner has left the company.

Everything else is complete, so a correct checker finds exactly these. Dates are relative to a fixed TODAY,
never the machine's clock, so every run of a seed is the same.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from lifecycle_lab.framing import prioritise
from lifecycle_lab.governance import risk

TODAY = dt.date(2026, 12, 1)
STAFF = ("A. Osei", "B. Lindqvist", "C. Moreau", "D. Haddad", "E. Kowalski", "F. Tanaka", "G. Alvarez",
         "H. Nakamura", "I. Petrov", "J. Mensah")
FORMER_STAFF = ("K. Brandt", "L. Ferreira")
GAP_KINDS = {"no_council": "council", "stale_validation": "validation", "missing_monitoring": "monitoring",
             "orphaned_owner": "triage"}
"""Planted gap -> the policy gate it breaks."""

# risk element scores (governance.risk.ELEMENTS order) that give each tier
_LOW = dict(conceptual_soundness=2, ongoing_monitoring=2, outcomes_analysis=1, data=2, usage=2, exposure=1)
_MED = dict(conceptual_soundness=3, ongoing_monitoring=2, outcomes_analysis=3, data=2, usage=3, exposure=3)
_HIGH = dict(conceptual_soundness=3, ongoing_monitoring=2, outcomes_analysis=2, data=3, usage=5, exposure=4)
_CV = dict(conceptual_soundness=3, ongoing_monitoring=3, outcomes_analysis=2, data=3, usage=4, exposure=2)

CATALOGUE = (
    # name, purpose, use, team, stage, risk scores, notebook of the workbook it comes from
    ("ticket-router", "route support tickets to billing, technical or general queues", "internal_tool",
     "support", "production", _LOW, "01"),
    ("credit-scorer", "score consumer credit applications", "credit_scoring", "lending", "production", _HIGH, "03"),
    ("fraud-detector", "flag card transactions for review", "fraud_detection", "payments", "production", _MED, "03"),
    ("cv-screener", "shortlist job applications for recruiters", "recruitment", "people", "production", _CV, None),
    ("churn-predictor", "flag customers likely to cancel for a retention offer", "customer_analytics", "growth",
     "production", _LOW, "04"),
    ("demand-forecaster", "forecast daily demand per store and product", "forecasting", "supply", "production",
     _MED, None),
    ("chatbot-intent", "classify what a chat customer wants before routing", "chatbot", "support", "production",
     _LOW, None),
    ("health-premium-pricer", "price health-insurance add-ons per person", "health_insurance_pricing",
     "insurance", "staging", _HIGH, None),
    ("product-recommender", "rank products on the home page", "recommendation", "growth", "production", _MED, "05"),
    ("review-sentiment", "score the sentiment of product reviews", "customer_analytics", "growth", "staging",
     _LOW, "07"),
    ("fraud-rules-legacy", "the fraud model the fraud-detector replaced", "fraud_detection", "payments",
     "retired", _MED, "03"),
    ("price-optimiser", "suggest marketplace price changes", "internal_tool", "growth", "development", _MED, None),
)
EVIDENCE_DOCS = {"evidence.inventory": "inventory.md", "evidence.datasheet": "datasheet.md",
                 "evidence.training_run": "training_run.json", "evidence.gate_memo": "decision_memo.md",
                 "evidence.model_card": "model_card.md", "evidence.rollout_plan": "rollout_plan.md"}


@dataclass(frozen=True)
class Gap:
    model: str
    kind: str
    gate: str
    detail: str


@dataclass
class Portfolio:
    seed: int
    records: list[dict]
    planted: list[Gap]
    directory: tuple[str, ...] = STAFF
    today: dt.date = TODAY
    notes: dict = field(default_factory=dict)

    def truth(self) -> set[tuple[str, str]]:
        """The (model, gate) pairs a correct checker reports: one per planted gap."""
        return {(g.model, g.gate) for g in self.planted}

    def record(self, name: str) -> dict:
        return next(r for r in self.records if r["name"] == name)


def _day(rng: random.Random, low: int, high: int) -> dt.date:
    return TODAY - dt.timedelta(days=rng.randint(low, high))


def portfolio(seed: int = 0, n_models: int = 12) -> Portfolio:
    """The seeded portfolio of the first `n_models` (8-12) catalogue models, with the four planted gaps."""
    if not 8 <= n_models <= len(CATALOGUE):
        raise ValueError(f"n_models={n_models} must be from 8 to {len(CATALOGUE)}")
    rng = random.Random(seed)
    records = []
    for name, purpose, use, team, stage, scores, notebook in CATALOGUE[:n_models]:
        tier = risk.tier(scores)[0]
        validated = _day(rng, 30, 300)
        tags = {"owner": rng.choice(STAFF), "purpose": purpose, "use": use, "team": team, "risk_tier": tier,
                "stage": stage, "data_ethics_review": _day(rng, 320, 700).isoformat(),
                "last_validation": validated.isoformat(), "monitoring": "drift + outcomes + latency, alerts to "
                                                                        f"#{team}-oncall",
                "last_risk_event": (validated - dt.timedelta(days=rng.randint(10, 200))).isoformat(),
                "workbook_notebook": notebook or "-"}
        tags.update({tag: f"evidence/{name}/{doc}" for tag, doc in EVIDENCE_DOCS.items()})
        if tier == 1 or use in ("credit_scoring", "recruitment", "health_insurance_pricing"):
            tags["council_review"] = (validated + dt.timedelta(days=rng.randint(5, 25))).isoformat() \
                if stage == "production" else ""
        if stage == "staging":
            tags["target_launch"] = (TODAY + dt.timedelta(days=rng.randint(10, 60))).isoformat()
        if stage == "retired":
            tags["evidence.sunset_plan"] = f"evidence/{name}/sunset_plan.md"
            tags["monitoring"] = "none (retired)"
        if stage in ("development", "staging"):
            tags["monitoring"] = "none yet"
        records.append({"name": name, "tags": {k: str(v) for k, v in tags.items()},
                        "aliases": {"champion": 2} if stage == "production" else {}, "versions": 2})
    planted = _plant(rng, records)
    return Portfolio(seed, records, planted)


def _plant(rng: random.Random, records: list[dict]) -> list[Gap]:
    used: set[str] = set()
    production = [r for r in records if r["tags"]["stage"] == "production"]

    def pick(candidates):
        choice = rng.choice([r for r in candidates if r["name"] not in used])
        used.add(choice["name"])
        return choice

    gaps = []
    r = pick([r for r in production if r["tags"]["use"] in ("credit_scoring", "recruitment")])
    r["tags"]["council_review"] = ""
    gaps.append(Gap(r["name"], "no_council", GAP_KINDS["no_council"],
                    "promoted by moving the champion alias directly, without the council's sign-off"))
    r = pick([r for r in production if r["tags"]["risk_tier"] in ("1", "2")])
    validated = dt.date.fromisoformat(r["tags"]["last_validation"])
    event = min(TODAY - dt.timedelta(days=3), validated + dt.timedelta(days=rng.randint(7, 60)))
    r["tags"]["last_risk_event"] = event.isoformat()
    r["tags"]["last_risk_event_kind"] = "concept drift incident"
    gaps.append(Gap(r["name"], "stale_validation", GAP_KINDS["stale_validation"],
                    f"a concept drift incident on {event} after the validation of {validated}"))
    r = pick(production)
    r["tags"]["monitoring"] = "none"
    gaps.append(Gap(r["name"], "missing_monitoring", GAP_KINDS["missing_monitoring"], "no monitors configured"))
    r = pick(records)
    r["tags"]["owner"] = rng.choice(FORMER_STAFF)
    gaps.append(Gap(r["name"], "orphaned_owner", GAP_KINDS["orphaned_owner"],
                    f"{r['tags']['owner']} left the company"))
    return gaps


# -- the company's objectives and its AI backlog ----------------------------------------------------------

OKRS = {
    "O1-retention": "reduce monthly customer churn from 2.4% to 2.0%",
    "O2-support": "cut the support cost per ticket by 15%",
    "O3-trust": "pass the AI Act readiness audit with no critical finding",
    "O4-growth": "grow marketplace revenue by 10%",
}
BACKLOG = (
    # feature, okr, impact, confidence, ease (1-10), value (kEUR a year), effort (person-weeks)
    ("churn-save offers", "O1-retention", 8, 6, 6, 420, 16),
    ("ticket reply drafts", "O2-support", 7, 5, 6, 260, 10),
    ("smart escalation", "O2-support", 5, 8, 8, 90, 3),
    ("AI Act evidence automation", "O3-trust", 6, 9, 4, 150, 12),
    ("personalised search", "O4-growth", 9, 4, 4, 600, 26),
    ("demand-driven pricing", "O4-growth", 7, 3, 3, 350, 30),
    ("fraud graph features", "O3-trust", 6, 5, 5, 200, 14),
    ("review summaries", "O1-retention", 4, 6, 7, 60, 6),
)


def backlog():
    """The AI feature backlog as a DataFrame (framing.prioritise.BACKLOG_COLUMNS)."""
    return prioritise.items([dict(zip(prioritise.BACKLOG_COLUMNS, row)) for row in BACKLOG])


# -- two candidate features, simulated so that "would rules do?" is measured --------------------------------

CANDIDATES = {
    "smart escalation": {"volume": 200_000, "gain_tp": 100.0, "cost_fp": 15.0, "cost_fn": 0.0,
                         "cost_rules": 3_000.0, "cost_ml": 25_000.0,
                         "rule": "escalate when an enterprise customer reports an outage, or a ticket waits > 48 h"},
    "churn-save offers": {"volume": 100_000, "gain_tp": 60.0, "cost_fp": 10.0, "cost_fn": 0.0,
                          "cost_rules": 2_000.0, "cost_ml": 30_000.0,
                          "rule": "offer to every customer in the first 6 months of tenure"},
}


def candidate_cases(feature: str, seed: int = 0, n: int = 6000):
    """Simulated cases of a candidate feature: (X, y, rule_flag). For smart escalation the truth IS a rule
    (plus 3% label noise); for churn-save offers it is a smooth interaction of usage, tenure and tickets."""
    import numpy as np

    rng = np.random.default_rng(seed + (0 if feature == "smart escalation" else 1000))
    if feature == "smart escalation":
        enterprise = rng.random(n) < 0.2
        outage = rng.random(n) < 0.1
        wait = rng.exponential(16, n)
        sentiment = rng.normal(0, 1, n)
        y = (enterprise & outage) | (wait > 48)
        y = np.where(rng.random(n) < 0.03, ~y, y)
        X = np.column_stack([enterprise, outage, wait, sentiment]).astype(float)
        rule = (enterprise & outage) | (wait > 48)
    elif feature == "churn-save offers":
        tenure = rng.exponential(18, n)
        usage = rng.normal(0, 1, n)
        tickets = rng.poisson(1.5, n)
        logit = -2.2 - 1.3 * usage + 0.45 * tickets - 0.04 * tenure + 0.8 * (usage < -0.5) * (tickets > 2)
        y = rng.random(n) < 1 / (1 + np.exp(-logit))
        X = np.column_stack([tenure, usage, tickets]).astype(float)
        rule = tenure < 6
    else:
        raise KeyError(f"no candidate feature {feature!r}; use one of {list(CANDIDATES)}")
    return X, y.astype(int), rule.astype(int)


# -- the economics of two ageing models (governance.business options) ---------------------------------------

ECONOMICS = {
    "churn-predictor": {
        "volume": 100_000,
        "status_quo": dict(annual={"infrastructure": 12_000, "monitoring": 6_000}, cost_per_decision=1.8),
        "retrain": dict(upfront={"engineering": 40_000, "validation": 10_000},
                        annual={"infrastructure": 12_000, "monitoring": 6_000, "labelling": 8_000},
                        cost_per_decision=1.2, drift_exposure=0.3),
        "retire": dict(upfront={"migration": 8_000}, annual={"rules upkeep": 3_000}, cost_per_decision=2.6,
                       drift_exposure=0.2),
    },
    "demand-forecaster": {
        "volume": 50_000,
        "status_quo": dict(annual={"infrastructure": 30_000, "feature pipelines": 25_000, "monitoring": 10_000},
                           cost_per_decision=0.9),
        "retrain": dict(upfront={"engineering": 50_000, "validation": 10_000},
                        annual={"infrastructure": 30_000, "feature pipelines": 25_000, "monitoring": 10_000},
                        cost_per_decision=0.8, drift_exposure=0.3),
        "retire": dict(upfront={"migration": 10_000}, annual={"seasonal naive forecast": 4_000},
                       cost_per_decision=1.05, drift_exposure=0.1),
    },
}
"""Per model: yearly volume of decisions, and each option's TCO and error cost per decision (EUR), stated so
they can be argued with. Retire = replace the model with the rule or the naive forecast that preceded it."""

STACK = (
    # component, mandated by the platform?, the standard, what each team still chooses
    ("model registry", True, "MLflow on a database server: versions, champion / challenger aliases, "
                             "governance tags", "model names, when to register"),
    ("monitoring", True, "Prometheus / Grafana for the service, drift (PSI / KS) and outcome monitors per model, "
                         "alerts to the owner's on-call", "thresholds, business metrics, alert routes"),
    ("feature store", True, "one definition per feature, point-in-time correct for training and serving",
     "which features, their freshness"),
    ("documents", True, "model card, datasheet, gate memo, incident report from the workbook's templates",
     "the content"),
    ("training framework", False, "-", "scikit-learn, PyTorch, gradient boosting...: the team's choice"),
    ("orchestration", False, "recommended: Prefect", "Prefect, Airflow or cron"),
    ("serving", False, "recommended: the batch job or the FastAPI service", "batch or online, the model server"),
)
