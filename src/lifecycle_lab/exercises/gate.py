"""Exercises of the graduation-gate project (02): criteria, sample size, SRM, PSI, fairness table, memo.

Each factory takes the notebook's own data and computes the expected answer with an independent oracle
(scipy.stats, numpy histograms, fairlearn's MetricFrame, the gate evaluation), so every seed gets its checks.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from lifecycle_lab.exercises.core import DecisionExercise, Field, ValueExercise


# 1. write the criteria ------------------------------------------------------------------------------
def _group_rule(group: str, required: Sequence[str], extra=None):
    def validate(value: Any) -> str | None:
        from lifecycle_lab import gates

        probe = {g: gates.default_criteria()[g] for g in gates.GROUPS}
        probe[group] = value
        try:
            crit = gates.validate_criteria(probe)
        except gates.CriteriaError as exc:
            return str(exc)
        mine = {c.metric: c for c in crit.items if c.group == group}
        missing = [m for m in required if m not in mine]
        if missing:
            return f"add a criterion on {missing}"
        return extra(mine) if extra else None
    return validate


def _technical_extra(mine) -> str | None:
    p99 = mine["p99_latency_ms"]
    if p99.op not in ("<", "<=") or p99.threshold > 200:
        return "the product asks for p99 latency under 200 ms: use op '<' and a threshold of at most 200"
    if p99.severity != "blocker":
        return "a page that waits too long is not a launch condition: make p99 latency a blocker"
    return None


def _business_extra(mine) -> str | None:
    lift = mine["ctr_relative_lift"]
    if lift.op not in (">", ">=") or lift.threshold < 0 or lift.severity != "blocker":
        return "promote only if the CTR lift's interval lies above zero: ctr_relative_lift > 0, a blocker"
    return None


def criteria_exercise() -> DecisionExercise:
    """Write the gate's criteria before looking at any result, in the three groups."""
    from lifecycle_lab import gates

    ref = gates.default_criteria()
    fields = {
        "technical": Field("a list of technical criteria including p99_latency_ms (< 200 ms, blocker) and "
                           "cost_per_1k_usd", validate=_group_rule("technical", ["p99_latency_ms", "cost_per_1k_usd"],
                                                                   _technical_extra)),
        "business": Field("a list of business criteria including ctr_relative_lift (> 0, blocker) and "
                          "session_minutes_relative_change",
                          validate=_group_rule("business", ["ctr_relative_lift", "session_minutes_relative_change"],
                                               _business_extra)),
        "ethical": Field("a list of ethical criteria including worst_segment_relative_lift",
                         validate=_group_rule("ethical", ["worst_segment_relative_lift"])),
    }
    return DecisionExercise(
        "Exercise 1: write the graduation criteria", fields,
        hints=["Each criterion is a dict with metric, op, threshold, severity ('blocker' or 'condition') and "
               "why. `gates.METRICS` lists the metric names and their groups.",
               "Technical: p99_latency_ms < 200 (blocker) and cost_per_1k_usd <= 0.01. Business: "
               "ctr_relative_lift > 0 (blocker), session_minutes_relative_change >= -0.02. Ethical: "
               "worst_segment_relative_lift >= -0.10."],
        solution="answer = {g: gates.default_criteria()[g] for g in gates.GROUPS}",
        reference={g: ref[g] for g in gates.GROUPS})


# 2. sample size -------------------------------------------------------------------------------------
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
        "Exercise 2: users per arm", {"exact": exact, "rule_of_thumb": thumb}, rtol=2e-3, atol=1,
        hints=["p1 is the baseline CTR, p2 = p1 x (1 + lift); p is their mean. z-values: "
               "statistics.NormalDist().inv_cdf(0.975) and inv_cdf(0.8).",
               "exact = ceil((z_a * sqrt(2 p (1-p)) + z_b * sqrt(p1 (1-p1) + p2 (1-p2)))**2 / (p2 - p1)**2); "
               "rule_of_thumb = ceil(16 * p1 (1 - p1) / (p1 * lift)**2)."],
        solution="answer = {'exact': experiment.sample_size_per_arm(baseline, lift),\n"
                 "          'rule_of_thumb': experiment.rule_of_thumb_per_arm(baseline, lift)}")


# 3. sample-ratio mismatch ---------------------------------------------------------------------------
def srm_exercise(counts: Mapping[str, Sequence[int]], threshold: float = 0.001) -> DecisionExercise:
    """Two experiments' assignment counts: compute each chi-square p-value and name the broken one."""
    from scipy.stats import chisquare

    names = list(counts)
    pvals = {n: float(chisquare(counts[n]).pvalue) for n in names}
    broken = [n for n in names if pvals[n] < threshold]
    verdict = broken[0] if len(broken) == 1 else ("neither" if not broken else "both")
    fields = {f"pvalue_{n}": Field(f"the chi-square p-value of {n}'s counts against 50/50", expected=pvals[n],
                                   tol=max(1e-6, 0.01 * pvals[n]), why="chi2 = sum((obs - exp)^2 / exp), 1 df")
              for n in names}
    fields["broken"] = Field("which experiment has a sample-ratio mismatch", choices=names + ["neither", "both"],
                             expected=verdict, why=f"a p-value below {threshold} is the alarm")
    ref = {**{f"pvalue_{n}": pvals[n] for n in names}, "broken": verdict}
    return DecisionExercise(
        "Exercise 3: spot the sample-ratio mismatch", fields, reference=ref,
        hints=["Expected counts under a 50/50 plan are half the total in each arm.",
               "scipy.stats.chisquare(counts).pvalue, or experiment.srm_check(counts).pvalue; alarm below 0.001."],
        solution="answer = {f'pvalue_{n}': experiment.srm_check(c).pvalue for n, c in counts.items()}\n"
                 "answer['broken'] = ...  # the one below 0.001")


# 5. PSI ---
def psi_exercise(reference, current, bins: int = 10, epsilon: float = 1e-4) -> ValueExercise:
    """PSI of one feature with decile bins of the reference (oracle: numpy histogram, written out here)."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1]
    e = np.bincount(np.searchsorted(inner, ref, side="left"), minlength=len(inner) + 1) / ref.size
    a = np.bincount(np.searchsorted(inner, cur, side="left"), minlength=len(inner) + 1) / cur.size
    e, a = np.maximum(e, epsilon), np.maximum(a, epsilon)
    value = float(np.sum((a - e) * np.log(a / e)))
    return ValueExercise(
        "Exercise 5: PSI of one feature", value, rtol=1e-3,
        hints=["Bin edges: the reference's deciles, np.quantile(ref, [0.1, ..., 0.9]); the outer bins are open.",
               "E_i and A_i are the shares of the reference and the current sample in each bin (floor them at "
               "1e-4); PSI = sum((A_i - E_i) * ln(A_i / E_i)). Compare with monitor.psi_table."],
        solution="answer = monitor.psi(reference, current)")


# 4. fairness table ---
def fairness_exercise(ab, status: str, severity: str, metric: str = "click", group: str = "segment"
                      ) -> DecisionExercise:
    """Read the challenger's per-segment CTR table: the worst segment, the min/max ratio, and what it means
    for the gate (oracle: fairlearn MetricFrame; the gate's own verdict for the consequence)."""
    from fairlearn.metrics import MetricFrame

    chall = ab[ab.model == "challenger"]
    frame = MetricFrame(metrics=lambda yt, yp: float(np.mean(yt)), y_true=chall[metric].to_numpy(),
                        y_pred=chall[metric].to_numpy(), sensitive_features=chall[group])
    ratio = float(frame.ratio())
    champ = ab[ab.model == "champion"].groupby(group)[metric].mean()
    lift = (chall.groupby(group)[metric].mean() / champ - 1)
    worst = str(lift.idxmin())
    consequence = ("meets the bar" if status == "PASS" else
                   "blocks the launch" if severity == "blocker" else "a launch condition")
    fields = {
        "worst_segment": Field("the segment whose CTR lift (challenger vs champion) is lowest",
                               choices=sorted(map(str, lift.index)), expected=worst,
                               why="compare each segment's CTR across the two arms, not only within the challenger"),
        "ctr_ratio": Field("the challenger's lowest segment CTR divided by its highest (fairlearn ratio())",
                           expected=ratio, tol=0.005),
        "consequence": Field("what the ethical criterion's verdict means for the gate",
                             choices=["meets the bar", "a launch condition", "blocks the launch"],
                             expected=consequence, why=f"the criterion is {status} with severity {severity}"),
    }
    return DecisionExercise(
        "Exercise 4: read the fairness table", fields,
        reference={"worst_segment": worst, "ctr_ratio": ratio, "consequence": consequence},
        hints=["The `lifts` table compares each segment's CTR across arms; the MetricFrame tables show "
               "each arm's CTR per segment with difference and ratio rows.",
               "ratio = min over segments / max over segments of the challenger's CTR; the consequence follows "
               "from the worst_segment_relative_lift row of the gate table and its severity."],
        solution="answer = {'worst_segment': lifts.relative_lift.idxmin(),\n"
                 "          'ctr_ratio': tables['challenger'].loc['ratio', 'ctr'], 'consequence': ...}")


# 6. decision memo -----------------------------------------------------------------------------------
def memo_exercise(result) -> DecisionExercise:
    """Fill in the decision memo; every field is checked for consistency with the gate's evidence."""
    from lifecycle_lab import gates

    failed = set(result.failed())
    blockers = {r["metric"] for r in result.rows if r["status"] != gates.PASS and r["severity"] == "blocker"}
    open_items = [i.item for i in result.checklist if not i.done]

    def same_failures(value) -> str | None:
        got = set(value) if isinstance(value, (list, tuple, set)) else {value}
        got -= {"none"}
        if got != failed:
            return (f"list exactly the criteria that did not pass; you named {sorted(got)}, the table shows "
                    f"{len(failed)} (look at the status column)")
        return None

    def conditions_fit(value) -> str | None:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if result.decision == gates.GO_WITH_CONDITIONS:
            need = (failed - blockers) | {f"checklist: {i}" for i in open_items}
            text = " ".join(map(str, items)).lower()
            unnamed = [m for m in failed - blockers if m.lower() not in text]
            if unnamed:
                return f"each condition must name the criterion it answers; missing {unnamed}"
            if len(items) < 1 or not need:
                return "a GO WITH CONDITIONS needs at least one condition"
        return None

    words = sorted(failed) or ["all criteria", "passed", "met"]
    fields = {
        "decision": Field("GO, NO-GO or GO WITH CONDITIONS", choices=list(gates.DECISIONS),
                          expected=result.decision, why="apply the decision rules to the status column"),
        "failed_criteria": Field("a list of the metrics whose status is not PASS (['none'] when all pass)",
                                 validate=same_failures),
        "conditions": Field("a list of conditions (owner and fix for each failed condition), or ['none']",
                            validate=conditions_fit),
        "rationale": Field("two or three sentences a launch review would accept", min_words=20, mention=words),
    }
    ref = {"decision": result.decision, "failed_criteria": sorted(failed) or ["none"],
           "conditions": [c for c in result.conditions] or ["none"],
           "rationale": (f"The gate's decision is {result.decision} because of "
                         f"{', '.join(sorted(failed)) or 'no failed criteria: all criteria passed and were met'}; "
                         f"each verdict rests on the evidence and interval in the table above and was judged "
                         f"against criteria written before the results.")}
    return DecisionExercise(
        "Exercise 6: the decision memo", fields, reference=ref,
        hints=["Start from the gate table: which rows are not PASS, and which of those are blockers?",
               "Any blocker not PASS -> NO-GO; else any condition not PASS or open checklist item -> GO WITH "
               "CONDITIONS; else GO. Name the failed metrics in the rationale."],
        solution="answer = {'decision': result.decision, 'failed_criteria': result.failed(),\n"
                 "          'conditions': result.conditions or ['none'], 'rationale': '...'}")
