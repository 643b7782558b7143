"""The recommender review's launch checklist: every item computed from the review's parts.

The general checklist (`gates.checklist.launch_checklist`) says what must be true besides the metrics; this
module says how the recommender review shows each item (load test results, the rollback rehearsal, the
canary log, the served-impression skew check).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from lifecycle_lab.gates.checklist import CheckItem, launch_checklist

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
