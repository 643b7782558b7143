"""Notebook 02's exercises against the wrong answers the hardening review found (issue 15, item 4): unit slips in
the criteria, a memo whose free text contradicts its decision, and numbers given as text or as a Series."""

import copy

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab import gates
from lifecycle_lab.exercises.core import CORRECT, INCORRECT, stance
from lifecycle_lab.gates import Evidence
from lifecycle_lab.projects.p02_gate import criteria as team_criteria
from lifecycle_lab.projects.p02_gate import exercises as ex


def _evidence():
    return {"p99_latency_ms": 50, "cost_per_1k_usd": 0.001, "max_feature_psi": 0.05, "serving_skew_share": 0.0,
            "concept_drift_detected": False, "canary_rolled_back": False,
            "ctr_relative_lift": Evidence(0.12, (0.05, 0.19)),
            "session_minutes_relative_change": Evidence(0.03, (0.01, 0.05)), "srm_pvalue": 0.4,
            "worst_segment_relative_lift": Evidence(0.04, (-0.05, 0.13)), "segment_ctr_ratio": 0.7}


def _result(**changes):
    return gates.evaluate_gate(team_criteria.validate(team_criteria.default_criteria()), _evidence() | changes)


def _ex1_with(metric, **change):
    e1 = ex.criteria_exercise()
    answer = copy.deepcopy(e1.reference)
    group = team_criteria.METRICS[metric].group
    next(c for c in answer[group] if c["metric"] == metric).update(change)
    return e1.evaluate(answer)


# --- ex1: ceilings have sanity floors in the metric's own unit --------------------------------------------

@pytest.mark.parametrize("metric,change,words", [
    ("p99_latency_ms", {"threshold": 0.2}, "milliseconds"),        # 200 ms typed as 0.2 (seconds)
    ("p99_latency_ms", {"op": "<=", "threshold": 5}, "milliseconds"),
    ("cost_per_1k_usd", {"threshold": 0}, "US dollars per 1,000 requests"),
    ("cost_per_1k_usd", {"op": "<", "threshold": 0.0001}, "US dollars per 1,000 requests"),
    ("ctr_relative_lift", {"threshold": 15}, "fractions"),         # +15% typed as 15
])
def test_ex1_refuses_thresholds_in_the_wrong_unit(metric, change, words):
    fb = _ex1_with(metric, **change)
    assert fb.status == INCORRECT
    assert any(metric in p and words in p for p in fb.problems), fb.problems


@pytest.mark.parametrize("metric,change", [
    ("p99_latency_ms", {"threshold": 150}),                     # stricter than 200 ms, still a real budget
    ("p99_latency_ms", {"op": "<=", "threshold": 20}),          # the floor itself
    ("cost_per_1k_usd", {"threshold": 0.005}),
    ("ctr_relative_lift", {"op": ">=", "threshold": 0.02}),
])
def test_ex1_still_accepts_stricter_thresholds_in_the_right_unit(metric, change):
    assert _ex1_with(metric, **change).status == CORRECT


# --- ex6: the rationale must argue for the decision chosen, and for no other --------------------------------

LONG = " The new users' segment loses CTR, so it gets the champion until the history join is fixed."


@pytest.mark.parametrize("rationale", [
    "The gate says GO, no conditions: worst_segment_relative_lift is a small issue." + LONG,
    "Honestly this is a NO-GO: worst_segment_relative_lift failed its criterion." + LONG,
    "GO WITH CONDITIONS on paper, but we recommend a NO-GO because worst_segment_relative_lift failed." + LONG,
    "We should not go with conditions here; worst_segment_relative_lift failed its criterion." + LONG,
    "The criteria worst_segment_relative_lift did not pass, the rest did and the gate is clear." + LONG,
    "A fix to worst_segment_relative_lift could make it GO WITH CONDITIONS; today it does not pass." + LONG,
])
def test_ex6_refuses_a_rationale_that_contradicts_a_go_with_conditions(rationale):
    e6 = ex.memo_exercise(_result(worst_segment_relative_lift=Evidence(-0.2, (-0.3, -0.12))))
    assert e6.reference["decision"] == gates.GO_WITH_CONDITIONS
    fb = e6.evaluate(e6.reference | {"rationale": rationale})
    assert fb.status == INCORRECT and any(p.startswith("rationale:") for p in fb.problems), fb.problems


@pytest.mark.parametrize("rationale", [
    "GO WITH CONDITIONS, not a NO-GO: worst_segment_relative_lift failed but it is a condition, not a blocker."
    + LONG,
    "The rules give GO WITH CONDITIONS rather than GO because worst_segment_relative_lift did not pass." + LONG,
    "The rules give GO WITH CONDITIONS: worst_segment_relative_lift is a condition; a blocker would make it "
    "NO-GO." + LONG,
])
def test_ex6_accepts_a_rationale_that_names_the_decision_and_rejects_the_others(rationale):
    e6 = ex.memo_exercise(_result(worst_segment_relative_lift=Evidence(-0.2, (-0.3, -0.12))))
    fb = e6.evaluate(e6.reference | {"rationale": rationale})
    assert fb.status == CORRECT, fb.problems
    # the success message says what was checked in the free text, and that the reasoning was not read
    text = fb.render()
    assert "names the chosen decision and recommends no other" in text
    assert "the reasoning itself was not read" in text


def test_ex6_reads_go_and_no_go_apart_from_go_with_conditions():
    go = ex.memo_exercise(_result())
    assert go.reference["decision"] == gates.GO and go.evaluate(go.reference).status == CORRECT
    saying_conditions = ("GO WITH CONDITIONS: every criterion passed including ctr_relative_lift, but we "
                         "want a condition on the new segment before the launch goes any wider.")
    assert go.evaluate(go.reference | {"rationale": saying_conditions}).status == INCORRECT
    no_go = ex.memo_exercise(_result(p99_latency_ms=250))
    assert no_go.evaluate(no_go.reference).status == CORRECT
    says_go = ("We GO: p99_latency_ms fails its budget but caching will fix it after the launch, and the CTR "
               "lift is proven by the interval of the A/B test on current traffic.")
    assert no_go.evaluate(no_go.reference | {"rationale": says_go}).status == INCORRECT
    assert stance("a NO-GO, not a GO", gates.DECISIONS) == {
        "GO": "rejected", "NO-GO": "recommended", "GO WITH CONDITIONS": "absent"}


# --- numeric answers: text and one-element Series are refused, a pass returns a number -------------------

def test_numeric_checks_refuse_numbers_as_text_and_series():
    rng = np.random.default_rng(0)
    ref_x, cur_x = rng.gamma(2, size=2000), rng.gamma(2.3, size=2000)
    e5 = ex.psi_exercise(ref_x, cur_x)
    value = e5.reference
    for wrong in (f"{value}", pd.Series([value]), np.array([value]), [value], True):
        fb = e5.evaluate(wrong)
        assert fb.status == INCORRECT, wrong
    assert isinstance(e5.check(np.float64(value)), float)
    e2 = ex.sample_size_exercise(0.04, 0.06)
    good = dict(e2.reference)
    assert e2.evaluate(good).status == CORRECT
    assert e2.evaluate(good | {"exact": str(good["exact"])}).status == INCORRECT
    assert e2.evaluate(good | {"exact": pd.Series([good["exact"]])}).status == INCORRECT
    e3 = ex.srm_exercise({"experiment_1": [50_100, 49_900], "experiment_2": [50_900, 49_100]})
    ok = dict(e3.reference)
    assert e3.evaluate(ok).status == CORRECT
    text = e3.evaluate(ok | {"pvalue_experiment_1": f"{ok['pvalue_experiment_1']}"})
    series = e3.evaluate(ok | {"pvalue_experiment_2": pd.Series([ok["pvalue_experiment_2"]])})
    assert text.status == INCORRECT and series.status == INCORRECT
    assert "give the number itself" in " ".join(text.problems)
    assert "one plain number" in " ".join(series.problems)
