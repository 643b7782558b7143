"""The incident report for a model degradation: what happened, when, what it cost, why, and who acts.

Why a structure: an incident report read by a CFO and a compliance officer must answer the same
questions every time (timeline, detecting monitor, impact in money, root cause, time to roll back,
regulatory reporting, actions with owners). Building it from data means the money and the dates agree
with the monitoring evidence, and a missing owner is an error rather than an oversight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lifecycle_lab.governance import GovernanceError, check_variant

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ROOT_CAUSES = ("data drift", "concept drift", "pipeline bug")
SECTIONS = ("Summary", "Timeline", "Detection", "Impact", "Root cause", "Rollback", "Regulatory reporting",
            "Actions")


BREACH = 0.20  # expected cost per decision up more than 20% against the baseline: an incident


def excess_cost(monthly: "pd.DataFrame", baseline_per_1k: float, from_month: int, *,
                volume_per_month: float | None = None) -> dict:
    """Money lost to the degradation: sum over months >= from_month of (cost_per_1k - baseline) x decisions / 1000.

    `decisions` is the monthly table's count unless `volume_per_month` is given: the simulation draws a
    sample of each month, and the report must cost the production volume the business case uses (one
    volume, stated). The labelled rows' cost rate is applied to all of the month's decisions; months
    without labels are left out and counted, because their cost is not known yet.
    """
    import math

    if not isinstance(baseline_per_1k, (int, float)) or not math.isfinite(baseline_per_1k):
        raise GovernanceError(f"baseline_per_1k={baseline_per_1k!r} must be a finite number (no labelled baseline "
                              f"months?)")
    if baseline_per_1k < 0:
        raise GovernanceError("baseline_per_1k is negative: costs are positive amounts")
    if volume_per_month is not None and (isinstance(volume_per_month, bool) or
                                         not isinstance(volume_per_month, (int, float)) or not volume_per_month > 0):
        raise GovernanceError(f"volume_per_month={volume_per_month!r} must be a positive number of decisions")
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
        decisions = r.decisions if volume_per_month is None else volume_per_month
        extra = max(0.0, r.cost_per_1k - baseline_per_1k) * decisions / 1000
        per_month[int(r.month)] = extra
        total += extra
    return {"total": total, "months_costed": len(per_month), "months_without_labels": unknown,
            "per_month": per_month, "volume_per_month": volume_per_month}


def is_incident(cost_increase: float, breach: float = BREACH) -> bool:
    """An incident when the expected cost per decision rose more than `breach` (the revalidation level)."""
    import math

    if not isinstance(cost_increase, (int, float)) or not math.isfinite(cost_increase):
        raise GovernanceError(f"cost_increase={cost_increase!r} must be a finite relative change, e.g. 0.4")
    return bool(cost_increase > breach)


def classify_root_cause(*, data_onset: int | None, concept_onset: int | None, degraded: bool) -> str | None:
    """The root cause the monitoring evidence points to, or None when nothing degraded.

    Why this order: a moved P(Y|X) (concept drift) explains a degradation on its own; moved inputs with
    P(Y|X) intact can still hurt a misspecified model (data drift); worse outcomes with neither moved point
    at the pipeline (a wrong join, a stale feature, a changed unit) until proven otherwise.
    """
    if not degraded:
        return None
    if concept_onset is not None:
        return "concept drift"
    if data_onset is not None:
        return "data drift"
    return "pipeline bug"


def rights_breach_suspected(variant: str, *, equalized_odds_difference: float, four_fifths_flagged,
                            eo_limit: float = 0.1) -> bool:
    """Is an infringement of fundamental-rights obligations suspected (unequal treatment of people)?

    Only decisions about people can infringe them (credit); suspected when the four-fifths screen flags a
    group or the equalized-odds difference exceeds `eo_limit`. A screen, to be followed by a causal analysis.
    """
    check_variant(variant)
    if not 0 < eo_limit < 1:
        raise GovernanceError(f"eo_limit={eo_limit!r} must be between 0 and 1")
    return variant == "credit" and (bool(list(four_fifths_flagged)) or equalized_odds_difference > eo_limit)


def build_timeline(*, months: int, data_onset: int | None, concept_onset: int | None, detected: int | None,
                   incident: bool) -> list[tuple[str, str]]:
    """The dated events of the case, in order, leaving out what never happened."""
    events = [("month 0", "model trained; threshold set"), ("month 1", "general availability")]
    if data_onset is not None:
        events.append((f"month {data_onset}", "first input drift (PSI / Jensen-Shannon)"))
    if concept_onset is not None:
        events.append((f"month {concept_onset}", "P(Y|X) moves (score test, seen in hindsight)"))
    if detected is not None:
        events.append((f"end of month {detected}", "detected once labels arrived; incident opened"))
    events.append((f"month {months}", "revalidation, business case, migration plan" if incident else
                   "periodic review: outcomes inside the breach level, no incident"))
    return events


def art73_assessment(variant: str, *, rights_breach_suspected: bool, harm_to_health: bool = False,
                     incident: bool = True) -> dict:
    """Does AI Act Art 73 (report serious incidents within 15 days) apply to this incident?

    Art 73 binds providers of high-risk systems. A serious incident (Art 3(49)) includes an infringement
    of obligations under Union law intended to protect fundamental rights, e.g. discriminatory credit
    decisions. Fraud detection is not high-risk (Annex III 5(b) exception), so Art 73 does not apply to it,
    though other incident regimes may.
    """
    check_variant(variant)
    if not incident:
        return {"applies": False, "reason": "no incident was opened (no breach), so there is nothing to report under "
                                            "Art 73; a fairness finding is assessed on its own (section 5)"}
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
    """The fields every model incident report answers (see SECTIONS).

    `status` 'no incident' turns it into the record of a review that found no breach: every section is
    still written (a near-miss report answers the same questions), root_cause may be None and the impact 0.
    """

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
    status: str = "incident"

    STATUSES = ("incident", "no incident")

    def __post_init__(self):
        check_variant(self.variant)
        if self.status not in self.STATUSES:
            raise GovernanceError(f"status {self.status!r} must be one of {list(self.STATUSES)}")
        if not (self.root_cause in ROOT_CAUSES or (self.root_cause is None and self.status == "no incident")):
            raise GovernanceError(f"root_cause {self.root_cause!r} must be one of {list(ROOT_CAUSES)} "
                                  f"(None only when the status is 'no incident')")
        if self.impact_eur < 0:
            raise GovernanceError("impact_eur is negative: enter the loss as a positive amount")
        if not self.timeline:
            raise GovernanceError("the timeline is empty: give at least onset, detection and response")
        if not self.actions:
            raise GovernanceError("an incident report needs at least one action with an owner")
        self.actions = [a if isinstance(a, Action) else Action(*a) for a in self.actions]

    def to_markdown(self) -> str:
        lag = ("not detected" if self.detection_lag_months is None else
               f"{float(self.detection_lag_months):g} month{'' if self.detection_lag_months == 1 else 's'}")
        kind = "Incident report" if self.status == "incident" else "Monitoring review (no incident)"
        cause = self.root_cause or "none: no degradation beyond the breach level"
        out = [f"# {kind}: {self.title}", "", f"Model: {self.model_id} ({self.variant}); status: {self.status}", "",
               "## Summary", self.summary, "", "## Timeline", "| when | what |", "|---|---|"]
        out += [f"| {when} | {what} |" for when, what in self.timeline]
        out += ["", "## Detection", f"- **detected by:** {self.detected_by}", f"- **detection lag:** {lag}", "",
                "## Impact", f"- **impact (EUR):** {float(self.impact_eur):,.0f}", f"- {self.impact_note}", "",
                "## Root cause", f"- **root cause:** {cause}", f"- {self.root_cause_evidence}", "",
                "## Rollback", f"- **time to roll back:** {self.time_to_rollback}", "",
                "## Regulatory reporting",
                f"- **AI Act Art 73 applies:** {'yes' if self.art73['applies'] else 'no'}",
                f"- {self.art73['reason']}", "", "## Actions", "| action | owner | due |", "|---|---|---|"]
        out += [f"| {a.action} | {a.owner} | {a.due} |" for a in self.actions]
        return "\n".join(out) + "\n"
