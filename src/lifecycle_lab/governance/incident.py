"""The incident report for a model degradation: what happened, when, what it cost, why, and who acts.

Why a structure: an incident report read by a CFO and a compliance officer must answer the same
questions every time (timeline, detecting monitor, impact in money, root cause, time to roll back,
regulatory reporting, actions with owners). Building it from data means the money and the dates agree
with the monitoring evidence, and a missing owner is an error rather than an oversight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import GovernanceError, check_variant
from .modelcard import fmt

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ROOT_CAUSES = ("data drift", "concept drift", "pipeline bug")
SECTIONS = ("Summary", "Timeline", "Detection", "Impact", "Root cause", "Rollback", "Regulatory reporting",
            "Actions")


def excess_cost(monthly: "pd.DataFrame", baseline_per_1k: float, from_month: int) -> dict:
    """Money lost to the degradation: sum over months >= from_month of (cost_per_1k - baseline) x decisions.

    The labelled rows' cost rate is applied to all of the month's decisions; months without labels are
    left out and counted, because their cost is not known yet.
    """
    import math

    if baseline_per_1k < 0:
        raise GovernanceError("baseline_per_1k is negative: costs are positive amounts")
    need = {"month", "decisions", "cost_per_1k"}
    if not need <= set(monthly.columns):
        raise GovernanceError(f"monthly table needs columns {sorted(need)}")
    rows = monthly[monthly["month"] >= from_month]
    if rows.empty:
        raise GovernanceError(f"no months from {from_month} on: nothing to cost")
    total, unknown, per_month = 0.0, 0, {}
    for r in rows.itertuples():
        if math.isnan(r.cost_per_1k):
            unknown += 1
            continue
        extra = max(0.0, r.cost_per_1k - baseline_per_1k) * r.decisions / 1000
        per_month[int(r.month)] = extra
        total += extra
    return {"total": total, "months_costed": len(per_month), "months_without_labels": unknown,
            "per_month": per_month}


def art73_assessment(variant: str, *, rights_breach_suspected: bool, harm_to_health: bool = False) -> dict:
    """Does AI Act Art 73 (report serious incidents within 15 days) apply to this incident?

    Art 73 binds providers of high-risk systems. A serious incident (Art 3(49)) includes an infringement
    of obligations under Union law intended to protect fundamental rights, e.g. discriminatory credit
    decisions. Fraud detection is not high-risk (Annex III 5(b) exception), so Art 73 does not apply to it,
    though other incident regimes may.
    """
    check_variant(variant)
    if variant == "fraud":
        return {"applies": False, "reason": "the fraud model is not a high-risk AI system (Annex III 5(b) "
                                            "excepts fraud detection), so Art 73 does not apply; check other "
                                            "incident-reporting regimes that bind the firm"}
    if rights_breach_suspected or harm_to_health:
        return {"applies": True, "reason": "credit scoring is high-risk and a possible infringement of "
                                           "fundamental-rights obligations (unequal error rates across age "
                                           "bands) is suspected: establish the causal link and report to the "
                                           "market-surveillance authority within 15 days of becoming aware"}
    return {"applies": False, "reason": "high-risk system, but the degradation caused money losses only, "
                                        "no harm listed in Art 3(49); document the assessment and keep it"}


@dataclass
class Action:
    action: str
    owner: str
    due: str

    def __post_init__(self):
        for name in ("action", "owner", "due"):
            if not str(getattr(self, name)).strip():
                raise GovernanceError(f"every action needs an {name}: {self!r}")


@dataclass
class IncidentReport:
    """The fields every model incident report answers (see SECTIONS)."""

    title: str
    model_id: str
    variant: str
    summary: str
    timeline: list  # [(when, what), ...] in order
    detected_by: str
    detection_lag_months: float | None
    impact_eur: float
    impact_note: str
    root_cause: str
    root_cause_evidence: str
    time_to_rollback: str
    art73: dict
    actions: list = field(default_factory=list)

    def __post_init__(self):
        check_variant(self.variant)
        if self.root_cause not in ROOT_CAUSES:
            raise GovernanceError(f"root_cause {self.root_cause!r} must be one of {list(ROOT_CAUSES)}")
        if self.impact_eur < 0:
            raise GovernanceError("impact_eur is negative: enter the loss as a positive amount")
        if not self.timeline:
            raise GovernanceError("the timeline is empty: give at least onset, detection and response")
        if not self.actions:
            raise GovernanceError("an incident report needs at least one action with an owner")
        self.actions = [a if isinstance(a, Action) else Action(*a) for a in self.actions]

    def to_markdown(self) -> str:
        lag = "not detected" if self.detection_lag_months is None else f"{fmt(float(self.detection_lag_months))} months"
        out = [f"# Incident report: {self.title}", "", f"Model: {self.model_id} ({self.variant})", "",
               "## Summary", self.summary, "", "## Timeline", "| when | what |", "|---|---|"]
        out += [f"| {when} | {what} |" for when, what in self.timeline]
        out += ["", "## Detection", f"- **detected by:** {self.detected_by}", f"- **detection lag:** {lag}", "",
                "## Impact", f"- **impact (EUR):** {fmt(float(self.impact_eur))}", f"- {self.impact_note}", "",
                "## Root cause", f"- **root cause:** {self.root_cause}", f"- {self.root_cause_evidence}", "",
                "## Rollback", f"- **time to roll back:** {self.time_to_rollback}", "",
                "## Regulatory reporting",
                f"- **AI Act Art 73 applies:** {'yes' if self.art73['applies'] else 'no'}",
                f"- {self.art73['reason']}", "", "## Actions", "| action | owner | due |", "|---|---|---|"]
        out += [f"| {a.action} | {a.owner} | {a.due} |" for a in self.actions]
        return "\n".join(out) + "\n"
