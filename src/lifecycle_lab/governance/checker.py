"""The gate checker over a whole registry, and the promotion guard that enforces the policy.

Why both: a checker reports the gaps that already exist (a model promoted around the process, a validation
that a risk event made stale, an owner who left); a guard stops new ones at the only moment that matters,
when the champion alias would move. Both read the model's governance record from its registry tags, so the
registry is the inventory and there is one source of truth.

A record is {"name", "tags", "aliases"} as `deployment.registry.model_records` returns it. A model with a
`champion` alias is served, so it is checked as in production whatever its `stage` tag says.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Iterable, Mapping

from lifecycle_lab.deployment import registry
from lifecycle_lab.governance import GovernanceError
from lifecycle_lab.governance.policy import (
    MODEL_STAGES,
    NONE_VALUES,
    SEVERITIES,
    EvidenceKind,
    Policy,
    effective_tier,
    evidence_by_tag,
    parse_date,
)
from lifecycle_lab.governance.regulation import USES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

REQUIRED_TAGS = ("owner", "purpose", "use", "risk_tier", "stage")
VIOLATION_COLUMNS = ["model", "gate", "gate_stage", "missing", "owner", "tier", "model_stage", "severity",
                     "approvers"]


class RegistryTagError(GovernanceError):
    """A registered model's governance tags are missing or malformed (named: model and tag)."""


class PromotionRefused(GovernanceError):
    """The promotion guard refused to move an alias: a required gate is not met (the reasons are listed)."""

    def __init__(self, message: str, violations: list[dict]):
        super().__init__(message)
        self.violations = violations


def validate_record(record: Mapping) -> dict:
    """The record's governance facts, checked: required tags present, tier 1-3, a known stage and use."""
    name = record.get("name", "?")
    tags = dict(record.get("tags") or {})
    missing = [t for t in REQUIRED_TAGS if not str(tags.get(t, "")).strip()]
    if missing:
        raise RegistryTagError(f"model {name!r}: tag(s) {missing} missing; every registered model carries "
                               f"{list(REQUIRED_TAGS)} (set them with registry.set_model_tags)")
    if tags["risk_tier"] not in ("1", "2", "3", 1, 2, 3):
        raise RegistryTagError(f"model {name!r}: tag 'risk_tier'={tags['risk_tier']!r} must be 1, 2 or 3")
    if tags["stage"] not in MODEL_STAGES:
        raise RegistryTagError(f"model {name!r}: tag 'stage'={tags['stage']!r} must be one of {list(MODEL_STAGES)}")
    if tags["use"] not in USES:
        raise RegistryTagError(f"model {name!r}: tag 'use'={tags['use']!r} must be one of {sorted(USES)}")
    served = "champion" in (record.get("aliases") or {})
    tier, why = effective_tier(int(tags["risk_tier"]), tags["use"])
    return {"name": name, "tags": tags, "tier": tier, "tier_reason": why, "owner": tags["owner"],
            "stage": "production" if served else tags["stage"], "use": tags["use"]}


def _is_none(value: str) -> bool:
    """Empty, or a text that starts by saying there is none ('none', 'none yet', 'n/a', 'false')."""
    words = value.strip().lower().replace("(", " ").split()
    return not words or words[0].strip(".,;:") in NONE_VALUES


def evidence_problem(kind: EvidenceKind, tags: Mapping, policy: Policy, *, directory: Iterable[str],
                     today: dt.date) -> str | None:
    """Why this evidence is not met by these tags (None when it is)."""
    value = str(tags.get(kind.tag, "")).strip()
    if kind.kind == "person":
        if _is_none(value):
            return f"{kind.name}: no {kind.tag} named"
        if value not in set(directory):
            return f"{kind.name}: {value} is not on the staff directory (orphaned: the owner left)"
        return None
    if kind.kind in ("link", "flag"):
        return None if not _is_none(value) else f"{kind.name}: none on file ({kind.tag}={value!r})"
    when = parse_date(value)
    if when is None:
        return f"{kind.name}: no date on file ({kind.tag})" if _is_none(value) else \
            f"{kind.name}: {kind.tag}={value!r} is not a date (YYYY-MM-DD)"
    if kind.max_age_days is not None and (today - when).days > kind.max_age_days:
        return f"{kind.name}: {when} is {(today - when).days} days old, more than {kind.max_age_days}"
    if kind.fresh_after:
        event = parse_date(tags.get(kind.fresh_after, ""))
        if event is not None and event > when:
            what = evidence_by_tag(policy.evidence, kind.fresh_after).name if any(
                e.tag == kind.fresh_after for e in policy.evidence.values()) else kind.fresh_after
            return f"{kind.name}: {when} is older than the {what} of {event} (stale)"
    return None


def check_model(policy: Policy, record: Mapping, *, directory: Iterable[str], today: dt.date,
                stage: str | None = None) -> list[dict]:
    """The unmet gates of one model (at its own stage, or at `stage`: what it would owe there)."""
    facts = validate_record(record)
    at = stage or facts["stage"]
    directory = list(directory)
    out = []
    for gate in policy.applicable(facts["tier"], at, facts["use"]):
        problems = [p for name in gate.evidence if (p := evidence_problem(policy.evidence[name], facts["tags"],
                                                                          policy, directory=directory,
                                                                          today=today))]
        if problems:
            out.append({"model": facts["name"], "gate": gate.id, "gate_stage": gate.stage,
                        "missing": "; ".join(problems), "owner": facts["owner"], "tier": facts["tier"],
                        "model_stage": at, "severity": gate.severity or policy.severity_by_tier[facts["tier"]],
                        "approvers": ", ".join(gate.approvers)})
    return out


def check_portfolio(policy: Policy, records: Iterable[Mapping], *, directory: Iterable[str],
                    today: dt.date) -> "pd.DataFrame":
    """The violations table of the whole registry: model, gate, missing evidence, owner, severity...; most
    severe first, then by model and gate."""
    import pandas as pd

    directory = list(directory)
    rows = [v for r in records for v in check_model(policy, r, directory=directory, today=today)]
    table = pd.DataFrame(rows, columns=VIOLATION_COLUMNS)
    order = table["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return table.assign(_o=order).sort_values(["_o", "model", "gate"]).drop(columns="_o").reset_index(drop=True)


def promote(policy: Policy, uri: str, name: str, version: int, *, directory: Iterable[str], today: dt.date,
            alias: str = "champion") -> dict:
    """Move `alias` to `version` through the registry only when every gate of production is met; otherwise
    raise PromotionRefused naming each unmet gate and its missing evidence (the alias does not move)."""
    record = registry.model_record(uri, name)
    if record["latest_version"] is None or not 1 <= int(version) <= record["latest_version"]:
        raise GovernanceError(f"model {name!r} has no version {version}; its versions are 1..{record['latest_version']}")
    unmet = check_model(policy, record, directory=directory, today=today, stage="production")
    if unmet:
        reasons = "; ".join(f"gate {v['gate']} ({v['missing']})" for v in unmet)
        raise PromotionRefused(f"refused: {name} v{version} cannot become {alias}: {len(unmet)} gate(s) of "
                               f"production unmet: {reasons}. Add the evidence (registry tags) and its sign-off, "
                               f"then promote again", unmet)
    before = record["aliases"].get(alias)
    registry.set_alias(uri, name, alias, int(version))
    registry.set_model_tags(uri, name, {"stage": "production"})
    return {"model": name, "alias": alias, "version": int(version), "previous": before}
