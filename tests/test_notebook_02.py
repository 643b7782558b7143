"""The graduation-gate notebook: the learner copy runs unattempted under another seed and reaches the
right decision; with the injected regression the canary is rolled back and the gate says NO-GO."""

import math
from pathlib import Path

import pytest
from scipy import stats

from conftest import outputs_text

pytestmark = pytest.mark.notebook

NAME = "02_intermediate_graduation_gate"


def test_learner_copy_runs_unattempted_and_goes_with_conditions(run_notebook):
    result = run_notebook(NAME, {"seed": 7, "fast": True}, tag="nb02-default")
    text = outputs_text(result)
    assert text.count("not attempted yet") == 6
    facts = result.summary
    # the planned sample follows from the recorded baseline and lift (oracle: scipy's normal quantiles)
    p1 = facts["baseline_ctr"]
    p2 = p1 * (1 + facts["planned_lift"])
    pm = (p1 + p2) / 2
    want = math.ceil((stats.norm.ppf(0.975) * math.sqrt(2 * pm * (1 - pm)) + stats.norm.ppf(0.8)
                      * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2)
    assert facts["planned_lift"] == 0.08 and facts["n_per_arm"] == want
    # a real lift, proven; the mis-joined segment loses; nothing broke in the rollout
    assert facts["ctr_lift_lower"] > 0
    assert facts["ctr_lift"] < facts["offline_recall_lift"]  # plan for less: online came out smaller
    assert facts["worst_segment"] == "new" and facts["worst_segment_lift"] < 0
    assert not facts["rolled_back"] and facts["srm_pvalue"] >= 0.001
    assert facts["decision"] == "GO WITH CONDITIONS"
    assert "worst_segment_relative_lift" in facts["failed"]
    assert facts["drift_kind"].startswith("data drift")
    assert facts["naive_false_alarm"] > facts["guarded_false_alarm"]
    out = Path(result.parameters["output_dir"])
    memo = (out / "decision_memo.md").read_text()
    assert memo.startswith("# recommender v2 graduation gate: GO WITH CONDITIONS")
    assert (out / "drift_report.html").stat().st_size > 10_000


def test_injected_regression_rolls_back_the_canary_and_blocks_the_launch(run_notebook):
    result = run_notebook(NAME, {"seed": 7, "fast": True, "inject_regression": True}, tag="nb02-regression")
    facts = result.summary
    assert facts["rolled_back"] and facts["rolled_back_stage"] == "canary 1%"
    assert facts["decision"] == "NO-GO"
    assert {"canary_rolled_back", "serving_skew_share"} <= set(facts["failed"])
    assert "rolled back during 'canary 1%'" in outputs_text(result)
