"""The launch checklist: what must be true besides the metrics before a model graduates.

Why: a gate that passes on metrics but has nobody on call, no rehearsed rollback and no load test is not
ready. Each item is computed from evidence (`review_checklist` for the recommender review), never ticked by
hand, and states what it rests on. Items follow the content brief (load test, drift monitoring, rollback
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


MIN_LOAD_REQUESTS = 1000
MIN_SKEW_AGREEMENT = 0.99


def review_checklist(parts: Mapping[str, Any], criteria, drift_report: str | Path | None) -> list[CheckItem]:
    """The recommender review's checklist, every item computed from the review's parts.

    - load test: both models measured on >= 1,000 requests after warm-up, no errors, sent at the target
      rate (within 5%);
    - rollback rehearsed: the rehearsal (the broken build replayed) was rolled back in a canary stage;
    - Infra 4: the offline lift's interval lies above zero;
    - Infra 6: the rollout counted at least one canary window and was neither rolled back nor paused;
    - Monitor 3: the served-impression skew check ran and agreed on >= 99% of requests.
    Missing parts count as not done.
    """
    notes: dict[str, str] = {}
    load = parts.get("load_test")
    if load:
        res = load["results"]
        ok = all(r.n >= MIN_LOAD_REQUESTS and r.errors == 0 and r.kept_rate() for r in res.values())
        notes["load"] = "; ".join(f"{m}: {r.n} requests at ~{r.achieved_rps:.0f}/s (target {r.target_rps:g}), "
                                  f"{r.errors} errors, p99 ~{r.percentile(99):.1f} ms" for m, r in res.items())
    else:
        ok = False
    rehearsal = parts.get("rehearsal")
    rehearsed = bool(rehearsal is not None and rehearsal.rolled_back and "canary" in (rehearsal.stopped_stage or ""))
    if rehearsal is not None:
        notes["rollback"] = notes["infra7"] = rehearsal.reason
    offline = parts.get("offline")
    validated = False
    if offline:
        lift = offline["recall_lift"]
        validated = lift["lower"] > 0
        notes["infra4"] = (f"offline recall@10 lift {lift['lift']:+.1%} (95% CI {lift['lower']:+.1%} to "
                           f"{lift['upper']:+.1%})")
    log = (parts.get("rollout") or {}).get("log")
    canaried = False
    if log is not None:
        counted = log.counted_windows("canary 1%")
        canaried = counted >= 1 and not log.rolled_back and not log.paused
        notes["infra6"] = f"{counted} counted canary window(s); rollout {log.outcome}"
    skew = parts.get("skew")
    if skew is not None:
        notes["monitor3"] = f"served impressions agree with the offline model on {skew:.1%}"
    else:
        notes["monitor3"] = "no served impressions to compare (no user was exposed)"
    return launch_checklist(load_tested=ok, drift_report=drift_report, rollback_rehearsed=rehearsed,
                            owners=criteria.owners, offline_validated=validated, canaried=canaried,
                            skew_checked=skew is not None and skew >= MIN_SKEW_AGREEMENT, notes=notes,
                            communication=criteria.communication)
