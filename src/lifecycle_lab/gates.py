"""Graduation gates: criteria written down as data, validated, evaluated to GO / NO-GO / GO WITH CONDITIONS.

Why a module of its own: a launch decision is only honest when its criteria were fixed before the results
came in, and when every verdict points at its evidence. Criteria are plain data (a dict or YAML) in three
groups (technical, business, ethical); each names a known metric, a comparison, a threshold, a severity
("blocker": must pass; "condition": a failure becomes a launch condition) and why it matters.

Reading a metric with a confidence interval: a criterion passes only when the whole interval is on the good
side of the threshold, fails when the whole interval is on the bad side, and is inconclusive otherwise.
Decision: any blocker that does not pass -> NO-GO ("promote only if the interval clears the bar"); else any
condition that fails or is inconclusive, or a launch-checklist item not done -> GO WITH CONDITIONS; else GO.

`recsys_review` (at the end) gathers the evidence for the recommender project from the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

GROUPS = ("technical", "business", "ethical")
OPS = ("<", "<=", ">", ">=", "==")
SEVERITIES = ("blocker", "condition")
REQUIRED_FIELDS = ("metric", "op", "threshold", "severity", "why")
GO, NO_GO, GO_WITH_CONDITIONS = "GO", "NO-GO", "GO WITH CONDITIONS"
DECISIONS = (GO, NO_GO, GO_WITH_CONDITIONS)
PASS, FAIL, INCONCLUSIVE, MISSING = "PASS", "FAIL", "INCONCLUSIVE", "MISSING"


class CriteriaError(ValueError):
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


METRICS: dict[str, MetricSpec] = {
    "p99_latency_ms": MetricSpec("technical", "ms", 0, None, description="p99 latency at the target request rate"),
    "cost_per_1k_usd": MetricSpec("technical", "USD", 0, None, description="serving cost per 1,000 requests"),
    "max_feature_psi": MetricSpec("technical", "PSI", 0, None,
                                  description="largest PSI of an input feature, training data vs current traffic"),
    "serving_skew_share": MetricSpec("technical", "share", 0, 1,
                                     description="share of requests where serving differs from the offline model"),
    "canary_rolled_back": MetricSpec("technical", "flag", flag=True,
                                     description="the automated trigger rolled the canary back"),
    "ctr_relative_lift": MetricSpec("business", "relative", -1, None,
                                    description="online CTR of the challenger relative to the champion, minus 1"),
    "session_minutes_relative_change": MetricSpec("business", "relative", -1, None,
                                                  description="mean session minutes, challenger vs champion"),
    "srm_pvalue": MetricSpec("business", "p-value", 0, 1, description="sample-ratio-mismatch chi-square p-value"),
    "worst_segment_relative_lift": MetricSpec("ethical", "relative", -1, None,
                                              description="CTR lift of the segment that gains least"),
    "segment_ctr_ratio": MetricSpec("ethical", "ratio", 0, 1,
                                    description="challenger CTR of the worst segment / best segment (fairlearn ratio)"),
}


@dataclass(frozen=True)
class Criterion:
    """One validated criterion."""

    group: str
    metric: str
    op: str
    threshold: Any
    severity: str
    why: str

    def rule(self) -> str:
        return f"{self.metric} {self.op} {self.threshold}"


@dataclass(frozen=True)
class Criteria:
    """A validated set of criteria plus the named owners of the launch."""

    items: tuple[Criterion, ...]
    owners: Mapping[str, str]
    name: str = "graduation gate"

    def metrics(self) -> list[str]:
        return [c.metric for c in self.items]


def _holds(value: float, op: str, threshold: float) -> bool:
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


def validate_criteria(data: Mapping | str) -> Criteria:
    """Turn a dict (or a YAML text) into `Criteria`, or raise `CriteriaError` saying what to fix.

    Why strict: a typo in a metric name or a threshold on the wrong scale (200 for a share) silently turns
    a gate into a rubber stamp. Every group needs at least one criterion; each criterion needs all of
    metric, op, threshold, severity and why; metrics must be known and in their own group; a threshold
    must be able both to pass and to fail. Optional `owners` {role: name} and `name`.
    """
    if isinstance(data, str):
        import yaml

        try:
            data = yaml.safe_load(data)
        except yaml.YAMLError as exc:
            raise CriteriaError(f"the criteria are not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise CriteriaError(f"criteria must be a mapping with groups {list(GROUPS)}, got {type(data).__name__}")
    unknown_keys = sorted(set(data) - set(GROUPS) - {"owners", "name"})
    if unknown_keys:
        raise CriteriaError(f"unknown top-level keys {unknown_keys}; use {list(GROUPS)}, 'owners' and 'name'")
    items: list[Criterion] = []
    seen: set[str] = set()
    for group in GROUPS:
        entries = data.get(group)
        if not entries:
            raise CriteriaError(f"group '{group}' is missing or empty: write at least one {group} criterion")
        if not isinstance(entries, (list, tuple)):
            raise CriteriaError(f"group '{group}' must be a list of criteria")
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
                raise CriteriaError(f"{where}: unknown fields {extra}")
            metric = entry["metric"]
            where = f"{group}[{i}] {metric}"
            if metric not in METRICS:
                raise CriteriaError(f"{where}: unknown metric; known metrics are {sorted(METRICS)}")
            spec = METRICS[metric]
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
                                   str(entry["why"])))
    owners = data.get("owners") or {}
    if not isinstance(owners, Mapping):
        raise CriteriaError("owners must be a mapping {role: name}")
    return Criteria(tuple(items), dict(owners), str(data.get("name", "graduation gate")))


def default_criteria() -> dict:
    """The recommender project's criteria, as a reviewer would write them before the test (a dict)."""
    return {
        "name": "recommender v2 graduation gate",
        "technical": [
            {"metric": "p99_latency_ms", "op": "<", "threshold": 200, "severity": "blocker",
             "why": "the page waits on the recommendation; above 200 ms users see a blank slot"},
            {"metric": "cost_per_1k_usd", "op": "<=", "threshold": 0.01, "severity": "blocker",
             "why": "the budget allows 1 cent per 1,000 requests at the target rate"},
            {"metric": "max_feature_psi", "op": "<", "threshold": 0.25, "severity": "condition",
             "why": "major input drift means the offline evaluation describes a different population"},
            {"metric": "serving_skew_share", "op": "<=", "threshold": 0.01, "severity": "blocker",
             "why": "serving must compute what was evaluated (ML Test Score Monitor 3)"},
            {"metric": "canary_rolled_back", "op": "==", "threshold": False, "severity": "blocker",
             "why": "a canary the automated trigger rolled back has failed in production"},
        ],
        "business": [
            {"metric": "ctr_relative_lift", "op": ">", "threshold": 0.0, "severity": "blocker",
             "why": "promote only if the CTR lift's interval lies above zero"},
            {"metric": "session_minutes_relative_change", "op": ">=", "threshold": -0.02, "severity": "condition",
             "why": "more clicks must not come at the cost of shorter sessions"},
            {"metric": "srm_pvalue", "op": ">=", "threshold": 0.001, "severity": "blocker",
             "why": "a sample-ratio mismatch means the split is broken and no result can be trusted"},
        ],
        "ethical": [
            {"metric": "worst_segment_relative_lift", "op": ">=", "threshold": -0.10, "severity": "condition",
             "why": "no user segment may lose more than 10% CTR to the launch"},
            {"metric": "segment_ctr_ratio", "op": ">=", "threshold": 0.4, "severity": "condition",
             "why": "the worst-served segment gets at least 40% of the best one's CTR"},
        ],
        "owners": {"model owner": "recsys team lead", "on-call": "ml-platform rotation",
                   "business owner": "head of growth"},
    }


@dataclass
class Evidence:
    """A measured value, optionally its confidence interval, and where it came from."""

    value: Any
    ci: tuple[float, float] | None = None
    source: str = ""


def _as_evidence(x: Any) -> Evidence:
    return x if isinstance(x, Evidence) else Evidence(x)


def judge(criterion: Criterion, evidence: Evidence | None) -> str:
    """PASS / FAIL / INCONCLUSIVE / MISSING for one criterion (intervals: see the module docstring)."""
    if evidence is None or evidence.value is None:
        return MISSING
    spec = METRICS[criterion.metric]
    if spec.flag:
        return PASS if bool(evidence.value) == criterion.threshold else FAIL
    value = float(evidence.value)
    if math.isnan(value):
        return MISSING
    if evidence.ci is None:
        return PASS if _holds(value, criterion.op, criterion.threshold) else FAIL
    lo, hi = sorted(map(float, evidence.ci))
    worst, best = (lo, hi) if criterion.op in (">", ">=") else (hi, lo)
    if _holds(worst, criterion.op, criterion.threshold):
        return PASS
    if not _holds(best, criterion.op, criterion.threshold):
        return FAIL
    return INCONCLUSIVE


@dataclass
class CheckItem:
    """One launch-checklist item: what, whether it is done, and the evidence."""

    item: str
    done: bool
    evidence: str


@dataclass
class GateResult:
    """The decision, every criterion's verdict, the blockers, the conditions and the checklist."""

    decision: str
    rows: list[dict]
    blockers: list[str]
    conditions: list[str]
    checklist: list[CheckItem] = field(default_factory=list)
    criteria: Criteria | None = None

    def table(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("metric")

    def failed(self) -> list[str]:
        """Metrics whose verdict is not PASS."""
        return [r["metric"] for r in self.rows if r["status"] != PASS]


def evaluate_gate(criteria: Criteria | Mapping | str, evidence: Mapping[str, Any],
                  checklist: Sequence[CheckItem] = ()) -> GateResult:
    """Judge every criterion against its evidence and decide (rules in the module docstring).

    Why: the decision follows mechanically from criteria fixed in advance, so changing the world (the
    knobs) changes the decision, and a reviewer can trace each verdict to a number.
    """
    crit = criteria if isinstance(criteria, Criteria) else validate_criteria(criteria)
    unknown = sorted(set(evidence) - set(METRICS))
    if unknown:
        raise CriteriaError(f"evidence for unknown metrics {unknown}; known metrics are {sorted(METRICS)}")
    rows, blockers, conditions = [], [], []
    for c in crit.items:
        ev = evidence.get(c.metric)
        ev = None if ev is None else _as_evidence(ev)
        status = judge(c, ev)
        rows.append({"group": c.group, "metric": c.metric, "rule": f"{c.op} {c.threshold}",
                     "value": None if ev is None else ev.value, "ci": None if ev is None else ev.ci,
                     "status": status, "severity": c.severity, "why": c.why,
                     "source": "" if ev is None else ev.source})
        if status != PASS:
            verb = {FAIL: "fails", INCONCLUSIVE: "is inconclusive against"}.get(status, status.lower())
            shown = "no evidence" if status == MISSING else f"{_fmt(ev)} {verb} {c.op} {c.threshold}"
            text = f"{c.metric}: {shown} ({c.why})"
            (blockers if c.severity == "blocker" else conditions).append(text)
    for item in checklist:
        if not item.done:
            conditions.append(f"checklist: {item.item} not done ({item.evidence})")
    decision = NO_GO if blockers else GO_WITH_CONDITIONS if conditions else GO
    return GateResult(decision, rows, blockers, conditions, list(checklist), crit)


def _fmt(ev: Evidence | None) -> str:
    if ev is None or ev.value is None:
        return "n/a"
    if isinstance(ev.value, bool):
        return str(ev.value)
    text = f"{float(ev.value):.4g}"
    if ev.ci is not None:
        text += f" [{ev.ci[0]:.4g}, {ev.ci[1]:.4g}]"
    return text


def launch_checklist(*, load_tested: bool, drift_report: str | Path | None, rollback_rehearsed: bool,
                     owners: Mapping[str, str], offline_validated: bool, canaried: bool,
                     skew_checked: bool, notes: Mapping[str, str] | None = None) -> list[CheckItem]:
    """The launch checklist: load test, drift monitoring, rollback rehearsed, owners, and ML Test Score
    Infra 4 (quality validated before serving), Infra 6 (canaried), Infra 7 (rollback), Monitor 3 (skew).

    Why: a gate that passes on metrics but has nobody on call and no rehearsed rollback is not ready.
    """
    notes = dict(notes or {})
    need = ("model owner", "on-call", "business owner")
    named = [r for r in need if str(owners.get(r, "")).strip()]
    report_ok = drift_report is not None and Path(drift_report).exists()
    return [
        CheckItem("load test at the target request rate", load_tested, notes.get("load", "p99 measured")),
        CheckItem("drift monitoring in place", report_ok,
                  f"report at {Path(drift_report).name}" if report_ok else "no drift report written"),
        CheckItem("rollback rehearsed", rollback_rehearsed, notes.get("rollback", "automated trigger exercised")),
        CheckItem("owners named", len(named) == len(need),
                  f"named: {', '.join(f'{r}: {owners[r]}' for r in named) or 'none'}"),
        CheckItem("ML Test Score Infra 4: model quality validated before serving", offline_validated,
                  notes.get("infra4", "offline ranking metrics with intervals")),
        CheckItem("ML Test Score Infra 6: canaried before full serving", canaried,
                  notes.get("infra6", "1% canary with automated analysis")),
        CheckItem("ML Test Score Infra 7: quick, safe rollback", rollback_rehearsed,
                  notes.get("infra7", "trigger sets the challenger's weight to 0")),
        CheckItem("ML Test Score Monitor 3: training and serving compute the same values", skew_checked,
                  notes.get("monitor3", "serving build compared with the offline model")),
    ]


def render_memo(result: GateResult, *, title: str | None = None, context: str = "",
                memo: Mapping[str, Any] | None = None) -> str:
    """The decision memo as markdown: decision, criteria table with evidence, blockers, conditions,
    checklist, owners, and (optionally) the reviewer's own memo fields."""
    crit = result.criteria
    lines = [f"# {title or (crit.name if crit else 'Graduation gate')}: {result.decision}", ""]
    if context:
        lines += [context, ""]
    lines += ["## Criteria and evidence", "",
              "| group | metric | rule | evidence | status | severity | why |",
              "|---|---|---|---|---|---|---|"]
    for r in result.rows:
        ev = Evidence(r["value"], r["ci"])
        lines.append(f"| {r['group']} | {r['metric']} | {r['rule']} | {_fmt(ev)} | {r['status']} | "
                     f"{r['severity']} | {r['why']} |")
    lines += ["", "## Blockers", ""] + ([f"- {b}" for b in result.blockers] or ["- none"])
    lines += ["", "## Conditions", ""] + ([f"- {c}" for c in result.conditions] or ["- none"])
    lines += ["", "## Launch checklist", ""]
    lines += [f"- [{'x' if i.done else ' '}] {i.item}: {i.evidence}" for i in result.checklist] or ["- (none)"]
    if crit and crit.owners:
        lines += ["", "## Owners", ""] + [f"- {role}: {name}" for role, name in crit.owners.items()]
    if memo:
        lines += ["", "## Reviewer's memo", ""]
        for key, value in memo.items():
            shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
            lines.append(f"- **{key}**: {shown}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------
# The recommender review: the evidence for each criterion, gathered from the simulator step by step.
# The notebook calls these steps one at a time; `recsys_review` chains them for tests and benchmarks.
# ---------------------------------------------------------------------------------------------------

@dataclass
class ReviewSettings:
    """Sizes and stated assumptions of a review (the notebook's parameters feed these)."""

    offline_users: int = 3000
    planned_lift: float = 0.08        # plan for less than the offline lift
    baseline_ctr: float = 0.05        # the champion's CTR in the logs
    daily_users: int = 2_000_000
    target_rps: float = 200.0
    latency_requests: int = 300
    champion_usd_per_h: tuple = (0.096, 0.096)
    challenger_usd_per_h: tuple = (0.17, 0.17, 0.25)   # two model servers and the feature store
    drift_rows: int = 5000
    label_users: int = 120_000        # users per period (both models) for the label-based concept-drift check
    n_boot: int = 200
    window_users: int = 200_000
    window_cap: int = 20_000
    trigger_drop: float = 0.05
    trigger_min_sample: int = 1000
    trigger_consecutive: int = 3
    latency_grid_ms: float = 25.0     # p99 is reported rounded up to this grid (timing noise stays out)

    @classmethod
    def fast(cls, **overrides) -> "ReviewSettings":
        """Smaller samples for CI and quick runs: fewer offline users, timing requests and replicates.

        The A/B plan keeps the 8% lift: the online lift of this world is about that size, and a test sized
        for a larger lift than the real one would miss it (a fast run must still reach the right decision)."""
        base = dict(offline_users=1500, latency_requests=200, drift_rows=2000, n_boot=100, window_cap=10_000)
        return cls(**{**base, **overrides})


def offline_evaluation(world, settings: ReviewSettings, seed: int = 0) -> dict:
    """Ranking metrics at 10 with bootstrap intervals on held-out logged clicks, and the paired lift."""
    from lifecycle_lab import ranking

    users = world.users(settings.offline_users, "train", seed=seed)
    rel = world.logged_test_set(users, seed=seed)
    ranked = {"champion": world.recommend(users, "champion", 10),
              "challenger": world.recommend(users, "challenger", 10)}
    table = ranking.metric_table(ranked, rel, 10, n_boot=settings.n_boot, seed=seed)
    lift = ranking.paired_lift_ci(ranking.recall_at_k(ranked["champion"], rel, 10),
                                  ranking.recall_at_k(ranked["challenger"], rel, 10), n_boot=settings.n_boot,
                                  seed=seed)
    return {"table": table, "recall_lift": lift, "relevance": rel, "rankings": ranked}


def champion_baseline(world, n: int = 20_000, seed: int = 0) -> float:
    """The champion's CTR in the logs (training period): the baseline the experiment is planned on."""
    return float(world.serve(world.users(n, "train", seed=50_000 + seed), "champion", seed).click.mean())


def plan_experiment(settings: ReviewSettings) -> dict:
    """Users per arm for the planned lift (exact and 16 s^2/d^2), and days at a 1% canary."""
    from lifecycle_lab import experiment

    n = experiment.sample_size_per_arm(settings.baseline_ctr, settings.planned_lift)
    return {"n_per_arm": n, "rule_of_thumb": experiment.rule_of_thumb_per_arm(settings.baseline_ctr,
                                                                              settings.planned_lift),
            "days_at_1pct": experiment.duration_days(n, settings.daily_users, 0.01),
            "days_at_50pct": experiment.duration_days(n, settings.daily_users, 0.5)}


def read_ab(ab: "pd.DataFrame") -> dict:
    """SRM first, then the CTR and session-minute results with intervals."""
    from lifecycle_lab import experiment

    counts = ab.groupby("model").size()
    srm = experiment.srm_check([int(counts.get("champion", 0)), int(counts.get("challenger", 0))])
    a, b = ab[ab.model == "champion"], ab[ab.model == "challenger"]
    ctr = experiment.two_proportion_test(int(a.click.sum()), len(a), int(b.click.sum()), len(b))
    minutes = experiment.mean_difference(a.session_minutes, b.session_minutes)
    return {"srm": srm, "ctr": ctr, "minutes": minutes}


def segment_audit(ab: "pd.DataFrame", n_boot: int = 200, seed: int = 0) -> dict:
    """Per-segment CTR in each arm (fairlearn MetricFrame via `fairness.group_table`), each segment's lift
    with an interval, and bootstrap intervals of the challenger's per-segment CTR."""
    import pandas as pd

    from lifecycle_lab import experiment, fairness

    def ctr(y_true, y_pred):
        return float(y_true.mean())

    tables = {}
    for model in ("champion", "challenger"):
        part = ab[ab.model == model]
        tables[model] = fairness.group_table(part.click.to_numpy(), part.click.to_numpy(),
                                             part.segment.rename("segment"), metrics={"ctr": ctr})
    rows = []
    for seg in sorted(ab.segment.unique()):
        a = ab[(ab.model == "champion") & (ab.segment == seg)]
        b = ab[(ab.model == "challenger") & (ab.segment == seg)]
        r = experiment.two_proportion_test(int(a.click.sum()), len(a), int(b.click.sum()), len(b))
        rows.append({"segment": seg, "champion_ctr": r.rate_a, "challenger_ctr": r.rate_b,
                     "relative_lift": r.relative_lift, "lower": r.relative_ci[0], "upper": r.relative_ci[1],
                     "n_challenger": len(b)})
    lifts = pd.DataFrame(rows).set_index("segment")
    chall = ab[ab.model == "challenger"]
    boot = fairness.bootstrap_ci(ctr, chall.click.to_numpy(), chall.click.to_numpy(),
                                 chall.segment.rename("segment"), n_boot=n_boot, seed=seed)
    return {"tables": tables, "lifts": lifts, "bootstrap": boot}


NUMERIC_FEATURES = ("tenure_days", "sessions_per_week", "history_clicks")
CATEGORICAL_FEATURES = ("segment", "device", "region")


def drift_evidence(world, current: "pd.DataFrame", settings: ReviewSettings, html_path=None, seed: int = 0) -> dict:
    """Training data vs current traffic: PSI and KS per numeric feature, an Evidently report, and the
    label-based check that tells data drift from concept drift.

    With labels (clicks) from both periods, the challenger's lift is measured per segment and re-weighted
    to the training period's segment mix: if that mix-adjusted lift holds, the inputs moved but P(click | x)
    did not (data drift); if it drops by more than two standard errors, the relation itself moved (concept
    drift). `settings.label_users` users per period: enough to see a few points of lift move."""
    from lifecycle_lab import experiment, monitor

    ref = world.users(settings.drift_rows, "train", seed=30_000 + seed).frame()
    cur = current.sample(min(settings.drift_rows, len(current)), random_state=seed)
    table = monitor.drift_table(ref, cur, list(NUMERIC_FEATURES))
    report = monitor.evidently_drift(ref, cur, numerical=list(NUMERIC_FEATURES),
                                     categorical=list(CATEGORICAL_FEATURES), html_path=html_path)
    # labels: serve users of both periods and compare the challenger's lift per segment, then and now
    import pandas as pd

    # an online lift of a few percent needs this many users per period for a drop to stand out of the noise
    n = settings.label_users
    rows = []
    for period in ("train", "current"):
        users = world.users(n, period, seed=40_000 + seed)
        a, b = world.serve(users, "champion", seed), world.serve(users, "challenger", seed)
        for seg in sorted(a.segment.unique()):
            ma, mb = a.segment == seg, b.segment == seg
            r = experiment.two_proportion_test(int(a.click[ma].sum()), int(ma.sum()), int(b.click[mb].sum()),
                                               int(mb.sum()))
            rows.append({"period": period, "segment": seg, "share": float(ma.mean()), "lift": r.relative_lift,
                         "se": (r.relative_ci[1] - r.relative_ci[0]) / (2 * 1.959964)})
    by_segment = pd.DataFrame(rows).set_index(["period", "segment"])
    weights = by_segment.loc["train", "share"]
    def adjusted(period):  # the lift each period would show with the training period's segment mix
        part = by_segment.loc[period]
        return float((part.lift * weights).sum()), float(math.sqrt(((part.se * weights) ** 2).sum()))
    (lt, st), (lc, sc) = adjusted("train"), adjusted("current")
    dropped = (lt - lc) > 2 * math.sqrt(st ** 2 + sc ** 2)
    inputs_drifted = bool(report["dataset_drift"]) or bool((table["psi"] >= 0.1).any())
    return {"table": table, "evidently": report, "by_segment": by_segment,
            "mix_adjusted_lift": {"train": lt, "current": lc, "se": math.sqrt(st ** 2 + sc ** 2)},
            "kind": monitor.drift_kind(inputs_drifted, dropped)}


def latency_evidence(world, settings: ReviewSettings, seed: int = 0) -> dict:
    """Measured single-request scoring times of both models, queued at the target rate, plus each model's
    remote-call time; p99 reported rounded up to `latency_grid_ms`. Cost per 1k requests from prices."""
    import numpy as np

    from lifecycle_lab.scenarios.recsys import cost_per_1k, latency_at_rate

    out = {}
    for model, prices in (("champion", settings.champion_usd_per_h), ("challenger", settings.challenger_usd_per_h)):
        service = world.scoring_times_ms(model, settings.latency_requests, seed)
        lat = latency_at_rate(service, settings.target_rps, world.added_latency_ms(model))
        p99 = float(np.percentile(lat, 99))
        grid = settings.latency_grid_ms
        out[model] = {"scoring_p99_ms": float(np.percentile(service, 99)), "p99_ms": p99,
                      "p99_reported_ms": math.ceil(p99 / grid) * grid, "p50_ms": float(np.percentile(lat, 50)),
                      "cost_per_1k_usd": cost_per_1k(prices, settings.target_rps)}
    return out


def rollout_evidence(world, settings: ReviewSettings, seed: int = 0) -> dict:
    """The staged rollout on the simulator with the agreed trigger."""
    from lifecycle_lab import rollout

    trigger = rollout.RollbackTrigger(settings.trigger_drop, settings.trigger_min_sample, settings.trigger_consecutive)
    log = rollout.run_rollout(rollout.DEFAULT_PLAN, world.rollout_observer(settings.window_users,
                                                                            settings.window_cap, seed), trigger)
    return {"log": log, "trigger": trigger}


def rehearse_rollback(world, settings: ReviewSettings, seed: int = 0):
    """Replay the rollout with the item-id bug switched on: the rollback path is proven to work only if the
    trigger fires and the challenger's weight goes back to 0 (checklist: rollback rehearsed, Infra 7)."""
    from dataclasses import replace

    from lifecycle_lab.scenarios.recsys import RecsysWorld

    broken = RecsysWorld(replace(world.config, inject_regression=True))
    return rollout_evidence(broken, settings, seed)["log"]


def collect_evidence(*, ab_read: dict, audit: dict, drift: dict, latency: dict, rollout_log, skew_share: float
                     ) -> dict[str, Evidence]:
    """Map the review's results onto the gate's metrics (the challenger's side where a model is meant)."""
    ctr, minutes = ab_read["ctr"], ab_read["minutes"]
    lifts = audit["lifts"]
    worst = lifts["relative_lift"].idxmin()
    table = audit["tables"]["challenger"]
    chal = latency["challenger"]
    return {
        "p99_latency_ms": Evidence(chal["p99_reported_ms"], None,
                                   "measured scoring + queue at target rate + remote call"),
        "cost_per_1k_usd": Evidence(round(chal["cost_per_1k_usd"], 6), None, "instance prices / (rps x 3600) x 1000"),
        "max_feature_psi": Evidence(float(drift["table"]["psi"].max()), None, "decile PSI, training vs current"),
        "serving_skew_share": Evidence(round(1 - skew_share, 6), None, "serving build vs offline model"),
        "canary_rolled_back": Evidence(bool(rollout_log.rolled_back), None, rollout_log.reason),
        "ctr_relative_lift": Evidence(ctr.relative_lift, ctr.relative_ci, "A/B test, delta-method interval"),
        "session_minutes_relative_change": Evidence(minutes["relative"], minutes["relative_ci"], "A/B test"),
        "srm_pvalue": Evidence(ab_read["srm"].pvalue, None, "chi-square on assignment counts"),
        "worst_segment_relative_lift": Evidence(float(lifts.loc[worst, "relative_lift"]),
                                                (float(lifts.loc[worst, "lower"]), float(lifts.loc[worst, "upper"])),
                                                f"segment '{worst}'"),
        "segment_ctr_ratio": Evidence(float(table.loc["ratio", "ctr"]), None, "fairlearn MetricFrame ratio()"),
    }


@dataclass
class Review:
    """Everything a review produced: the parts, the evidence and the gate result."""

    parts: dict
    evidence: dict
    result: GateResult


def recsys_review(config=None, settings: ReviewSettings | None = None, criteria=None, output_dir=None,
                  seed: int = 0, **knobs) -> Review:
    """Run the whole review of the recommender on the simulator and evaluate the gate.

    Why: the package-level tests assert that different worlds lead to different, correct decisions;
    the notebook walks through the same steps one at a time.
    """
    from lifecycle_lab.scenarios.recsys import RecsysWorld

    settings = settings or ReviewSettings()
    world = RecsysWorld(config, **knobs)
    crit = validate_criteria(criteria or default_criteria())
    baseline = champion_baseline(world, seed=seed)
    settings = ReviewSettings(**{**settings.__dict__, "baseline_ctr": round(baseline, 4)})
    parts: dict = {"offline": offline_evaluation(world, settings, seed), "plan": plan_experiment(settings),
                   "baseline_ctr": baseline}
    ab = world.ab_test(parts["plan"]["n_per_arm"], seed=seed)
    parts["ab_frame"] = ab
    parts["ab"] = read_ab(ab)
    parts["audit"] = segment_audit(ab, settings.n_boot, seed)
    html = Path(output_dir) / "drift_report.html" if output_dir else None
    parts["drift"] = drift_evidence(world, ab, settings, html, seed)
    parts["latency"] = latency_evidence(world, settings, seed)
    parts["rollout"] = rollout_evidence(world, settings, seed)
    parts["skew"] = world.skew_check(seed=seed)
    parts["rehearsal"] = rehearse_rollback(world, settings, seed)
    evidence = collect_evidence(ab_read=parts["ab"], audit=parts["audit"], drift=parts["drift"],
                                latency=parts["latency"], rollout_log=parts["rollout"]["log"],
                                skew_share=parts["skew"])
    checklist = launch_checklist(load_tested=True, drift_report=html,
                                 rollback_rehearsed=parts["rehearsal"].rolled_back, owners=crit.owners,
                                 offline_validated=True, canaried=True, skew_checked=True,
                                 notes={"rollback": parts["rehearsal"].reason})
    if html is None:  # no report written: drift monitoring cannot be shown to be in place
        checklist[1] = CheckItem("drift monitoring in place", False, "no drift report written (no output_dir)")
    return Review(parts, evidence, evaluate_gate(crit, evidence, checklist))
