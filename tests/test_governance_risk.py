"""Risk scoring, tiering, the inventory entry and the EU AI Act checklist per variant."""

from __future__ import annotations

import pytest

from lifecycle_lab.governance import GovernanceError, regulation, risk

EVIDENCE = {"concept_drift": True, "legacy_architecture": True, "detection_lag_months": 3,
            "inputs_monitored": True, "cost_increase": 0.4, "share_drifted": 0.6, "variant": "fraud",
            "human_review": True, "annual_error_cost": 3_000_000}


def test_scores_follow_the_rubric_by_hand():
    s = risk.score_elements(EVIDENCE)
    assert s == {"conceptual_soundness": 4, "ongoing_monitoring": 3, "outcomes_analysis": 5, "data": 4,
                 "usage": 3, "exposure": 3}
    # composite (4+3+5+4 + 2*3 + 2*3) / 8 = 3.5 -> Tier 1 by composite
    assert risk.composite(s) == pytest.approx(3.5)
    assert risk.tier(s)[0] == 1
    calm = dict(EVIDENCE, concept_drift=False, legacy_architecture=False, detection_lag_months=1, cost_increase=0.02,
                share_drifted=0.0, annual_error_cost=50_000)
    s2 = risk.score_elements(calm)
    assert s2 == {"conceptual_soundness": 1, "ongoing_monitoring": 1, "outcomes_analysis": 1, "data": 1,
                  "usage": 3, "exposure": 1}
    assert risk.tier(s2)[0] == 3  # (1+1+1+1+6+2)/8 = 1.5
    credit = risk.score_elements(dict(calm, variant="credit"))
    assert credit["usage"] == 5 and risk.tier(credit)[0] == 1  # purpose sets the tier
    never = risk.score_elements(dict(EVIDENCE, detection_lag_months=None, inputs_monitored=False))
    assert never["ongoing_monitoring"] == 5


def test_bad_scores_and_evidence_are_clear_errors():
    good = risk.score_elements(EVIDENCE)
    with pytest.raises(GovernanceError, match="whole number from 1"):
        risk.validate_scores(dict(good, data=6))
    with pytest.raises(GovernanceError, match="whole number from 1"):
        risk.validate_scores(dict(good, data=2.5))
    with pytest.raises(GovernanceError, match="missing"):
        risk.validate_scores({k: v for k, v in good.items() if k != "usage"})
    with pytest.raises(GovernanceError, match="unknown"):
        risk.validate_scores(dict(good, vibes=3))
    with pytest.raises(GovernanceError, match="unknown variant"):
        risk.score_elements(dict(EVIDENCE, variant="loans"))
    with pytest.raises(GovernanceError, match="negative"):
        risk.score_elements(dict(EVIDENCE, annual_error_cost=-1))
    with pytest.raises(GovernanceError, match="missing"):
        risk.score_elements({"variant": "fraud"})


def test_inventory_retire_and_revalidation_events():
    entry = risk.InventoryEntry("M1", "m", "p", "u", "r", "i", "none", "o", "own", "dev", "val", "m0", "m18",
                                "3y", "Tier 1 (high)")
    assert entry.status == "in production"
    entry.retire(on="week 17", retain_until="2036", note="superseded")
    assert entry.status == "recently retired"
    md = entry.to_markdown()
    assert "| status | recently retired |" in md and "| retired on | week 17 |" in md
    with pytest.raises(GovernanceError, match="status"):
        risk.InventoryEntry("M1", "m", "p", "u", "r", "i", "none", "o", "own", "dev", "val", "m0", "m18", "3y",
                            "t", status="sleeping")
    assert len(risk.revalidation_triggers({"concept_drift": True, "incident": False})) == 1
    with pytest.raises(GovernanceError, match="unknown risk events"):
        risk.revalidation_triggers({"bad_vibes": True})


REG = {"risk_assessment": True, "continuous_risk_process": False, "drift_analysis": True, "fairness_audit": True,
       "model_card": True, "technical_documentation": False, "event_logging": True, "human_review": True,
       "accuracy_maintained": False, "qms": False, "log_retention_months": 12, "fria_done": False,
       "monitoring_lag_months": 3, "incident_process": True, "authority_reporting": False,
       "per_decision_explanations": True, "reason_codes": True}


def test_checklist_differs_by_variant():
    credit = regulation.checklist("credit", REG).set_index("article")
    fraud = regulation.checklist("fraud", REG).set_index("article")
    articles = ["Art 9", "Art 10", "Art 11 + Annex IV", "Art 12", "Art 13", "Art 14", "Art 15", "Art 17",
                "Art 19 / 26(6)", "Art 27", "Art 72", "Art 73", "Art 86"]
    assert list(credit.index) == articles
    assert credit.required.all() and not fraud.required.any()
    assert regulation.ai_act_tier("credit")["high_risk"] and not regulation.ai_act_tier("fraud")["high_risk"]
    assert credit.loc["Art 27", "status"] == "not met"  # no FRIA
    assert credit.loc["Art 19 / 26(6)", "status"] == "met"  # 12 >= 6 months
    assert credit.loc["Art 15", "status"] == "not met"
    assert credit.loc["Art 9", "status"] == "partly"
    assert credit.loc["Art 86", "status"] == "met"
    short = regulation.checklist("credit", dict(REG, log_retention_months=3)).set_index("article")
    assert short.loc["Art 19 / 26(6)", "status"] == "partly"
    summary = regulation.summary(regulation.checklist("credit", REG))
    assert summary["required"] == 13 and sum(summary[s] for s in regulation.STATUSES) == 13
    md = regulation.to_markdown(regulation.checklist("fraud", REG), "fraud")
    assert "voluntary" in md and "Annex III point 5(b)" in md


def test_checklist_rejects_missing_evidence_and_bad_retention():
    with pytest.raises(GovernanceError, match="missing"):
        regulation.checklist("credit", {"qms": True})
    with pytest.raises(GovernanceError, match="log_retention_months"):
        regulation.checklist("credit", dict(REG, log_retention_months=-1))
    with pytest.raises(GovernanceError, match="unknown variant"):
        regulation.checklist("loans", REG)


def test_framework_gates_scale_with_tier_and_route_reviews():
    from lifecycle_lab.governance import framework

    t1, t2, t3 = (framework.gates(t) for t in (1, 2, 3))
    assert len(t1) == len(framework.STAGE_GATES) and len(t3) < len(t2) < len(t1)
    assert "council sign-off" in set(t1.gate) and "council sign-off" not in set(t2.gate)
    assert set(framework.gates(3, high_risk=True).gate) == set(t1.gate)  # high-risk counts as Tier 1
    assert "data ethics review before training" in set(t2.gate)
    assert framework.review_route(3, high_risk=True)["route"] == "governance council"
    assert framework.review_route(2)["route"] == "model risk review"
    status = framework.gate_status(t3, {"reproducible training run": True})
    assert (status.set_index("gate").loc["reproducible training run", "status"]) == "evidence on file"
    assert (status.status == "missing").sum() == len(t3) - 1
    with pytest.raises(GovernanceError, match="unknown gates"):
        framework.gate_status(t3, {"vibe check": True})
    with pytest.raises(GovernanceError, match="tier"):
        framework.gates(4)
