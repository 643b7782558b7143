"""Graduation criteria as data: the metrics a gate knows, validation, and loading a criteria file.

Why strict: a typo in a metric name or a threshold on the wrong scale (200 for a share) silently turns a
gate into a rubber stamp. Criteria are plain data (a dict, or a YAML / JSON file) in three groups
(technical, business, ethical); each names a known metric, a comparison, a threshold, a severity
("blocker": must pass; "condition": a failure becomes a launch condition) and why it matters. Optional:
`name`, `owners` {role: name} and `communication` {channel, notify, when}.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from lifecycle_lab.base.errors import LifecycleLabError

GROUPS = ("technical", "business", "ethical")
OPS = ("<", "<=", ">", ">=", "==")
SEVERITIES = ("blocker", "condition")
REQUIRED_FIELDS = ("metric", "op", "threshold", "severity", "why")
OPTIONAL_KEYS = ("owners", "name", "communication")


class CriteriaError(LifecycleLabError, ValueError):
    """A criteria file is incomplete, names an unknown metric, or sets a threshold that cannot work."""


@dataclass(frozen=True)
class MetricSpec:
    """What a metric means: its group, unit, the range its values can take, and whether it is a flag."""

    group: str
    unit: str
    low: float | None = None
    high: float | None = None
    flag: bool = False
    description: str = ""




@dataclass(frozen=True)
class Criterion:
    """One validated criterion."""

    group: str
    metric: str
    op: str
    threshold: Any
    severity: str
    why: str
    spec: MetricSpec | None = None
    """What the metric means (from the catalogue the criteria were validated against)."""

    def rule(self) -> str:
        return f"{self.metric} {self.op} {self.threshold}"


@dataclass(frozen=True)
class Criteria:
    """A validated set of criteria, the named owners of the launch and its communication plan."""

    items: tuple[Criterion, ...]
    owners: Mapping[str, str]
    name: str = "graduation gate"
    communication: Mapping[str, Any] = field(default_factory=dict)
    catalogue: Mapping[str, MetricSpec] = field(default_factory=dict, compare=False, repr=False)
    """The metrics these criteria may name: each project passes its own (the gate engine knows none)."""

    def metrics(self) -> list[str]:
        return [c.metric for c in self.items]

    def get(self, metric: str) -> Criterion | None:
        return next((c for c in self.items if c.metric == metric), None)


def holds(value: float, op: str, threshold: float) -> bool:
    """Does `value op threshold` hold?"""
    return {"<": value < threshold, "<=": value <= threshold, ">": value > threshold,
            ">=": value >= threshold, "==": value == threshold}[op]


def _check_threshold(where: str, spec: MetricSpec, op: str, thr: Any) -> None:
    if spec.flag:
        if op != "==" or not isinstance(thr, bool):
            raise CriteriaError(f"{where}: a flag metric takes op '==' and threshold true or false")
        return
    if isinstance(thr, bool) or not isinstance(thr, (int, float)) or not math.isfinite(thr):
        raise CriteriaError(f"{where}: threshold {thr!r} must be a finite number ({spec.unit})")
    if op == "==":
        raise CriteriaError(f"{where}: '==' on a continuous metric almost never holds; use <, <=, > or >=")
    lo = -math.inf if spec.low is None else spec.low
    hi = math.inf if spec.high is None else spec.high
    # the set of values the rule accepts must intersect [lo, hi] and must not be all of it
    if op in (">", ">="):
        impossible = thr > hi or (op == ">" and thr >= hi)
        vacuous = thr < lo or (op == ">=" and thr <= lo)
    else:
        impossible = thr < lo or (op == "<" and thr <= lo)
        vacuous = thr > hi or (op == "<=" and thr >= hi)
    span = f"[{spec.low if spec.low is not None else '-inf'}, {spec.high if spec.high is not None else 'inf'}]"
    if impossible:
        raise CriteriaError(f"{where}: '{op} {thr}' can never hold: {spec.description} lies in {span} {spec.unit}")
    if vacuous:
        raise CriteriaError(f"{where}: '{op} {thr}' can never fail: {spec.description} lies in {span} "
                            f"{spec.unit}; a criterion that cannot fail decides nothing")


def _nonempty_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _check_owners(owners: Any) -> dict[str, str]:
    if owners is None:
        return {}
    if not isinstance(owners, Mapping):
        raise CriteriaError("owners must be a mapping {role: name}, e.g. {'on-call': 'ml-platform rotation'}")
    for role, name in owners.items():
        if not _nonempty_text(role):
            raise CriteriaError(f"owners: role {role!r} must be a non-empty text")
        if not _nonempty_text(name):
            raise CriteriaError(f"owners['{role}'] = {name!r}: name one person or team as a non-empty text "
                                f"(a list or a blank does not say who answers the pager)")
    return {str(r): str(n) for r, n in owners.items()}


def _check_communication(plan: Any) -> dict[str, Any]:
    if plan is None:
        return {}
    if not isinstance(plan, Mapping):
        raise CriteriaError("communication must be a mapping with channel, notify (a list) and when")
    unknown = sorted(set(plan) - {"channel", "notify", "when"})
    if unknown:
        raise CriteriaError(f"communication: unknown fields {unknown}; use channel, notify and when")
    if "channel" in plan and not _nonempty_text(plan["channel"]):
        raise CriteriaError("communication.channel must be a non-empty text, e.g. '#recsys-launch'")
    notify = plan.get("notify", [])
    if not isinstance(notify, (list, tuple)) or not all(_nonempty_text(x) for x in notify):
        raise CriteriaError("communication.notify must be a list of the people or teams to tell")
    return {k: (list(v) if k == "notify" else v) for k, v in plan.items()}


def looks_like_a_path(data: Any) -> bool:
    """Is this a file name given where criteria themselves are expected?"""
    if isinstance(data, Path):
        return True
    return isinstance(data, str) and "\n" not in data and ":" not in data and (
        data.strip().lower().endswith((".yaml", ".yml", ".json")) or "/" in data)


def validate_criteria(data: Mapping | str, metrics: Mapping[str, MetricSpec]) -> Criteria:
    """Turn a dict (or a YAML text) into `Criteria`, or raise `CriteriaError` saying what to fix.

    `metrics` is the catalogue of metrics a gate may name, with their groups, units and ranges: the engine
    is general, each project brings its own (e.g. `projects.p02_gate.criteria.METRICS`).

    Every group needs at least one criterion; each criterion needs all of metric, op, threshold, severity
    and why; metrics must be known and in their own group; a threshold must be able both to pass and to
    fail. Owners name a person or team per role; a communication plan names a channel and who to notify.
    A file name is refused with a pointer to `load_criteria`.
    """
    if looks_like_a_path(data):
        raise CriteriaError(f"{str(data)!r} looks like a file name; read the file with "
                            f"gates.load_criteria({str(data)!r}, metrics), or pass the criteria themselves (a dict or YAML text)")
    if isinstance(data, str):
        import yaml

        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise CriteriaError(f"the criteria are not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise CriteriaError(f"criteria must be a mapping with groups {list(GROUPS)}, got {type(data).__name__}")
    unknown_keys = sorted(set(data) - set(GROUPS) - set(OPTIONAL_KEYS))
    if unknown_keys:
        raise CriteriaError(f"unknown top-level keys {unknown_keys}; use {list(GROUPS)} and {list(OPTIONAL_KEYS)}")
    items: list[Criterion] = []
    seen: set[str] = set()
    for group in GROUPS:
        entries = data.get(group)
        if not entries:
            raise CriteriaError(f"group '{group}' is missing or empty: write at least one {group} criterion")
        if not isinstance(entries, (list, tuple)):
            raise CriteriaError(f"group '{group}' must be a list of criteria, got {type(entries).__name__}: "
                                f"write each criterion as an item of a list")
        for i, entry in enumerate(entries):
            where = f"{group}[{i}]"
            if not isinstance(entry, Mapping):
                raise CriteriaError(f"{where} must be a mapping with fields {list(REQUIRED_FIELDS)}")
            missing = [f for f in REQUIRED_FIELDS if f not in entry or entry[f] is None or entry[f] == ""]
            if missing:
                raise CriteriaError(f"{where} ({entry.get('metric', '?')}) lacks {missing}: every criterion "
                                    f"needs {list(REQUIRED_FIELDS)}")
            extra = sorted(set(entry) - set(REQUIRED_FIELDS))
            if extra:
                raise CriteriaError(f"{where}: unknown fields {extra}; a criterion has only {list(REQUIRED_FIELDS)} "
                                    f"(owners and communication go at the top level)")
            metric = entry["metric"]
            where = f"{group}[{i}] {metric}"
            if metric not in metrics:
                raise CriteriaError(f"{where}: unknown metric; known metrics are {sorted(metrics)}")
            spec = metrics[metric]
            if spec.group != group:
                raise CriteriaError(f"{where}: this is a {spec.group} metric; move it to '{spec.group}'")
            if metric in seen:
                raise CriteriaError(f"{where}: the metric appears twice; keep one rule per metric")
            seen.add(metric)
            if entry["op"] not in OPS:
                raise CriteriaError(f"{where}: op {entry['op']!r} must be one of {list(OPS)}")
            if entry["severity"] not in SEVERITIES:
                raise CriteriaError(f"{where}: severity {entry['severity']!r} must be one of {list(SEVERITIES)}")
            _check_threshold(where, spec, entry["op"], entry["threshold"])
            items.append(Criterion(group, metric, entry["op"], entry["threshold"], entry["severity"],
                                   str(entry["why"]), spec))
    owners = _check_owners(data.get("owners"))
    communication = _check_communication(data.get("communication"))
    return Criteria(tuple(items), owners, str(data.get("name", "graduation gate")), communication, dict(metrics))


def _read(path: Path) -> Any:
    if not path.is_file():
        raise CriteriaError(f"criteria file {path} does not exist (give the path to a .yaml or .json file)")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        import json

        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CriteriaError(f"{path.name}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CriteriaError(f"{path.name}: not valid YAML: {exc}") from None
    raise CriteriaError(f"{path.name}: unknown file type '{suffix}'; write the criteria as .yaml, .yml or .json")


def load_criteria(path: str | Path, metrics: Mapping[str, MetricSpec]) -> Criteria:
    """Read and validate a criteria file (YAML or JSON); every error names the file.

    Why: criteria live in a file that is reviewed and versioned with the launch, not in a notebook cell.
    """
    path = Path(path)
    data = _read(path)
    try:
        return validate_criteria(data, metrics)
    except CriteriaError as exc:
        raise CriteriaError(f"{path.name}: {exc}") from None


def read_criteria_data(path: str | Path, metrics: Mapping[str, MetricSpec]) -> dict:
    """The raw data of a criteria file (validated), e.g. to copy and edit before writing your own."""
    path = Path(path)
    load_criteria(path, metrics)
    return copy.deepcopy(_read(path))


def write_criteria(data: Mapping, path: str | Path, metrics: Mapping[str, MetricSpec]) -> Path:
    """Validate criteria and write them as a YAML file (keys in the order given)."""
    import yaml

    validate_criteria(data, metrics)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
