"""A lifecycle governance framework for a platform: stage gates, who reviews what, and the playbooks.

Why: one well-governed model is a project; a platform with many teams needs the same checkpoints for
everyone, scaled to risk (a Tier 3 internal tool should not wait for a council; a high-risk credit model
must). The gates are data, so a team can see what its model owes at each stage and a notebook can check
which gates its own evidence already satisfies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from lifecycle_lab.governance import GovernanceError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

# (stage, gate, evidence required, owner, minimum tier it applies to: 3 = every model, 1 = Tier 1 only)
STAGE_GATES = (
    ("problem framing", "use-case and risk triage", "inventory entry with purpose, users, AI Act tier", "product", 3),
    ("data", "data ethics review before training", "datasheet; protected and proxy attributes named", "ethics", 2),
    ("training", "reproducible training run", "registry entry: data hash, seed, versions", "ML engineering", 3),
    ("evaluation", "performance SLA defined before deployment", "metrics, thresholds, cost matrix, slices", "product", 3),
    ("evaluation", "fairness and explainability review", "group audit, model card, reason codes", "ethics + legal", 2),
    ("deployment", "launch checklist and rollback rehearsed", "shadow / canary plan, armed trigger", "ML engineering", 3),
    ("monitoring", "monitors live with owners", "drift, outcome and P(Y|X) monitors, alert routes", "ML engineering", 3),
    ("governance", "independent validation (effective challenge)", "validation report, risk tier", "model risk", 2),
    ("governance", "council sign-off", "memo with business case and regulatory checklist", "governance council", 1),
    ("retirement", "decommissioning plan", "sunset plan, data fallback, retention, inventory update", "model risk", 3),
)

COUNCIL = ("Product", "Engineering", "Legal", "Ethics", "Model risk")

STACK = {
    "feature store": "one definition of each feature for training and serving, with point-in-time correct "
                     "look-ups (no label leakage when labels arrive late)",
    "model registry": "MLflow (SQLite or a database server): versions, aliases, lineage",
    "monitoring": "infrastructure metrics (Prometheus / Grafana) plus drift and business metrics per model",
    "documents": "generated from evidence: model card, checklist, memo, incident report (this notebook)",
}


def gates(tier: int, high_risk: bool = False) -> "pd.DataFrame":
    """The gates a model of this risk tier must pass (an AI Act high-risk model counts as Tier 1)."""
    import pandas as pd

    if tier not in (1, 2, 3):
        raise GovernanceError(f"tier={tier!r} must be 1 (high), 2 or 3")
    effective = 1 if high_risk else tier
    rows = [g for g in STAGE_GATES if effective <= g[4]]
    return pd.DataFrame([g[:4] for g in rows], columns=["stage", "gate", "evidence", "owner"])


def review_route(tier: int, high_risk: bool = False) -> dict:
    """Who signs the deployment: the team, model risk, or the cross-functional council."""
    if tier not in (1, 2, 3):
        raise GovernanceError(f"tier={tier!r} must be 1 (high), 2 or 3")
    if tier == 1 or high_risk:
        return {"route": "governance council", "members": list(COUNCIL),
                "why": "Tier 1 or AI Act high-risk: a cross-functional review before any deployment"}
    if tier == 2:
        return {"route": "model risk review", "members": ["Model risk", "Product"],
                "why": "Tier 2: independent validation, no council"}
    return {"route": "team sign-off with the checklist", "members": ["Product", "Engineering"],
            "why": "Tier 3: standard gates, self-certified and audited by sampling"}


def gate_status(table: "pd.DataFrame", produced: Mapping[str, bool]) -> "pd.DataFrame":
    """Mark each gate 'evidence on file' or 'missing' from a {gate: bool} map of what exists."""
    unknown = sorted(set(produced) - set(table["gate"]))
    if unknown:
        raise GovernanceError(f"unknown gates {unknown}; use the gate names of the table")
    out = table.copy()
    out["status"] = ["evidence on file" if produced.get(g, False) else "missing" for g in out["gate"]]
    return out
