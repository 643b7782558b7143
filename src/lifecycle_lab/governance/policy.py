"""A platform's lifecycle policy as data: stage gates per lifecycle stage and risk tier, validated.

Why data: a policy written as prose is read differently by every team; a policy written as a file can be
checked against every model in the registry, enforced when a champion alias moves, turned into playbooks,
and reviewed like code. The file (YAML or a dict) has four parts:

- `approvers`: the roles that may sign a gate {role: who};
- `evidence`: the kinds of evidence a gate may ask for, each read from one registry tag: `link` (a non-empty
  link to a document), `date` (an ISO date, optionally no older than `max_age_days` and no older than the date
  in the `fresh_after` tag: a validation older than the last risk event is stale), `person` (someone on the
  staff directory: an owner who left is an orphaned model) or `flag` (anything but empty / none / false);
  `template` names the workbook artefact that shows what the document looks like;
- `gates`: each with `id`, `stage` (a lifecycle stage), `name`, `tiers` it applies to (1 high .. 3 low),
  `required_for` (the registry stages a model may not be in without it), `evidence`, `approvers`, `nist`
  (NIST AI RMF functions) and optionally `uses` (only models of these uses, e.g. a chatbot), `iso42001`
  (the clause of the AI management system standard it implements), `effort_days`, `severity`, `why`;
- `severity_by_tier`: how serious an unmet gate is for a model of each tier.

Every error names the gate (by id and position) and the field, and says what to write instead.
Tiering reuses `risk.tier` (SR 11-7 style scores) and `regulation.ai_act_category` (the EU AI Act's use
categories): an AI Act high-risk use makes a model Tier 1 whatever its scores.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from lifecycle_lab.governance import GovernanceError
from lifecycle_lab.governance.regulation import USES, ai_act_category

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

STAGES = ("framing", "data", "training", "evaluation", "deployment", "monitoring", "retirement")
"""The lifecycle stages a gate can belong to, in order."""
MODEL_STAGES = ("development", "staging", "production", "retired")
"""Where a model stands in the registry (its `stage` tag)."""
NIST_FUNCTIONS = ("GOVERN", "MAP", "MEASURE", "MANAGE")
"""NIST AI RMF 1.0 (January 2023): the four functions of AI risk management."""
EVIDENCE_KINDS = ("link", "date", "person", "flag")
SEVERITIES = ("critical", "high", "medium", "low")
TOP_KEYS = {"name", "version", "approvers", "evidence", "gates", "severity_by_tier"}
GATE_REQUIRED = ("id", "stage", "name", "tiers", "required_for", "evidence", "approvers", "nist")
GATE_OPTIONAL = ("uses", "iso42001", "effort_days", "severity", "why")
EVIDENCE_REQUIRED = ("kind", "tag", "description")
EVIDENCE_OPTIONAL = ("template", "fresh_after", "max_age_days")
NONE_VALUES = ("", "none", "false", "no", "n/a")


class PolicyError(GovernanceError):
    """A policy file is malformed: the message names the gate (or evidence kind) and the field."""


@dataclass(frozen=True)
class EvidenceKind:
    name: str
    kind: str
    tag: str
    description: str
    template: str = ""
    fresh_after: str | None = None
    max_age_days: int | None = None


@dataclass(frozen=True)
class Gate:
    id: str
    stage: str
    name: str
    tiers: tuple[int, ...]
    required_for: tuple[str, ...]
    evidence: tuple[str, ...]
    approvers: tuple[str, ...]
    nist: tuple[str, ...]
    uses: tuple[str, ...] = ()
    iso42001: str = ""
    effort_days: float = 0.0
    severity: str | None = None
    why: str = ""

    def applies(self, tier: int, stage: str, use: str) -> bool:
        """Does this gate bind a model of this effective tier, registry stage and use?"""
        return tier in self.tiers and stage in self.required_for and (not self.uses or use in self.uses)


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    approvers: Mapping[str, str]
    evidence: Mapping[str, EvidenceKind]
    gates: tuple[Gate, ...]
    severity_by_tier: Mapping[int, str] = field(default_factory=lambda: {1: "critical", 2: "high", 3: "medium"})

    def gate(self, gate_id: str) -> Gate:
        for g in self.gates:
            if g.id == gate_id:
                return g
        raise PolicyError(f"no gate {gate_id!r} in the policy; its gates are {[g.id for g in self.gates]}")

    def applicable(self, tier: int, stage: str, use: str) -> list[Gate]:
        return [g for g in self.gates if g.applies(tier, stage, use)]

    def with_gate(self, gate: Mapping) -> "Policy":
        """A new policy with one more gate (validated against this policy's evidence and approvers)."""
        return validate_policy({**to_dict(self), "gates": [*to_dict(self)["gates"], dict(gate)]})


def _where(i: int, raw: Any) -> str:
    gid = raw.get("id") if isinstance(raw, Mapping) else None
    return f"gate {gid!r} (gates[{i}])" if isinstance(gid, str) and gid else f"gates[{i}]"


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: field {key!r} must be a non-empty text, got {value!r}")
    return value.strip()


def _names(where: str, key: str, value: Any, allowed, what: str) -> tuple:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise PolicyError(f"{where}: field {key!r} must be a non-empty list, e.g. [{next(iter(allowed))!r}], "
                          f"got {value!r}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise PolicyError(f"{where}: field {key!r} names unknown {what} {unknown}; use {list(allowed)}")
    if len(set(value)) != len(value):
        raise PolicyError(f"{where}: field {key!r} lists a value twice: {list(value)}")
    return tuple(value)


def _evidence_kind(name: str, raw: Any) -> EvidenceKind:
    where = f"evidence {name!r}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: must be a mapping with {list(EVIDENCE_REQUIRED)}, got {type(raw).__name__}")
    missing = [k for k in EVIDENCE_REQUIRED if k not in raw]
    unknown = sorted(set(raw) - set(EVIDENCE_REQUIRED) - set(EVIDENCE_OPTIONAL))
    if missing or unknown:
        raise PolicyError(f"{where}: missing fields {missing}, unknown fields {unknown}; an evidence kind has "
                          f"{list(EVIDENCE_REQUIRED)} and optionally {list(EVIDENCE_OPTIONAL)}")
    if raw["kind"] not in EVIDENCE_KINDS:
        raise PolicyError(f"{where}: field 'kind' is {raw['kind']!r}; use one of {list(EVIDENCE_KINDS)}")
    age = raw.get("max_age_days")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int) or age <= 0):
        raise PolicyError(f"{where}: field 'max_age_days' must be a whole number of days above 0, got {age!r}")
    if (age is not None or raw.get("fresh_after")) and raw["kind"] != "date":
        raise PolicyError(f"{where}: 'max_age_days' and 'fresh_after' only apply to kind 'date'")
    fresh = raw.get("fresh_after")
    return EvidenceKind(name, raw["kind"], _text(where, "tag", raw["tag"]), _text(where, "description",
                        raw["description"]), str(raw.get("template") or ""),
                        None if fresh is None else _text(where, "fresh_after", fresh), age)


def _gate(i: int, raw: Any, evidence: Mapping, approvers: Mapping) -> Gate:
    where = _where(i, raw)
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: a gate must be a mapping with fields {list(GATE_REQUIRED)}, got "
                          f"{type(raw).__name__}")
    missing = [k for k in GATE_REQUIRED if k not in raw]
    if missing:
        raise PolicyError(f"{where}: missing field(s) {missing}; a gate needs {list(GATE_REQUIRED)}")
    unknown = sorted(set(raw) - set(GATE_REQUIRED) - set(GATE_OPTIONAL))
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {unknown}; optional fields are {list(GATE_OPTIONAL)}")
    gid = _text(where, "id", raw["id"])
    if raw["stage"] not in STAGES:
        raise PolicyError(f"{where}: field 'stage' is {raw['stage']!r}; use one of {list(STAGES)}")
    tiers = raw["tiers"]
    if isinstance(tiers, str) or not isinstance(tiers, (list, tuple)) or not tiers or any(
            isinstance(t, bool) or t not in (1, 2, 3) for t in tiers):
        raise PolicyError(f"{where}: field 'tiers' must be a non-empty list of tiers among 1 (high), 2, 3 (low), "
                          f"got {tiers!r}")
    effort = raw.get("effort_days", 0.0)
    if isinstance(effort, bool) or not isinstance(effort, (int, float)) or not math.isfinite(effort) or effort < 0:
        raise PolicyError(f"{where}: field 'effort_days' must be a number of days >= 0, got {effort!r}")
    severity = raw.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise PolicyError(f"{where}: field 'severity' is {severity!r}; use one of {list(SEVERITIES)}")
    uses = _names(where, "uses", raw["uses"], USES, "uses") if raw.get("uses") is not None else ()
    return Gate(gid, raw["stage"], _text(where, "name", raw["name"]), tuple(sorted(set(tiers))),
                _names(where, "required_for", raw["required_for"], MODEL_STAGES, "registry stages"),
                _names(where, "evidence", raw["evidence"], evidence, "evidence (define it under 'evidence')"),
                _names(where, "approvers", raw["approvers"], approvers, "approvers (define them under 'approvers')"),
                _names(where, "nist", raw["nist"], NIST_FUNCTIONS, "NIST AI RMF functions"),
                uses, str(raw.get("iso42001") or ""), float(effort), severity, str(raw.get("why") or ""))


def validate_policy(data: Any) -> Policy:
    """A validated Policy from a dict (what `read_policy` parses); PolicyError naming gate and field otherwise."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"a policy must be a mapping with {sorted(TOP_KEYS)}, got {type(data).__name__}")
    missing = sorted({"name", "version", "approvers", "evidence", "gates"} - set(data))
    unknown = sorted(set(data) - TOP_KEYS)
    if missing or unknown:
        raise PolicyError(f"policy: missing sections {missing}, unknown sections {unknown}; a policy has "
                          f"{sorted(TOP_KEYS)}")
    approvers = data["approvers"]
    if not isinstance(approvers, Mapping) or not approvers:
        raise PolicyError("policy: 'approvers' must be a non-empty mapping {role: who signs}")
    evidence_raw = data["evidence"]
    if not isinstance(evidence_raw, Mapping) or not evidence_raw:
        raise PolicyError("policy: 'evidence' must be a non-empty mapping {name: {kind, tag, description}}")
    evidence = {name: _evidence_kind(name, raw) for name, raw in evidence_raw.items()}
    tags = {e.tag for e in evidence.values()}
    for e in evidence.values():
        if e.fresh_after is not None and e.fresh_after in tags and evidence_by_tag(evidence, e.fresh_after).kind \
                != "date":
            raise PolicyError(f"evidence {e.name!r}: field 'fresh_after' names tag {e.fresh_after!r}, which is "
                              f"not a date")
    gates_raw = data["gates"]
    if isinstance(gates_raw, (str, Mapping)) or not isinstance(gates_raw, (list, tuple)) or not gates_raw:
        raise PolicyError("policy: 'gates' must be a non-empty list of gates")
    gates = tuple(_gate(i, raw, evidence, approvers) for i, raw in enumerate(gates_raw))
    seen: set[str] = set()
    for i, g in enumerate(gates):
        if g.id in seen:
            raise PolicyError(f"gate {g.id!r} (gates[{i}]): field 'id' repeats an earlier gate's id; ids are unique")
        seen.add(g.id)
    sev = data.get("severity_by_tier", {1: "critical", 2: "high", 3: "medium"})
    if not isinstance(sev, Mapping) or {int(k) for k in sev if str(k).isdigit()} != {1, 2, 3} or any(
            v not in SEVERITIES for v in sev.values()):
        raise PolicyError(f"policy: 'severity_by_tier' must map each tier 1, 2, 3 to one of {list(SEVERITIES)}, "
                          f"got {sev!r}")
    return Policy(_text("policy", "name", data["name"]), str(data["version"]), dict(approvers), evidence, gates,
                  {int(k): v for k, v in sev.items()})


def evidence_by_tag(evidence: Mapping[str, EvidenceKind], tag: str) -> EvidenceKind:
    return next(e for e in evidence.values() if e.tag == tag)


def read_policy(source: str | Path | Mapping) -> Policy:
    """Validate a policy given as a dict, YAML text or a YAML file's path; a YAML syntax error names the line."""
    import yaml

    if isinstance(source, Mapping):
        return validate_policy(source)
    text = Path(source).read_text(encoding="utf-8") if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))) else source
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise PolicyError(f"the policy is not valid YAML{line}: {problem}; check the indentation there") from None
    return validate_policy(data)


def to_dict(policy: Policy) -> dict:
    """The policy as plain data (what `write_policy` saves and `read_policy` reads back)."""
    def ev(e: EvidenceKind) -> dict:
        d = {"kind": e.kind, "tag": e.tag, "description": e.description}
        d.update({k: v for k, v in (("template", e.template), ("fresh_after", e.fresh_after),
                                    ("max_age_days", e.max_age_days)) if v})
        return d

    def gate(g: Gate) -> dict:
        d = {"id": g.id, "stage": g.stage, "name": g.name, "tiers": list(g.tiers),
             "required_for": list(g.required_for), "evidence": list(g.evidence), "approvers": list(g.approvers),
             "nist": list(g.nist)}
        d.update({k: v for k, v in (("uses", list(g.uses)), ("iso42001", g.iso42001), ("effort_days", g.effort_days),
                                    ("severity", g.severity), ("why", g.why)) if v})
        return d

    return {"name": policy.name, "version": policy.version, "approvers": dict(policy.approvers),
            "severity_by_tier": dict(policy.severity_by_tier),
            "evidence": {n: ev(e) for n, e in policy.evidence.items()}, "gates": [gate(g) for g in policy.gates]}


def write_policy(policy: Policy, path: str | Path) -> Path:
    import yaml

    path = Path(path)
    path.write_text(yaml.safe_dump(to_dict(policy), sort_keys=False, width=110), encoding="utf-8")
    return path


# -- tiering -------------------------------------------------------------------------------------------------

def effective_tier(risk_tier: int, use: str) -> tuple[int, str]:
    """The tier the policy applies: the model-risk tier (`risk.tier`), raised to Tier 1 by an AI Act
    high-risk use (Annex III), with the reason."""
    if isinstance(risk_tier, bool) or risk_tier not in (1, 2, 3):
        raise PolicyError(f"risk_tier={risk_tier!r} must be 1 (high), 2 or 3 (low)")
    category = ai_act_category(use)
    if category["high_risk"] and risk_tier != 1:
        return 1, f"Tier 1: AI Act high-risk use ({category['basis']}), whatever its risk scores (Tier {risk_tier})"
    return risk_tier, f"Tier {risk_tier}: model-risk scores" + (f"; AI Act: {category['category']}")


# -- reading the policy ------------------------------------------------------------------------------------

def gates_table(policy: Policy) -> "pd.DataFrame":
    import pandas as pd

    return pd.DataFrame([{"gate": g.id, "stage": g.stage, "name": g.name, "tiers": ",".join(map(str, g.tiers)),
                          "required_for": ",".join(g.required_for), "evidence": ", ".join(g.evidence),
                          "approvers": ", ".join(g.approvers), "nist": ", ".join(g.nist),
                          "iso42001": g.iso42001, "uses": ", ".join(g.uses)} for g in policy.gates])


def nist_coverage(policy: Policy) -> dict[str, list[str]]:
    """{NIST AI RMF function: the gates that implement it}; a function with no gate is a hole in the policy."""
    return {f: [g.id for g in policy.gates if f in g.nist] for f in NIST_FUNCTIONS}


def friction(policy: Policy, stage: str = "production", use: str = "internal_tool") -> "pd.DataFrame":
    """What the policy costs a model of each tier to reach `stage`: gates, evidence items, sign-offs, review days."""
    import pandas as pd

    rows = []
    for tier in (1, 2, 3):
        gates = policy.applicable(tier, stage, use)
        rows.append({"tier": tier, "gates": len(gates), "evidence_items": len({e for g in gates for e in g.evidence}),
                     "sign_offs": sum(len(g.approvers) for g in gates),
                     "review_days": sum(g.effort_days for g in gates),
                     "council": any("council" in g.approvers for g in gates)})
    return pd.DataFrame(rows)


def playbook(policy: Policy, stage: str) -> str:
    """The playbook of one lifecycle stage in markdown: its gates by tier, the evidence and where its template
    is in the workbook, who signs, and the NIST AI RMF function each gate serves."""
    if stage not in STAGES:
        raise PolicyError(f"stage {stage!r} is not a lifecycle stage; use one of {list(STAGES)}")
    gates = [g for g in policy.gates if g.stage == stage]
    lines = [f"# Playbook: {stage}", "", f"Generated from the policy *{policy.name}* (version {policy.version}). "
             f"{len(gates)} gate(s) at this stage.", ""]
    if not gates:
        lines.append("No gate at this stage: the team follows its own practice and records it in the inventory.")
    for g in gates:
        lines += [f"## {g.name} (`{g.id}`)", "",
                  f"- **applies to:** Tier {', '.join(map(str, g.tiers))}" + (f", uses {', '.join(g.uses)}"
                                                                             if g.uses else "") +
                  f"; required before a model is in {', '.join(g.required_for)}",
                  f"- **signed by:** {', '.join(policy.approvers[a] for a in g.approvers)}",
                  f"- **NIST AI RMF:** {', '.join(g.nist)}" + (f"; **ISO/IEC 42001:** {g.iso42001}" if g.iso42001
                                                                else ""),
                  f"- **review effort:** {g.effort_days:g} day(s)"]
        if g.why:
            lines.append(f"- **why:** {g.why}")
        lines += ["", "| evidence | registry tag | what it is | template |", "|---|---|---|---|"]
        for name in g.evidence:
            e = policy.evidence[name]
            rule = (f"; no older than {e.max_age_days} days" if e.max_age_days else "") + \
                   (f"; newer than `{e.fresh_after}`" if e.fresh_after else "")
            lines.append(f"| {name} | `{e.tag}` | {e.description}{rule} | {e.template or '-'} |")
        lines.append("")
    return "\n".join(lines)


def parse_date(value: Any) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) from a tag, or None when empty or not a date."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None
