"""The governance council: who sits on it, which models must come before it, its queue, and its records.

Why a council: a high-risk model's trade-offs (value against the rights of the people it decides about, a
launch date against an unmet duty) are not one team's to make. The council is cross-functional (Product,
Engineering, Legal, Ethics) and sees only what needs it: the policy's council gates, and the critical gaps of
models already in production. Its decisions are records on disk, so the next audit can read who decided
what, on which evidence, under which conditions.

The queue rule, stated once and tested: effective risk tier first (Tier 1 before Tier 2), then the
deadline (earliest first), then the model's name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from lifecycle_lab.governance import GovernanceError
from lifecycle_lab.governance.checker import check_model, validate_record
from lifecycle_lab.governance.policy import Policy, parse_date

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MEMBERS = {"Product": "head of AI products (chair)", "Engineering": "ML platform engineering lead",
           "Legal": "legal counsel for the AI Act and data protection", "Ethics": "responsible-AI lead"}
DECISIONS = ("approve", "approve with conditions", "reject", "defer")
QUORUM = 3
"""At least three of the four members, one of them Legal or Ethics, for a decision to count."""
REMEDIATION_DAYS = {"critical": 14, "high": 30, "medium": 60, "low": 90}
"""Days the council gives a production model to close a gap of each severity (its deadline)."""
QUEUE_RULE = "effective tier (1 first), then deadline (earliest first), then model name"


def council_gates(policy: Policy) -> list[str]:
    return [g.id for g in policy.gates if "council" in g.approvers]


def agenda(policy: Policy, records: Iterable[Mapping], *, directory: Iterable[str], today: dt.date) -> "pd.DataFrame":
    """The models that must come before the council, why, and by when, in queue order (QUEUE_RULE).

    - a model heading for production (staging, with a `target_launch` date) that a council gate binds;
    - a production model whose council gate is unmet (promoted around the council);
    - a production model with any critical gap (the council decides whether it keeps running).
    """
    import pandas as pd

    directory = list(directory)
    ours = set(council_gates(policy))
    rows = []
    for record in records:
        facts = validate_record(record)
        if facts["stage"] == "staging":
            owed = [v for v in check_model(policy, record, directory=directory, today=today, stage="production")
                    if v["gate"] in ours]
            launch = parse_date(facts["tags"].get("target_launch", ""))
            if owed and launch is not None:
                rows.append({"model": facts["name"], "tier": facts["tier"], "owner": facts["owner"],
                             "reason": f"launch review: {', '.join(v['gate'] for v in owed)} before production",
                             "deadline": launch})
        elif facts["stage"] == "production":
            found = check_model(policy, record, directory=directory, today=today)
            unmet = [v for v in found if v["gate"] in ours]
            critical = [v for v in found if v["severity"] == "critical" and v["gate"] not in ours]
            if unmet or critical:
                why = ([f"in production without {', '.join(v['gate'] for v in unmet)}"] if unmet else []) + \
                      ([f"critical gap: {', '.join(v['gate'] for v in critical)}"] if critical else [])
                severity = "critical" if (unmet and facts["tier"] == 1) or critical else \
                    min((v["severity"] for v in unmet), key=list(REMEDIATION_DAYS).index)
                rows.append({"model": facts["name"], "tier": facts["tier"], "owner": facts["owner"],
                             "reason": "; ".join(why),
                             "deadline": today + dt.timedelta(days=REMEDIATION_DAYS[severity])})
    table = pd.DataFrame(rows, columns=["model", "tier", "owner", "reason", "deadline"])
    return queue_order(table)


def queue_order(table: "pd.DataFrame") -> "pd.DataFrame":
    """Sort an agenda by QUEUE_RULE and number the places."""
    out = table.sort_values(["tier", "deadline", "model"]).reset_index(drop=True)
    return out.assign(place=range(1, len(out) + 1))[["place", *table.columns]]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def record_decision(folder: str | Path, *, model: str, decision: str, rationale: str, present: Sequence[str],
                    date: dt.date, conditions: Sequence[str] = (), evidence: Mapping[str, str] | None = None) -> Path:
    """Write one council decision as JSON and markdown into `folder` (created); returns the markdown's path.

    Refused (GovernanceError) without a quorum (QUORUM members incl. Legal or Ethics), with an unknown
    decision, a rationale of fewer than eight words, or 'approve with conditions' without a condition."""
    if decision not in DECISIONS:
        raise GovernanceError(f"decision {decision!r} must be one of {list(DECISIONS)}")
    unknown = sorted(set(present) - set(MEMBERS))
    if unknown:
        raise GovernanceError(f"present: {unknown} are not council members; the members are {list(MEMBERS)}")
    if len(set(present)) < QUORUM or not {"Legal", "Ethics"} & set(present):
        raise GovernanceError(f"no quorum: {sorted(set(present))} present; a decision needs {QUORUM} of "
                              f"{list(MEMBERS)} including Legal or Ethics")
    if not isinstance(rationale, str) or len(rationale.split()) < 8:
        raise GovernanceError("rationale: give the reason in at least eight words (what evidence, which trade-off)")
    if decision == "approve with conditions" and not conditions:
        raise GovernanceError("'approve with conditions' needs at least one condition (with an owner and a date)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    body = {"model": model, "date": date.isoformat(), "decision": decision, "rationale": rationale,
            "present": sorted(set(present)), "conditions": list(conditions), "evidence": dict(evidence or {})}
    stem = f"{date.isoformat()}_{_slug(model)}"
    (folder / f"{stem}.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    lines = [f"# Council decision: {model}", "", f"- **date:** {body['date']}", f"- **decision:** {decision}",
             f"- **present:** {', '.join(body['present'])}", f"- **rationale:** {rationale}"]
    if conditions:
        lines += ["- **conditions:**"] + [f"  - {c}" for c in conditions]
    if evidence:
        lines += ["- **evidence:**"] + [f"  - {k}: {v}" for k, v in evidence.items()]
    path = folder / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_decisions(folder: str | Path) -> list[dict]:
    """Every decision record in `folder`, oldest first."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.json"))]
