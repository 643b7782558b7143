"""Graduation gates: criteria validation, verdicts with intervals, decisions, and decisions per scenario."""

import copy

import pytest

from lifecycle_lab import gates
from lifecycle_lab.gates import CriteriaError, Evidence
from lifecycle_lab.scenarios.recsys import RecsysConfig


def crit():
    return gates.default_criteria()


def good_evidence():
    return {"p99_latency_ms": 50, "cost_per_1k_usd": 0.001, "max_feature_psi": 0.05, "serving_skew_share": 0.0,
            "canary_rolled_back": False, "ctr_relative_lift": Evidence(0.12, (0.05, 0.19)),
            "session_minutes_relative_change": Evidence(0.03, (0.01, 0.05)), "srm_pvalue": 0.4,
            "worst_segment_relative_lift": Evidence(0.04, (-0.05, 0.13)), "segment_ctr_ratio": 0.7}


def test_default_criteria_validate_and_cover_three_groups():
    c = gates.validate_criteria(crit())
    assert {i.group for i in c.items} == set(gates.GROUPS)
    assert "p99_latency_ms" in c.metrics() and c.owners["on-call"]


def test_yaml_criteria_are_accepted():
    text = """
technical:
  - {metric: p99_latency_ms, op: "<", threshold: 200, severity: blocker, why: page budget}
business:
  - {metric: ctr_relative_lift, op: ">", threshold: 0, severity: blocker, why: must win}
ethical:
  - {metric: worst_segment_relative_lift, op: ">=", threshold: -0.1, severity: condition, why: no segment loses}
"""
    assert gates.validate_criteria(text).metrics() == ["p99_latency_ms", "ctr_relative_lift",
                                                       "worst_segment_relative_lift"]


@pytest.mark.parametrize("mutate,message", [
    (lambda c: c["technical"][0].pop("threshold"), "lacks \\['threshold'\\]"),
    (lambda c: c["business"][0].update(metric="ctr_uplift"), "unknown metric"),
    (lambda c: c.pop("ethical"), "group 'ethical' is missing"),
    (lambda c: c["technical"][0].update(threshold=-5), "can never hold"),
    (lambda c: c["ethical"][1].update(threshold=1.5), "can never hold"),         # a ratio above 1
    (lambda c: c["business"][2].update(op="<=", threshold=1.0), "can never fail"),  # p-value <= 1
    (lambda c: c["technical"][0].update(severity="nice to have"), "severity"),
    (lambda c: c["technical"][0].update(op="=>"), "op '=>'"),
    (lambda c: c["business"].append(dict(c["technical"][0])), "technical metric"),
    (lambda c: c["technical"][4].update(threshold="no"), "flag metric"),
    (lambda c: c["technical"][0].update(why=""), "lacks \\['why'\\]"),
])
def test_bad_criteria_get_clear_errors(mutate, message):
    c = copy.deepcopy(crit())
    mutate(c)
    with pytest.raises(CriteriaError, match=message):
        gates.validate_criteria(c)


def test_invalid_yaml_is_reported():
    with pytest.raises(CriteriaError, match="not valid YAML"):
        gates.validate_criteria("technical: [\n")


def test_interval_verdicts():
    c = gates.validate_criteria(crit()).items
    lift = next(i for i in c if i.metric == "ctr_relative_lift")      # > 0
    assert gates.judge(lift, Evidence(0.1, (0.02, 0.18))) == gates.PASS
    assert gates.judge(lift, Evidence(0.05, (-0.02, 0.12))) == gates.INCONCLUSIVE
    assert gates.judge(lift, Evidence(-0.05, (-0.1, -0.01))) == gates.FAIL
    assert gates.judge(lift, None) == gates.MISSING
    p99 = next(i for i in c if i.metric == "p99_latency_ms")          # < 200
    assert gates.judge(p99, Evidence(150, (140, 210))) == gates.INCONCLUSIVE
    assert gates.judge(p99, Evidence(150)) == gates.PASS


def test_decision_rules():
    assert gates.evaluate_gate(crit(), good_evidence()).decision == gates.GO
    ev = good_evidence() | {"p99_latency_ms": 250}
    res = gates.evaluate_gate(crit(), ev)
    assert res.decision == gates.NO_GO and res.blockers[0].startswith("p99_latency_ms")
    ev = good_evidence() | {"ctr_relative_lift": Evidence(0.05, (-0.01, 0.11))}   # not proven: blocker
    assert gates.evaluate_gate(crit(), ev).decision == gates.NO_GO
    ev = good_evidence() | {"worst_segment_relative_lift": Evidence(-0.2, (-0.3, -0.12))}
    res = gates.evaluate_gate(crit(), ev)
    assert res.decision == gates.GO_WITH_CONDITIONS and res.failed() == ["worst_segment_relative_lift"]
    missing = dict(good_evidence())
    missing.pop("srm_pvalue")
    assert gates.evaluate_gate(crit(), missing).decision == gates.NO_GO
    undone = [gates.CheckItem("owners named", False, "nobody on call")]
    assert gates.evaluate_gate(crit(), good_evidence(), undone).decision == gates.GO_WITH_CONDITIONS
    with pytest.raises(CriteriaError, match="unknown metrics"):
        gates.evaluate_gate(crit(), good_evidence() | {"accuracy": 0.9})


def test_memo_renders_decision_evidence_and_checklist(tmp_path):
    report = tmp_path / "drift.html"
    report.write_text("<html></html>")
    checklist = gates.launch_checklist(load_tested=True, drift_report=report, rollback_rehearsed=True,
                                       owners={"model owner": "a"}, offline_validated=True, canaried=True,
                                       skew_checked=True)
    res = gates.evaluate_gate(crit(), good_evidence(), checklist)
    assert res.decision == gates.GO_WITH_CONDITIONS  # owners incomplete
    md = gates.render_memo(res, memo={"decision": res.decision})
    assert md.startswith("# recommender v2 graduation gate: GO WITH CONDITIONS")
    assert "| technical | p99_latency_ms | < 200 | 50 | PASS |" in md
    assert "- [ ] owners named" in md and "Monitor 3" in md and "Infra 7" in md


# --- decisions on the simulator: different worlds, different (correct) decisions ---------------------

def review(**knobs):
    fast = knobs.pop("fast", False)
    cfg = RecsysConfig(**{"seed": 42, "n_items": 400, **knobs})
    return gates.recsys_review(cfg, gates.ReviewSettings.fast() if fast else gates.ReviewSettings(), seed=42,
                               output_dir=None)


def test_default_world_goes_with_a_condition_on_the_underserved_segment():
    r = review()
    assert r.result.decision == gates.GO_WITH_CONDITIONS
    # the evidence agrees with independent computations on the same A/B data
    import numpy as np
    from fairlearn.metrics import MetricFrame
    from scipy import stats

    ab = r.parts["ab_frame"]
    chall = ab[ab.model == "challenger"]
    frame = MetricFrame(metrics=lambda yt, yp: float(np.mean(yt)), y_true=chall.click, y_pred=chall.click,
                        sensitive_features=chall.segment)
    assert r.evidence["segment_ctr_ratio"].value == pytest.approx(frame.ratio())
    counts = ab.model.value_counts().to_numpy()
    assert r.evidence["srm_pvalue"].value == pytest.approx(stats.chisquare(counts).pvalue)
    a, b = ab[ab.model == "champion"].click, chall.click
    se = np.sqrt(a.mean() * (1 - a.mean()) / len(a) + b.mean() * (1 - b.mean()) / len(b))
    ctr = r.parts["ab"]["ctr"]
    assert ctr.diff_ci[0] == pytest.approx(b.mean() - a.mean() - stats.norm.ppf(0.975) * se)
    assert r.evidence["ctr_relative_lift"].value == pytest.approx(b.mean() / a.mean() - 1)
    lifts = r.parts["audit"]["lifts"]
    assert lifts["relative_lift"].idxmin() == "new" and lifts.loc["new", "relative_lift"] < -0.05
    assert "worst_segment_relative_lift" in r.result.failed()
    assert r.evidence["ctr_relative_lift"].ci[0] > 0
    # the premise of the project: the online lift is real but smaller than the offline one (plan for less)
    assert r.evidence["ctr_relative_lift"].value < r.parts["offline"]["recall_lift"]["lift"]


def test_a_world_without_the_underserved_segment_and_drift_is_a_go(tmp_path):
    cfg = RecsysConfig(seed=42, underserved_segment="none", drift=0.0)
    r = gates.recsys_review(cfg, gates.ReviewSettings(), seed=42, output_dir=tmp_path)
    assert r.result.decision == gates.GO, r.result.conditions
    assert (tmp_path / "drift_report.html").exists()


def test_slow_challenger_is_blocked_on_latency():
    r = review(fast=True, challenger_latency_ms=300.0)
    assert r.result.decision == gates.NO_GO
    assert any(b.startswith("p99_latency_ms") for b in r.result.blockers)
    assert r.evidence["p99_latency_ms"].value >= 300


def test_injected_regression_is_rolled_back_at_the_canary():
    r = review(fast=True, inject_regression=True)
    log = r.parts["rollout"]["log"]
    assert log.rolled_back and log.stopped_stage == "canary 1%"
    assert r.result.decision == gates.NO_GO
    assert {"canary_rolled_back", "serving_skew_share"} <= set(r.result.failed())


def test_a_challenger_without_personalisation_does_not_prove_a_lift():
    r = review(fast=True, challenger_quality=0.0)
    assert r.result.decision == gates.NO_GO
    assert any(b.startswith("ctr_relative_lift") for b in r.result.blockers)


# --- the notebook's exercises: reference answers pass, typical mistakes fail ------------------------

def test_exercises_accept_the_reference_and_reject_mistakes():
    import numpy as np
    import pandas as pd

    from lifecycle_lab import experiment, monitor
    from lifecycle_lab.exercises import gate as ex
    from lifecycle_lab.exercises.core import CORRECT, INCORRECT, NOT_ATTEMPTED

    e1 = ex.criteria_exercise()
    assert e1.evaluate(None).status == NOT_ATTEMPTED
    assert e1.evaluate(e1.reference).status == CORRECT
    loose = copy.deepcopy(e1.reference)
    loose["technical"][0]["threshold"] = 500
    assert "200 ms" in " ".join(e1.evaluate(loose).problems)

    e2 = ex.sample_size_exercise(0.05, 0.05)
    assert e2.evaluate({"exact": experiment.sample_size_per_arm(0.05, 0.05),
                        "rule_of_thumb": experiment.rule_of_thumb_per_arm(0.05, 0.05)}).status == CORRECT
    assert e2.evaluate({"exact": 61_000, "rule_of_thumb": 121_600}).status == INCORRECT  # forgot the 2 in 2p(1-p)

    e3 = ex.srm_exercise({"experiment_1": [50_100, 49_900], "experiment_2": [50_900, 49_100]})
    ok = {"pvalue_experiment_1": experiment.srm_check([50_100, 49_900]).pvalue,
          "pvalue_experiment_2": experiment.srm_check([50_900, 49_100]).pvalue, "broken": "experiment_2"}
    assert e3.evaluate(ok).status == CORRECT
    assert e3.evaluate(ok | {"broken": "neither"}).status == INCORRECT

    rng = np.random.default_rng(0)
    ref, cur = rng.gamma(2, size=3000), rng.gamma(2.5, size=3000)
    e4 = ex.psi_exercise(ref, cur)
    assert e4.evaluate(monitor.psi(ref, cur)).status == CORRECT
    assert e4.evaluate(monitor.psi(cur, ref)).status == INCORRECT  # bins from the wrong sample

    ab = pd.DataFrame({"model": ["champion"] * 6 + ["challenger"] * 6,
                       "segment": ["a", "a", "b", "b", "c", "c"] * 2,
                       "click": [1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0]})
    e5 = ex.fairness_exercise(ab, status="FAIL", severity="condition")
    assert e5.evaluate({"worst_segment": "c", "ctr_ratio": 0.0, "consequence": "a launch condition"}).status == CORRECT
    assert e5.evaluate({"worst_segment": "a", "ctr_ratio": 0.0, "consequence": "a launch condition"}).status == INCORRECT

    res = gates.evaluate_gate(crit(), good_evidence() | {
        "worst_segment_relative_lift": Evidence(-0.2, (-0.3, -0.12))})
    e6 = ex.memo_exercise(res)
    assert e6.evaluate(e6.reference).status == CORRECT
    wrong = dict(e6.reference, decision=gates.GO)
    assert e6.evaluate(wrong).status == INCORRECT
    vague = dict(e6.reference, rationale="looks fine to me")
    assert e6.evaluate(vague).status == INCORRECT
    go = ex.memo_exercise(gates.evaluate_gate(crit(), good_evidence()))
    assert go.evaluate(go.reference).status == CORRECT


def test_concept_drift_is_told_apart_from_data_drift_and_blocks_the_launch():
    r = review(fast=True, drift=0.0, concept_drift=0.8)
    assert r.parts["drift"]["kind"].startswith("concept drift")
    assert r.result.decision == gates.NO_GO
    assert r.parts["drift"]["mix_adjusted_lift"]["current"] < r.parts["drift"]["mix_adjusted_lift"]["train"]


def test_major_input_drift_becomes_a_condition_not_a_blocker():
    r = review(fast=True, drift=1.0)
    assert r.evidence["max_feature_psi"].value > 0.25
    assert any(c.startswith("max_feature_psi") for c in r.result.conditions)
    assert r.parts["drift"]["kind"].startswith("data drift")


def test_rollback_rehearsal_fires_on_the_broken_build_and_feeds_the_checklist():
    from lifecycle_lab.scenarios.recsys import RecsysWorld

    world = RecsysWorld(seed=3, n_items=100)
    log = gates.rehearse_rollback(world, gates.ReviewSettings.fast(), seed=3)
    assert log.rolled_back and not world.config.inject_regression  # the world itself is untouched
    items = gates.launch_checklist(load_tested=True, drift_report=None, rollback_rehearsed=log.rolled_back,
                                   owners={}, offline_validated=True, canaried=True, skew_checked=True)
    done = {i.item: i.done for i in items}
    assert done["rollback rehearsed"] and not done["drift monitoring in place"] and not done["owners named"]
