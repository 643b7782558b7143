"""Exercises of the graduation-gate project (02): criteria, sample size, SRM, fairness table, PSI, memo.

Each factory takes the notebook's own data and computes the expected answer with an independent oracle
(scipy.stats, numpy histograms, fairlearn's MetricFrame, the product's stated requirements, the gate's
table), so every seed gets its checks, and each check rejects the typical mistakes the tests list.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from lifecycle_lab import gates
from lifecycle_lab.exercises.core import (
    DecisionExercise,
    ExerciseSet,
    Feedback,
    Field,
    ValueExercise,
    as_number,
    not_a_number,
)
from lifecycle_lab.projects.p02_gate import criteria as team_criteria

EXERCISES = ExerciseSet("02_intermediate_graduation_gate")
"""The exercises of notebook 02_intermediate_graduation_gate, in order (tests and the grader count from this)."""

# The product's requirements, as the notebook states them before exercise 1 (metric -> rule).
REQUIREMENTS = {
    "p99_latency_ms": "p99 latency under 200 ms at the target rate, a blocker",
    "cost_per_1k_usd": "at most 1 cent (0.01 USD) per 1,000 requests, a blocker",
    "ctr_relative_lift": "a CTR lift whose interval lies above zero, a blocker",
    "session_minutes_relative_change": "session minutes may not fall by more than 2%",
    "worst_segment_relative_lift": "no segment may lose more than 10% of its CTR",
}


# The sanity floor of each ceiling, in the metric's own unit: a ceiling far below it is a unit slip (seconds
# typed where milliseconds are meant, cents where dollars are) or a rule no model can meet, not a strict gate.
FLOORS = {
    "p99_latency_ms": (20.0, "no service behind a network call answers in under 20 ms at p99: the threshold is "
                             "in milliseconds (200, not 0.2 seconds)"),
    "cost_per_1k_usd": (0.001, "the threshold is in US dollars per 1,000 requests (0.01 is one cent); a ceiling "
                               "at or near 0 refuses every model that costs anything to serve"),
}


def _upper_bound(c, limit: float, unit: str, severity: str | None = None) -> str | None:
    """An 'at most' requirement: op < or <=, threshold at most `limit` and at least the metric's sanity floor
    (`FLOORS`, in the same unit)."""
    if c.op not in ("<", "<="):
        return f"{c.metric} is a ceiling: use op '<' or '<=' (you wrote '{c.op}')"
    if c.threshold > limit:
        return (f"{c.metric} {c.op} {c.threshold} is looser than the requirement ({REQUIREMENTS[c.metric]}): "
                f"use at most {limit} {unit}")
    floor, why = FLOORS.get(c.metric, (None, ""))
    if floor is not None and c.threshold < floor:
        return f"{c.metric} {c.op} {c.threshold} {unit}: {why}; the requirement is {REQUIREMENTS[c.metric]}"
    if severity and c.severity != severity:
        return f"{c.metric} must be a {severity}: {REQUIREMENTS[c.metric]}"
    return None


def _lower_bound(c, low: float, high: float, severity: str | None = None) -> str | None:
    """An 'at least' requirement: op > or >=, threshold between `low` (the loosest allowed) and `high`."""
    if c.op not in (">", ">="):
        return f"{c.metric} is a floor: use op '>' or '>=' (you wrote '{c.op}')"
    if c.threshold < low:
        return (f"{c.metric} {c.op} {c.threshold} lets through what the requirement forbids "
                f"({REQUIREMENTS[c.metric]}): use a threshold of at least {low}")
    if c.threshold > high:
        return f"{c.metric} {c.op} {c.threshold} is stricter than any launch could meet; use at most {high}"
    if severity and c.severity != severity:
        return f"{c.metric} must be a {severity}: {REQUIREMENTS[c.metric]}"
    return None


def _technical_rules(mine) -> str | None:
    return (_upper_bound(mine["p99_latency_ms"], 200, "ms", "blocker")
            or _upper_bound(mine["cost_per_1k_usd"], 0.01, "USD", "blocker"))


MAX_LIFT_THRESHOLD = 0.5
"""A CTR-lift floor above +50% is a percentage typed as a fraction's place (15 for 0.15), not a requirement."""


def _business_rules(mine) -> str | None:
    lift = mine["ctr_relative_lift"]
    if lift.op not in (">", ">=") or lift.threshold < 0 or lift.severity != "blocker":
        return "promote only if the CTR lift's interval lies above zero: ctr_relative_lift > 0, a blocker"
    if lift.threshold > MAX_LIFT_THRESHOLD:
        return (f"ctr_relative_lift {lift.op} {lift.threshold} asks for a lift of {lift.threshold:.0%}: relative "
                f"lifts are fractions (0.05 = +5%), and the requirement is an interval above zero")
    return _lower_bound(mine["session_minutes_relative_change"], -0.02, 0.0)


def _ethical_rules(mine) -> str | None:
    return _lower_bound(mine["worst_segment_relative_lift"], -0.10, 0.0)


def _group_rule(group: str, required: Sequence[str], rules=None):
    def validate(value: Any, answer) -> str | None:
        probe = {g: team_criteria.default_criteria()[g] for g in gates.GROUPS}
        probe[group] = value
        try:
            crit = team_criteria.validate(probe)
        except gates.CriteriaError as exc:
            return str(exc)
        mine = {c.metric: c for c in crit.items if c.group == group}
        missing = [m for m in required if m not in mine]
        if missing:
            return f"add a criterion on {missing}"
        return rules(mine) if rules else None
    return validate


def _number_field(description: str, expected: float, tol: float, why: str) -> Field:
    """A field that holds one plain number within `tol` of `expected`: a numeric string ("0.35"), a boolean,
    a one-element Series or array is refused with advice on how to give the number itself."""
    def validate(value: Any, answer) -> str | None:
        number = as_number(value)
        if number is None:
            return not_a_number("the answer", value)
        if abs(number - expected) > tol:
            return f"{number:.4g} does not agree with the evidence ({why})"
        return None
    return Field(description, validate=validate, why=why)


# 1. write the criteria ------------------------------------------------------------------------------
@EXERCISES.exercise("ex1", "write the graduation criteria")
def criteria_exercise() -> DecisionExercise:
    """Write the gate's criteria before looking at any result, in the three groups; each required rule must
    be at least as strict as the product's requirement (`REQUIREMENTS`) and still able to pass."""

    ref = team_criteria.default_criteria()
    fields = {
        "technical": Field("a list of technical criteria including p99_latency_ms and cost_per_1k_usd",
                           validate=_group_rule("technical", ["p99_latency_ms", "cost_per_1k_usd"], _technical_rules)),
        "business": Field("a list of business criteria including ctr_relative_lift and "
                          "session_minutes_relative_change",
                          validate=_group_rule("business", ["ctr_relative_lift", "session_minutes_relative_change"],
                                               _business_rules)),
        "ethical": Field("a list of ethical criteria including worst_segment_relative_lift",
                         validate=_group_rule("ethical", ["worst_segment_relative_lift"], _ethical_rules)),
    }
    return DecisionExercise(
        fields, basis="the stated requirements",
        hints=["Each criterion is a dict with metric, op, threshold, severity ('blocker' or 'condition') and "
               "why. `team_criteria.METRICS` lists the metric names and their groups; the requirements above give "
               "each threshold.",
               "Technical: p99_latency_ms < 200 (blocker), cost_per_1k_usd <= 0.01 (blocker). Business: "
               "ctr_relative_lift > 0 (blocker), session_minutes_relative_change >= -0.02. Ethical: "
               "worst_segment_relative_lift >= -0.10."],
        solution="answer = {g: team_criteria.default_criteria()[g] for g in gates.GROUPS}",
        reference={g: ref[g] for g in gates.GROUPS})


# 2. sample size -------------------------------------------------------------------------------------
@EXERCISES.exercise("ex2", "users per arm")
def sample_size_exercise(baseline: float, relative_lift: float, alpha: float = 0.05,
                         power: float = 0.8) -> ValueExercise:
    """Users per arm with the exact two-proportion formula and with 16 s^2 / d^2 (oracle: scipy.stats.norm)."""
    from scipy.stats import norm

    p1, p2 = baseline, baseline * (1 + relative_lift)
    p = (p1 + p2) / 2
    exact = math.ceil((norm.ppf(1 - alpha / 2) * math.sqrt(2 * p * (1 - p))
                       + norm.ppf(power) * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2)
    thumb = math.ceil(16 * p1 * (1 - p1) / (p1 * relative_lift) ** 2)
    return ValueExercise(
        {"exact": exact, "rule_of_thumb": thumb}, rtol=2e-3, atol=1,
        advice={"exact": "check z(0.975) = 1.96 and z(0.8) = 0.84, the 2 in sqrt(2 p (1-p)) with p the mean of "
                         "p1 and p2, and that the difference in the denominator is absolute (p2 - p1), squared",
                "rule_of_thumb": "s^2 = p1 (1 - p1) with the baseline, and d = p1 x lift (an absolute "
                                 "difference, not the relative lift)"},
        hints=["p1 is the baseline CTR, p2 = p1 x (1 + lift); p is their mean. z-values: "
               "statistics.NormalDist().inv_cdf(0.975) and inv_cdf(0.8).",
               "exact = ceil((z_a * sqrt(2 p (1-p)) + z_b * sqrt(p1 (1-p1) + p2 (1-p2)))**2 / (p2 - p1)**2); "
               "rule_of_thumb = ceil(16 * p1 (1 - p1) / (p1 * lift)**2)."],
        solution="answer = {'exact': experiment.sample_size_per_arm(baseline, lift),\n"
                 "          'rule_of_thumb': experiment.rule_of_thumb_per_arm(baseline, lift)}")


# 3. sample-ratio mismatch ---------------------------------------------------------------------------
@EXERCISES.exercise("ex3", "spot the sample-ratio mismatch")
def srm_exercise(counts: Mapping[str, Sequence[int]], threshold: float = 0.001) -> DecisionExercise:
    """Two experiments' assignment counts: compute each chi-square p-value and name the broken one."""
    from scipy.stats import chisquare

    names = list(counts)
    pvals = {n: float(chisquare(counts[n]).pvalue) for n in names}
    broken = [n for n in names if pvals[n] < threshold]
    verdict = broken[0] if len(broken) == 1 else ("neither" if not broken else "both")
    fields = {f"pvalue_{n}": _number_field(f"the chi-square p-value of {n}'s counts against 50/50", pvals[n],
                                           max(1e-6, 0.01 * pvals[n]), "chi2 = sum((obs - exp)^2 / exp), 1 df")
              for n in names}
    fields["broken"] = Field("which experiment has a sample-ratio mismatch", choices=names + ["neither", "both"],
                             expected=verdict, why=f"a p-value below {threshold} is the alarm")
    ref = {**{f"pvalue_{n}": pvals[n] for n in names}, "broken": verdict}
    return DecisionExercise(
        fields, reference=ref,
        hints=["Expected counts under a 50/50 plan are half the total in each arm.",
               "scipy.stats.chisquare(counts).pvalue, or experiment.srm_check(counts).pvalue; alarm below 0.001."],
        solution="answer = {f'pvalue_{n}': experiment.srm_check(c).pvalue for n, c in counts.items()}\n"
                 "answer['broken'] = ...  # the one below 0.001")


# 4. fairness table ----------------------------------------------------------------------------------
def _verdict(lo: float, hi: float, op: str, threshold: float) -> str:
    """The interval rule of the gate, written out: PASS when the whole interval is on the good side."""
    def ok(x):
        return x >= threshold if op == ">=" else x > threshold
    if ok(lo):
        return "PASS"
    if not ok(hi):
        return "FAIL"
    return "INCONCLUSIVE"


@EXERCISES.exercise("ex4", "read the fairness table")
def fairness_exercise(ab, threshold: float = -0.10, op: str = ">=", severity: str = "condition",
                      metric: str = "click", group: str = "segment") -> DecisionExercise:
    """Read the per-segment tables: the worst segment, the challenger's min/max CTR ratio, and what the ethical
    criterion (worst segment's relative lift `op threshold`, with its `severity`) means for the gate.

    Oracles: fairlearn's MetricFrame for the ratio; the relative lift's delta-method interval computed here
    from the counts with scipy's normal quantile, and the interval rule, for the consequence.
    """
    from fairlearn.metrics import MetricFrame
    from scipy.stats import norm

    if op not in (">", ">="):
        raise ValueError("the ethical criterion is a floor on the worst segment's lift: op '>' or '>='")
    chall = ab[ab.model == "challenger"]
    champ = ab[ab.model == "champion"]
    frame = MetricFrame(metrics=lambda yt, yp: float(np.mean(yt)), y_true=chall[metric].to_numpy(),
                        y_pred=chall[metric].to_numpy(), sensitive_features=chall[group].to_numpy())
    ratio = float(frame.ratio())
    a = champ.groupby(group)[metric].agg(["sum", "count"])
    b = chall.groupby(group)[metric].agg(["sum", "count"])
    pa, pb = a["sum"] / a["count"], b["sum"] / b["count"]
    lift = pb / pa - 1
    worst = str(lift.idxmin())
    se = (pb / pa)[worst] * math.sqrt((1 - pb[worst]) / b.loc[worst, "sum"] + (1 - pa[worst]) / a.loc[worst, "sum"])
    z = norm.ppf(0.975)
    status = _verdict(lift[worst] - z * se, lift[worst] + z * se, op, threshold)
    consequence = ("meets the bar" if status == "PASS" else
                   "blocks the launch" if severity == "blocker" else "a launch condition")
    fields = {
        "worst_segment": Field("the segment whose CTR lift (challenger vs champion) is lowest",
                               choices=sorted(map(str, lift.index)), expected=worst,
                               why="compare each segment's CTR across the two arms, not only within the challenger"),
        "ctr_ratio": _number_field("the challenger's lowest segment CTR divided by its highest (fairlearn ratio())",
                                   ratio, 0.005, "min over segments / max over segments, in the challenger's arm only"),
        "consequence": Field("what the ethical criterion's verdict means for the gate",
                             choices=["meets the bar", "a launch condition", "blocks the launch"],
                             expected=consequence,
                             why=f"the worst segment's interval against {op} {threshold} gives {status}; "
                                 f"the criterion is a {severity}"),
    }
    return DecisionExercise(
        fields,
        reference={"worst_segment": worst, "ctr_ratio": ratio, "consequence": consequence},
        hints=["The `lifts` table compares each segment's CTR across arms; the MetricFrame tables show "
               "each arm's CTR per segment with difference and ratio rows.",
               f"ratio = min over segments / max over segments of the challenger's CTR. For the consequence, "
               f"put the worst segment's interval (lower, upper) against {op} {threshold}: entirely on the good "
               f"side -> it passes; otherwise it is a {severity}."],
        solution="answer = {'worst_segment': lifts.relative_lift.idxmin(),\n"
                 "          'ctr_ratio': tables['challenger'].loc['ratio', 'ctr'],\n"
                 "          'consequence': ...}  # from the worst row's lower/upper and the criterion")


# 5. PSI ---------------------------------------------------------------------------------------------
@EXERCISES.exercise("ex5", "PSI of one feature")
def psi_exercise(reference, current, bins: int = 10, epsilon: float = 1e-4) -> ValueExercise:
    """PSI of one feature with decile bins of the reference (oracle: numpy's histogram on those edges)."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(ref, edges)[0] / ref.size
    a = np.histogram(cur, edges)[0] / cur.size
    e, a = np.maximum(e, epsilon), np.maximum(a, epsilon)
    value = float(np.sum((a - e) * np.log(a / e)))
    return ValueExercise(
        value, rtol=1e-3,
        advice="the bin edges are the reference's deciles (not the current sample's), both sides' shares are "
               "taken in the same bins, and each term is (A_i - E_i) x ln(A_i / E_i) with A the current share",
        hints=["Bin edges: the reference's deciles, np.quantile(ref, [0.1, ..., 0.9]); the outer bins are open.",
               "E_i and A_i are the shares of the reference and the current sample in each bin (floor them at "
               "1e-4); PSI = sum((A_i - E_i) * ln(A_i / E_i)). Compare with monitor.psi_table."],
        solution="answer = monitor.psi(reference, current)")


# 6. decision memo -----------------------------------------------------------------------------------
def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


@EXERCISES.exercise("ex6", "the decision memo")
def memo_exercise(result) -> DecisionExercise:
    """Fill in the decision memo; every field is checked for consistency with the gate's table and checklist.

    - decision: the one the rules give;
    - failed_criteria: exactly the rows that did not pass;
    - conditions: for GO, none; for GO WITH CONDITIONS, one that names each failed condition and each open
      checklist item; for NO-GO, what must change, naming each blocker that did not pass;
    - rationale: at least 20 words that name the decision chosen and recommend no other (negation-aware:
      "GO WITH CONDITIONS, not a NO-GO" is fine, "the gate says GO, no conditions" is not), and name a
      failed criterion (or, for GO, the CTR evidence). The reasoning itself is not read, and the success
      message says so.
    """

    failed = set(result.failed())
    blockers = {r["metric"] for r in result.rows if r["status"] != gates.PASS and r["severity"] == "blocker"}
    failed_conditions = failed - blockers
    open_items = [i.item for i in result.checklist if not i.done]

    def same_failures(value, answer) -> str | None:
        got = {str(v) for v in _as_list(value)} - {"none"}
        if got != failed:
            return (f"list exactly the criteria that did not pass; you named {sorted(got)}, the table shows "
                    f"{len(failed)} (look at the status column)")
        return None

    def conditions_fit(value, answer) -> str | None:
        items = [str(v) for v in _as_list(value)]
        text = " ".join(items).lower()
        says_none = all(i.strip().lower() in ("none", "") for i in items)
        if result.decision == gates.GO:
            return None if says_none else "a GO has no conditions: write ['none']"
        if says_none:
            return f"a {result.decision} needs its conditions written down: name what must change"
        need = sorted(blockers) if result.decision == gates.NO_GO else sorted(failed_conditions)
        unnamed = [m for m in need if m.lower() not in text]
        if unnamed:
            return f"each condition must name the criterion it answers; missing {unnamed}"
        if result.decision == gates.GO_WITH_CONDITIONS:
            unnamed_items = [i for i in open_items if i.split(":")[0].lower() not in text]
            if unnamed_items:
                return f"name the open checklist items too: {unnamed_items}"
        return None

    # the evidence a rationale must name: a criterion that did not pass, or (for a clean GO) the CTR result
    evidence_names = sorted(failed) or ["ctr", "ctr_relative_lift"]

    fields = {
        "decision": Field("GO, NO-GO or GO WITH CONDITIONS", choices=list(gates.DECISIONS),
                          expected=result.decision, why="apply the decision rules to the status column"),
        "failed_criteria": Field("a list of the metrics whose status is not PASS (['none'] when all pass)",
                                 validate=same_failures),
        "conditions": Field("a list of conditions (for GO: ['none']), each naming the criterion or checklist "
                            "item it answers", validate=conditions_fit),
        "rationale": Field("two or three sentences a launch review would accept, stating the decision",
                           min_words=20, mention=evidence_names, justifies="decision"),
    }
    conditions = ([f"{m}: fix before the next review" for m in sorted(blockers)] if result.decision == gates.NO_GO
                  else [f"{m}: owner model owner, fix before widening" for m in sorted(failed_conditions)]
                  + [f"{i}: complete before launch" for i in open_items]) or ["none"]
    names = ", ".join(sorted(failed)) or "none: every criterion passed, including ctr_relative_lift"
    ref = {"decision": result.decision, "failed_criteria": sorted(failed) or ["none"], "conditions": conditions,
           "rationale": (f"The gate's decision is {result.decision}. Criteria that did not pass: {names}; "
                         f"each verdict rests on the evidence and interval in the table above, judged "
                         f"against criteria written before the results.")}
    return DecisionExercise(
        fields, reference=ref,
        hints=["Start from the gate table: which rows are not PASS, and which of those are blockers? Then "
               "the checklist: which items are not done?",
               "Any blocker not PASS -> NO-GO (conditions: what must change, per blocker); else any condition "
               "not PASS or open checklist item -> GO WITH CONDITIONS (a condition per failed row and open "
               "item); else GO (conditions ['none']). State the decision in the rationale and name the "
               "failed metrics."],
        solution="answer = {'decision': result.decision, 'failed_criteria': result.failed() or ['none'],\n"
                 "          'conditions': [...], 'rationale': '...'}  # see the hints")
