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
    # a broken upstream number cannot pass as low risk
    for key, bad in [("cost_increase", float("nan")), ("annual_error_cost", float("inf")),
                     ("share_drifted", "0.3"), ("detection_lag_months", float("nan"))]:
        with pytest.raises(GovernanceError, match="finite number"):
            risk.score_elements(dict(EVIDENCE, **{key: bad}))
    with pytest.raises(GovernanceError, match="below -1"):
        risk.score_elements(dict(EVIDENCE, cost_increase=-1.5))
    with pytest.raises(GovernanceError, match="True or False"):
        risk.score_elements(dict(EVIDENCE, concept_drift="yes"))
    # a fall in cost is legitimate and scores low; numpy booleans and numbers are accepted
    import numpy as np

    fell = risk.score_elements(dict(EVIDENCE, cost_increase=-0.2, concept_drift=np.bool_(False),
                                    detection_lag_months=np.int64(1)))
    assert fell["outcomes_analysis"] == 1 and fell["conceptual_soundness"] == 2


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
       "model_card": True, "technical_documentation": ["change log"], "event_logging": True, "human_review": True,
       "accuracy_maintained": False, "qms": False, "log_retention_months": 12, "fria_done": False,
       "monitoring_lag_months": 3, "incident_process": True, "authority_reporting": False,
       "per_decision_explanations": True, "reason_codes": True, "instructions_for_use": []}


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
    assert credit.loc["Art 11 + Annex IV", "status"] == "partly" and "change log" in credit.loc["Art 11 + Annex IV",
                                                                                               "evidence"]
    assert credit.loc["Art 13", "status"] == "met"
    gaps = regulation.checklist("credit", dict(REG, instructions_for_use=["13(3)(f) logs"], event_logging=False))
    gaps = gaps.set_index("article")
    assert gaps.loc["Art 13", "status"] == "partly" and "13(3)(f)" in gaps.loc["Art 13", "evidence"]
    assert gaps.loc["Art 12", "status"] == "not met"
    assert gaps.loc["Art 19 / 26(6)", "status"] == "not met"  # a retention period of a log that does not exist
    # who owes what: an in-house model makes the firm both provider and deployer
    assert credit.loc["Art 27", "role"] == "deployer" and credit.loc["Art 17", "role"] == "provider"
    assert credit.loc["Art 86", "role"] == "deployer" and "deployer" in credit.loc["Art 14", "role"]
    assert list(regulation.duties("credit").article) == articles and not regulation.duties("fraud").required.any()
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
    with pytest.raises(GovernanceError, match="list of items missing"):
        regulation.checklist("credit", dict(REG, technical_documentation=False))


def test_decision_log_check_finds_every_gap():
    import pandas as pd

    log = pd.DataFrame({"decision_id": [1, 2, 3], "day": [0, 1, 2], "model_id": "M", "model_version": "1.0",
                        "score": [0.1, 0.5, 0.9], "threshold": 0.4, "decision": [0, 1, 1], "amount": [5.0, 6.0, 7.0]})
    ok = regulation.check_decision_log(log, inputs=["amount"], expected_ids=[1, 2, 3])
    assert ok == {"complete": True, "rows": 3, "missing_columns": [], "missing_decisions": 0, "blank_cells": 0}
    assert regulation.check_decision_log(log, inputs=["amount"], expected_ids=[1, 2, 3, 4])["missing_decisions"] == 1
    assert regulation.check_decision_log(log.drop(columns="model_version"), inputs=["amount"],
                                         expected_ids=[1, 2, 3])["missing_columns"] == ["model_version"]
    blank = regulation.check_decision_log(log.assign(amount=[5.0, None, 7.0]), inputs=["amount"], expected_ids=[1])
    assert blank["blank_cells"] == 1 and not blank["complete"]
    table = regulation.checklist("fraud", dict(REG, event_logging=ok)).set_index("article")
    assert table.loc["Art 12", "status"] == "met" and "3 rows" in table.loc["Art 12", "evidence"]


def test_art13_and_annex_iv_coverage_read_the_documents(tmp_path):
    card = "## 2. Intended use\n## 4. Metrics\n**contact:** x\n## 8. Ethical considerations\n"
    missing = regulation.art13_missing({"card": card})
    assert "13(3)(a) identity and contact details of the provider" not in missing
    assert "13(3)(f) how to collect, store and interpret the logs" in missing
    assert len(missing) == len(regulation.ART13_ITEMS) - 4
    markers = list(regulation.ART13_ITEMS.values())
    halves = {"card": "\n".join(markers[:5]), "instructions": "\n".join(markers[5:])}
    assert regulation.art13_missing(halves) == []  # items may be covered by any of the documents
    assert len(regulation.annex_iv_missing(tmp_path)) == len(regulation.ANNEX_IV_ITEMS)
    for name in regulation.ANNEX_IV_ITEMS.values():
        (tmp_path / name).write_text("x")
    assert regulation.annex_iv_missing(tmp_path) == []
    with pytest.raises(GovernanceError, match="not a folder"):
        regulation.annex_iv_missing(tmp_path / "nope")


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
