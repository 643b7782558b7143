"""Judging criteria against evidence, and the GO / NO-GO / GO WITH CONDITIONS decision.

Reading a metric with a confidence interval: a criterion passes only when the whole interval is on the good
side of the threshold, fails when the whole interval is on the bad side, and is inconclusive otherwise.
Decision: any blocker that does not pass -> NO-GO ("promote only if the interval clears the bar"); else any
condition that fails or is inconclusive, or a launch-checklist item not done -> GO WITH CONDITIONS; else GO.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from lifecycle_lab.gates.criteria import Criteria, CriteriaError, Criterion, holds

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from lifecycle_lab.gates.checklist import CheckItem

GO, NO_GO, GO_WITH_CONDITIONS = "GO", "NO-GO", "GO WITH CONDITIONS"
DECISIONS = (GO, NO_GO, GO_WITH_CONDITIONS)
PASS, FAIL, INCONCLUSIVE, MISSING = "PASS", "FAIL", "INCONCLUSIVE", "MISSING"


@dataclass
class Evidence:
    """A measured value, optionally its confidence interval, and where it came from.

    `measured=True` marks a wall-clock measurement (a latency): it varies from run to run, so it is shown
    with a leading `~` (the notebooks' convention for numbers that are measured, not computed).
    """

    value: Any
    ci: tuple[float, float] | None = None
    source: str = ""
    measured: bool = False


def _as_evidence(x: Any) -> Evidence:
    return x if isinstance(x, Evidence) else Evidence(x)


def judge(criterion: Criterion, evidence: Evidence | None) -> str:
    """PASS / FAIL / INCONCLUSIVE / MISSING for one criterion (intervals: see the module docstring)."""
    if evidence is None or evidence.value is None:
        return MISSING
    if criterion.spec is not None and criterion.spec.flag:
        return PASS if bool(evidence.value) == criterion.threshold else FAIL
    value = float(evidence.value)
    if math.isnan(value):
        return MISSING
    if evidence.ci is None:
        return PASS if holds(value, criterion.op, criterion.threshold) else FAIL
    lo, hi = sorted(map(float, evidence.ci))
    worst, best = (lo, hi) if criterion.op in (">", ">=") else (hi, lo)
    if holds(worst, criterion.op, criterion.threshold):
        return PASS
    if not holds(best, criterion.op, criterion.threshold):
        return FAIL
    return INCONCLUSIVE


def fmt(ev: Evidence | None) -> str:
    """A value (and its interval) as text, measured values with a leading `~`."""
    if ev is None or ev.value is None:
        return "n/a"
    if isinstance(ev.value, bool):
        return str(ev.value)
    mark = "~" if ev.measured else ""
    text = f"{mark}{float(ev.value):.4g}"
    if ev.ci is not None:
        text += f" [{mark}{ev.ci[0]:.4g}, {mark}{ev.ci[1]:.4g}]"
    return text


def row_evidence_text(row: Mapping[str, Any]) -> str:
    """A gate-table row's evidence as text (`fmt` of its value, interval and measured mark)."""
    return fmt(Evidence(row["value"], row["ci"], measured=row.get("measured", False)))


@dataclass
class GateResult:
    """The decision, every criterion's verdict, the blockers, the conditions and the checklist."""

    decision: str
    rows: list[dict]
    blockers: list[str]
    conditions: list[str]
    checklist: list["CheckItem"] = field(default_factory=list)
    criteria: Criteria | None = None

    def table(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("metric")

    def text_table(self) -> str:
        """The table as fixed-width text with the evidence last, so a measured value of another width
        (`~9.8` or `~10.3`) does not shift the other columns."""
        lines = [f"{'metric':32} {'group':9} {'rule':10} {'status':12} {'severity':9} evidence"]
        for r in self.rows:
            lines.append(f"{r['metric']:32} {r['group']:9} {r['rule']:10} {r['status']:12} {r['severity']:9} "
                         f"{row_evidence_text(r)}")
        return "\n".join(lines)

    def failed(self) -> list[str]:
        """Metrics whose verdict is not PASS."""
        return [r["metric"] for r in self.rows if r["status"] != PASS]

    def status(self, metric: str) -> str | None:
        return next((r["status"] for r in self.rows if r["metric"] == metric), None)


def evaluate_gate(criteria: Criteria, evidence: Mapping[str, Any],
                  checklist: Sequence["CheckItem"] = ()) -> GateResult:
    """Judge every criterion against its evidence and decide (rules in the module docstring).

    Why: the decision follows mechanically from criteria fixed in advance, so changing the world (the
    knobs) changes the decision, and a reviewer can trace each verdict to a number.
    """
    if not isinstance(criteria, Criteria):
        raise CriteriaError(f"evaluate_gate takes validated criteria, got {type(criteria).__name__}: call "
                            f"gates.validate_criteria(data, metrics) (or gates.load_criteria(path, metrics)) first")
    crit = criteria
    unknown = sorted(set(evidence) - set(crit.catalogue))
    if unknown:
        raise CriteriaError(f"evidence for unknown metrics {unknown}; known metrics are {sorted(crit.catalogue)}")
    rows, blockers, conditions = [], [], []
    for c in crit.items:
        ev = evidence.get(c.metric)
        ev = None if ev is None else _as_evidence(ev)
        status = judge(c, ev)
        rows.append({"group": c.group, "metric": c.metric, "rule": f"{c.op} {c.threshold}",
                     "value": None if ev is None else ev.value, "ci": None if ev is None else ev.ci,
                     "measured": bool(ev is not None and ev.measured),
                     "status": status, "severity": c.severity, "why": c.why,
                     "source": "" if ev is None else ev.source})
        if status != PASS:
            verb = {FAIL: "fails", INCONCLUSIVE: "is inconclusive against"}.get(status, status.lower())
            shown = "no evidence" if status == MISSING else f"{fmt(ev)} {verb} {c.op} {c.threshold}"
            text = f"{c.metric}: {shown} ({c.why})"
            (blockers if c.severity == "blocker" else conditions).append(text)
    for item in checklist:
        if not item.done:
            conditions.append(f"checklist: {item.item} not done ({item.evidence})")
    decision = NO_GO if blockers else GO_WITH_CONDITIONS if conditions else GO
    return GateResult(decision, rows, blockers, conditions, list(checklist), crit)
