"""Model risk assessment in the style of SR 11-7, with the tiering of its successor.

Label it honestly: SR 11-7 (Federal Reserve / OCC 2011-12) was superseded on 17 Apr 2026 by SR 26-2 /
OCC Bulletin 2026-13. What changed for this exercise: the risk tier is tied to the model's *exposure*
(money and people affected) and *purpose*, and revalidation is triggered by risk events (drift, a
performance breach, an incident, a new regulation) rather than only by the calendar. The three pillars of
validation stay: conceptual soundness, ongoing monitoring, outcomes analysis (back-testing), with
effective challenge by people independent of the developers.

Why a rubric in code: the scores must follow from the evidence the notebook computed, and the same
evidence must always give the same tier (and a learner can check their own scoring against it).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Mapping

from lifecycle_lab.governance import GovernanceError, check_variant

ELEMENTS = ("conceptual_soundness", "ongoing_monitoring", "outcomes_analysis", "data", "usage", "exposure")
# Exposure and purpose (usage) weigh double: the successor guidance ties tiering to them.
WEIGHTS = {"conceptual_soundness": 1.0, "ongoing_monitoring": 1.0, "outcomes_analysis": 1.0, "data": 1.0,
           "usage": 2.0, "exposure": 2.0}
TIERS = {1: "Tier 1 (high)", 2: "Tier 2 (medium)", 3: "Tier 3 (low)"}

RUBRIC = {
    "conceptual_soundness": "1 + 2 if P(Y|X) moved (concept drift) + 1 if the design is legacy (cannot "
                            "represent new patterns, undocumented); capped at 5",
    "ongoing_monitoring": "months from concept-drift onset to its detection: <=1 -> 1, <=2 -> 2, <=3 -> 3, "
                          "<=5 -> 4, later or never -> 5; +1 (max 5) if inputs are not monitored for drift",
    "outcomes_analysis": "relative rise of the expected cost per decision, recent vs validation: <5% -> 1, "
                         "<10% -> 2, <20% -> 3, <35% -> 4, else 5",
    "data": "share of inputs drifted in the last month: 0 -> 1, <25% -> 2, <50% -> 3, <75% -> 4, else 5",
    "usage": "decisions about natural persons (credit) -> 5; transaction blocking with human review (fraud) "
             "-> 3; +1 (max 5) without human review",
    "exposure": "yearly expected error cost of the status quo: <0.1M -> 1, <1M -> 2, <5M -> 3, <20M -> 4, "
                "else 5",
}


def _is_bool(value) -> bool:
    """True for Python and numpy booleans (a comparison computed with numpy is a yes/no fact too)."""
    return isinstance(value, bool) or type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")


def _finite(name: str, value) -> float:
    if _is_bool(value) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise GovernanceError(f"{name}={value!r} must be a finite number (not NaN or infinite); recompute it from the "
                              f"evidence, e.g. a baseline of 0 makes a relative change undefined")
    return float(value)


def _band(value: float, edges, scores) -> int:
    for edge, score in zip(edges, scores):
        if value < edge:
            return score
    return scores[-1]


def score_elements(evidence: Mapping) -> dict:
    """Score each element 1 (low risk) to 5 (high risk) from the evidence, following RUBRIC.

    evidence keys: concept_drift (bool), legacy_architecture (bool), detection_lag_months (number or
    None if never detected), inputs_monitored (bool), cost_increase (relative, e.g. 0.4),
    share_drifted (0..1), variant ('fraud' / 'credit'), human_review (bool), annual_error_cost (EUR).
    A negative cost_increase (down to -1) is a fall in cost and scores 1; NaN, a non-number or a
    non-boolean fact is an error, so a broken upstream computation cannot pass as low risk.
    """
    need = {"concept_drift", "legacy_architecture", "detection_lag_months", "inputs_monitored", "cost_increase",
            "share_drifted", "variant", "human_review", "annual_error_cost"}
    missing = need - set(evidence)
    if missing:
        raise GovernanceError(f"risk evidence is missing {sorted(missing)}")
    check_variant(evidence["variant"])
    for key in ("concept_drift", "legacy_architecture", "inputs_monitored", "human_review"):
        if not _is_bool(evidence[key]):
            raise GovernanceError(f"{key}={evidence[key]!r} must be True or False (a yes/no fact about the model)")
    for key in ("cost_increase", "share_drifted", "annual_error_cost"):
        _finite(key, evidence[key])
    if not 0 <= evidence["share_drifted"] <= 1:
        raise GovernanceError(f"share_drifted={evidence['share_drifted']!r} must be between 0 and 1")
    if evidence["annual_error_cost"] < 0:
        raise GovernanceError("annual_error_cost is negative: enter costs as positive amounts")
    if evidence["cost_increase"] < -1:
        raise GovernanceError(f"cost_increase={evidence['cost_increase']!r} is below -1: a cost cannot fall by more "
                              f"than 100%; give the relative change, e.g. 0.4 for a 40% rise")
    lag = evidence["detection_lag_months"]
    if lag is not None:
        _finite("detection_lag_months", lag)
        if lag < 0:
            raise GovernanceError(f"detection_lag_months={lag} is negative: detection cannot precede the onset")
    scores = {
        "conceptual_soundness": min(5, 1 + 2 * bool(evidence["concept_drift"])
                                    + bool(evidence["legacy_architecture"])),
        "ongoing_monitoring": min(5, (5 if lag is None else _band(lag, [1.0001, 2.0001, 3.0001, 5.0001],
                                                                  [1, 2, 3, 4, 5]))
                                  + (not evidence["inputs_monitored"])),
        "outcomes_analysis": _band(evidence["cost_increase"], [0.05, 0.10, 0.20, 0.35], [1, 2, 3, 4, 5]),
        "data": 1 if evidence["share_drifted"] == 0 else _band(evidence["share_drifted"], [0.25, 0.5, 0.75],
                                                              [2, 3, 4, 5]),
        "usage": min(5, (5 if evidence["variant"] == "credit" else 3) + (not evidence["human_review"])),
        "exposure": _band(evidence["annual_error_cost"], [1e5, 1e6, 5e6, 2e7], [1, 2, 3, 4, 5]),
    }
    return scores


def validate_scores(scores: Mapping) -> dict:
    """Every element present, each a whole number from 1 to 5; anything else is a clear error."""
    if not isinstance(scores, Mapping):
        raise GovernanceError(f"risk scores must be a dict {{element: 1..5}}, got {type(scores).__name__}")
    unknown = sorted(set(scores) - set(ELEMENTS))
    missing = sorted(set(ELEMENTS) - set(scores))
    if unknown or missing:
        raise GovernanceError(f"risk scores: unknown elements {unknown}, missing {missing}; use {list(ELEMENTS)}")
    clean = {}
    for key in ELEMENTS:
        value = scores[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise GovernanceError(f"risk score {key}={value!r} must be a whole number from 1 (low) to 5 (high)")
        clean[key] = value
    return clean


def composite(scores: Mapping) -> float:
    """Weighted mean of the element scores (usage and exposure weigh double)."""
    s = validate_scores(scores)
    return sum(WEIGHTS[k] * s[k] for k in ELEMENTS) / sum(WEIGHTS.values())


def tier(scores: Mapping) -> tuple[int, str]:
    """Risk tier and the reason: Tier 1 when exposure or usage is 5 or the composite >= 3.5; Tier 2 when
    the composite >= 2.5; else Tier 3."""
    s = validate_scores(scores)
    c = composite(s)
    if s["exposure"] == 5 or s["usage"] == 5:
        which = "usage (decisions about people)" if s["usage"] == 5 else "exposure"
        return 1, f"{TIERS[1]}: {which} scores 5, which sets the tier regardless of the rest (composite {c:.2f})"
    if c >= 3.5:
        return 1, f"{TIERS[1]}: composite {c:.2f} >= 3.5"
    if c >= 2.5:
        return 2, f"{TIERS[2]}: composite {c:.2f} in [2.5, 3.5)"
    return 3, f"{TIERS[3]}: composite {c:.2f} < 2.5"


REVALIDATION_EVENTS = {
    "concept_drift": "P(Y|X) moved (concept drift detected)",
    "performance_breach": "expected cost per decision rose more than 20% against validation",
    "data_drift": "at least half the inputs drifted",
    "regulation_change": "a new regulatory duty applies (explainability mandate)",
    "incident": "an incident was opened for this model",
}


def revalidation_triggers(events: Mapping[str, bool]) -> list[str]:
    """The risk events that trigger revalidation now (the successor guidance's event-driven review)."""
    unknown = sorted(set(events) - set(REVALIDATION_EVENTS))
    if unknown:
        raise GovernanceError(f"unknown risk events {unknown}; use {list(REVALIDATION_EVENTS)}")
    return [REVALIDATION_EVENTS[k] for k, v in events.items() if v]


@dataclass
class InventoryEntry:
    """One model in the model inventory (the fields SR 11-7 style inventories keep)."""

    model_id: str
    name: str
    purpose: str
    users: str
    restrictions: str
    inputs_and_sources: str
    upstream_models: str
    outputs: str
    owner: str
    developer: str
    validator: str
    last_validation: str
    next_validation: str
    expected_life: str
    risk_tier: str
    status: str = "in production"
    retired_on: str | None = None
    records_retained_until: str | None = None
    notes: list = field(default_factory=list)

    STATUSES = ("in development", "in production", "recently retired", "retired")

    def __post_init__(self):
        if self.status not in self.STATUSES:
            raise GovernanceError(f"inventory status {self.status!r} must be one of {list(self.STATUSES)}")

    def retire(self, on: str, retain_until: str, note: str = "") -> "InventoryEntry":
        """Mark the model 'recently retired': kept in the inventory, records retained, not in use."""
        if self.status == "retired":
            raise GovernanceError(f"{self.model_id} is already retired")
        self.status = "recently retired"
        self.retired_on = on
        self.records_retained_until = retain_until
        if note:
            self.notes.append(note)
        return self

    def to_markdown(self) -> str:
        rows = [(k.replace("_", " "), v) for k, v in asdict(self).items() if k != "notes"]
        lines = ["| field | value |", "|---|---|"] + [f"| {k} | {'' if v is None else v} |" for k, v in rows]
        if self.notes:
            lines += ["", "Notes: " + "; ".join(self.notes)]
        return "\n".join(lines)
