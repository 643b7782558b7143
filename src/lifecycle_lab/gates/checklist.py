"""The launch checklist: what must be true besides the metrics before a model graduates.

Why: a gate that passes on metrics but has nobody on call, no rehearsed rollback and no load test is not
ready. Each item is computed from evidence by the project that runs the gate (the recommender review's
`projects.p02_gate.checklist`), never ticked by hand, and states what it rests on. Items follow the content brief (load test, drift monitoring, rollback
rehearsed, owners, stakeholders told) and the ML Test Score (Breck et al. 2017): Infra 4 (model quality
validated before serving), Infra 6 (canaried), Infra 7 (quick, safe rollback), Monitor 3 (training and
serving compute the same values).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

REQUIRED_OWNERS = ("model owner", "on-call", "business owner")


@dataclass
class CheckItem:
    """One launch-checklist item: what, whether it is done, and the evidence."""

    item: str
    done: bool
    evidence: str


def _communication_item(plan: Mapping[str, Any] | None) -> CheckItem:
    plan = dict(plan or {})
    notify = [str(x) for x in plan.get("notify", []) if str(x).strip()]
    channel = str(plan.get("channel", "")).strip()
    done = bool(channel and notify)
    evidence = (f"{channel}: {', '.join(notify)} ({plan.get('when', 'timing not stated')})" if done
                else "no communication plan: name a channel and the stakeholders to notify")
    return CheckItem("communication plan: stakeholders notified", done, evidence)


def launch_checklist(*, load_tested: bool, drift_report: str | Path | None, rollback_rehearsed: bool,
                     owners: Mapping[str, str], offline_validated: bool, canaried: bool,
                     skew_checked: bool, notes: Mapping[str, str] | None = None,
                     communication: Mapping[str, Any] | None = None) -> list[CheckItem]:
    """The checklist from yes/no facts plus the evidence text of each (`notes`, keyed load, rollback, infra4,
    infra6, infra7, monitor3). The drift item checks that the report file exists; owners need all of
    `REQUIRED_OWNERS`; the communication plan needs a channel and at least one stakeholder to notify."""
    notes = dict(notes or {})
    named = [r for r in REQUIRED_OWNERS if str(owners.get(r, "")).strip()]
    report_ok = drift_report is not None and Path(drift_report).exists()
    return [
        CheckItem("load test at the target request rate", bool(load_tested), notes.get("load", "no load test run")),
        CheckItem("drift monitoring in place", report_ok,
                  f"report at {Path(drift_report).name}" if report_ok else "no drift report written"),
        CheckItem("rollback rehearsed", bool(rollback_rehearsed), notes.get("rollback", "no rehearsal run")),
        CheckItem("owners named", len(named) == len(REQUIRED_OWNERS),
                  f"named: {', '.join(f'{r}: {owners[r]}' for r in named) or 'none'}"
                  + ("" if len(named) == len(REQUIRED_OWNERS) else
                     f"; missing {[r for r in REQUIRED_OWNERS if r not in named]}")),
        _communication_item(communication),
        CheckItem("ML Test Score Infra 4: model quality validated before serving", bool(offline_validated),
                  notes.get("infra4", "no offline validation")),
        CheckItem("ML Test Score Infra 6: canaried before full serving", bool(canaried),
                  notes.get("infra6", "no canary")),
        CheckItem("ML Test Score Infra 7: quick, safe rollback", bool(rollback_rehearsed),
                  notes.get("infra7", "no rollback exercised")),
        CheckItem("ML Test Score Monitor 3: training and serving compute the same values", bool(skew_checked),
                  notes.get("monitor3", "no skew check")),
    ]
