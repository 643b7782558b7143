"""Notebook 03's case file: the evidence, the model cards and the incident report, checked against the inputs
they are built from (recomputed here independently where there is arithmetic)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.evaluation.costs import Costs
from lifecycle_lab.governance import incident, modelcard, risk
from lifecycle_lab.projects.p03_governance import casefile, world as tx

ENTRY = dict(model_id="CREDIT-LEGACY-01", name="legacy credit scorecard", purpose="scores applicants",
             users="retail credit underwriting", restrictions="not for pricing", inputs_and_sources="x",
             upstream_models="none", outputs="probability", owner="Head of credit analytics", developer="team",
             validator="model risk", last_validation="month 0", next_validation="now", expected_life="3 years",
             risk_tier="Tier 1 (high)")


@pytest.fixture(scope="module")
def world():
    return tx.simulate("credit", months=18, n_per_month=1500, seed=3)


def test_windows_are_the_last_labelled_months_and_the_months_before(world):
    eval_window, fit_window = casefile.windows(world, 18)
    assert eval_window.label_known.all() and fit_window.label_known.all()
    assert eval_window.month.max() == 18 and fit_window.month.max() < eval_window.month.min()
    widened = len(world[world.label_known & (world.month > 15)]) < casefile.MIN_EVAL_ROWS
    assert eval_window.month.min() == (13 if widened else 16)
    assert fit_window.month.min() == 10


def test_risk_evidence_is_rounded_as_read_and_scores_like_the_raw_numbers():
    evidence = casefile.risk_evidence(variant="fraud", human_review=True, concept_onset=11, detection_lag=3,
                                      cost_per_decision=10.331296375, baseline_per_1k=4750.0,
                                      share_drifted=5 / 7, volume_per_year=400_000)
    assert evidence["share_drifted"] == 0.7143 and evidence["annual_error_cost"] == 4_132_519
    assert evidence["cost_increase"] == pytest.approx(1000 * 10.331296375 / 4750 - 1, abs=5e-5)
    raw = dict(evidence, share_drifted=5 / 7, annual_error_cost=10.331296375 * 400_000)
    assert risk.score_elements(evidence) == risk.score_elements(raw)  # rounding moves no score


def test_risk_evidence_refuses_a_baseline_without_labels():
    with pytest.raises(tx.ScenarioError, match="baseline cost of months 1-3 is nan"):
        casefile.risk_evidence(variant="fraud", human_review=True, concept_onset=None, detection_lag=None,
                               cost_per_decision=1.0, baseline_per_1k=float("nan"), share_drifted=0.0,
                               volume_per_year=1000)


def _cards(world):
    eval_window, fit_window = casefile.windows(world, 18)
    rng = np.random.default_rng(0)
    flag = (rng.random(len(eval_window)) < 0.3).astype(int)
    costs = Costs(fp=300, fn=3000, review=40)
    groups = eval_window[tx.SENSITIVE]
    q = modelcard.quantitative(eval_window.label, flag, groups, costs, n_boot=20, seed=0)
    entry = risk.InventoryEntry(**ENTRY)
    common = casefile.card_common(entry, variant="credit", months=18, human_review=False, eval_window=eval_window,
                                  factor="channel")
    note = casefile.mitigation_note({"eo_difference": 0.2}, {"eo_difference": 0.15}, 0.012, True)
    answer = {k: float(v) + 0.001 for k, v in zip(modelcard.METRIC_LABELS, q["metrics"].values())}
    legacy = casefile.legacy_card_evidence(
        common, entry, quantitative=q, metrics=answer, variant="credit", months=18, inputs=tx.features("credit"),
        threshold=0.1, train=world[world.month == 0], log_retention_months=12, log_complete=True,
        parity=q["parity"], four_fifths_flagged=["18-29"], note=note, cost_increase=0.4, concept_onset=9)
    new = casefile.replacement_card_evidence(common, entry, quantitative=q, variant="credit", months=18,
                                             inputs=tx.features("credit"), costs=costs, fit_window=fit_window,
                                             legacy_parity=q["parity"], note=note)
    return legacy, new, answer, note, eval_window, costs


def test_the_cards_have_nine_sections_and_the_legacy_metrics_are_the_learners_answer(world):
    legacy, new, answer, note, eval_window, costs = _cards(world)
    card, card_new = modelcard.model_card(legacy), modelcard.model_card(new)
    assert all(modelcard.sections_present(card).values()) and all(modelcard.sections_present(card_new).values())
    assert legacy["metrics"] == {modelcard.METRIC_LABELS[k]: v for k, v in answer.items()}
    assert legacy["evaluation_data"]["rows"] == len(eval_window) == new["evaluation_data"]["rows"]
    assert legacy["evaluation_data"]["base rate"] == pytest.approx(eval_window.label.mean())
    assert new["thresholds"]["operating threshold"] == pytest.approx(340 / 3300)
    assert "0.200 to 0.150 at +1.2% cost: adopt before go-live" in note and note in legacy["ethical"]
    assert "flags 18-29" in " ".join(legacy["ethical"]) and "disparate treatment" in " ".join(legacy["ethical"])
    assert "decision log" in legacy["model_details"] and "kept 12 months" in legacy["model_details"]["decision log"]
    assert legacy["intended_use"]["human oversight"].startswith("none")
    assert "concept drift from month 9" in " ".join(legacy["caveats"])


def _monthly():
    return pd.DataFrame({"month": range(0, 19), "decisions": 1500,
                         "cost_per_1k": [5.0] * 4 + [5.0] * 6 + [9.0] * 7 + [float("nan")] * 2})


def test_an_incident_is_costed_from_the_onset_at_the_production_volume():
    monthly = _monthly()
    a = casefile.assess_incident(variant="credit", cost_increase=0.8, monthly=monthly, baseline_per_1k=5.0,
                                 data_onset=6, concept_onset=10, volume_per_year=60_000,
                                 equalized_odds_difference=0.05, four_fifths_flagged=["18-29"])
    assert a["degraded"] and a["root_cause"] == "concept drift" and a["start"] == 10
    want = sum(max(0.0, c - 5.0) * 5000 / 1000 for m, c in zip(monthly.month, monthly.cost_per_1k)
               if m >= 10 and not np.isnan(c))
    assert a["impact"]["total"] == pytest.approx(want) and a["impact"]["months_without_labels"] == 2
    assert a["art73"]["applies"]  # credit, an incident, and the four-fifths screen flags a band
    quiet = casefile.assess_incident(variant="fraud", cost_increase=0.1, monthly=monthly, baseline_per_1k=5.0,
                                     data_onset=6, concept_onset=None, volume_per_year=400_000,
                                     equalized_odds_difference=0.3, four_fifths_flagged=[])
    assert not quiet["degraded"] and quiet["root_cause"] is None and quiet["impact"]["total"] == 0.0
    assert quiet["start"] == 6 and not quiet["art73"]["applies"]


def test_the_incident_report_has_every_section_and_the_evidence_it_was_given():
    monthly = _monthly()
    a = casefile.assess_incident(variant="credit", cost_increase=0.8, monthly=monthly, baseline_per_1k=5.0,
                                 data_onset=6, concept_onset=10, volume_per_year=60_000,
                                 equalized_odds_difference=0.05, four_fifths_flagged=[])
    rollback = {"rolled_back": True, "days": 4, "windows": 2, "served_while_broken": 1234}
    report = casefile.incident_report(a, entry=risk.InventoryEntry(**ENTRY), variant="credit", months=18,
                                      cost_increase=0.8, data_onset=6, concept_onset=10, detected=13,
                                      detection_lag=3, share_drifted=0.6, volume_per_year=60_000, rollback=rollback,
                                      window_days=2, weeks_of_full_traffic=30.4, last_ramp_week=9)
    md = report.to_markdown()
    assert all(f"## {s}\n" in md for s in incident.SECTIONS)
    assert "status: incident" in md and "+80%" in md and "score test z > 3 from month 10" in md
    impact = float(re.search(r"\*\*impact \(EUR\):\*\* ([\d,]+)", md).group(1).replace(",", ""))
    assert impact == pytest.approx(a["impact"]["total"], abs=1)
    assert "4 days after a fault" in md and "1,234 decisions" in md and "90 days" in md  # credit's label delay
    assert "60,000 decisions a year" in md and "weeks 2-9" in md
    assert [e for e in report.timeline if "month 10" in e[0]]
    a_quiet = casefile.assess_incident(variant="credit", cost_increase=0.1, monthly=monthly, baseline_per_1k=5.0,
                                       data_onset=None, concept_onset=None, volume_per_year=60_000,
                                       equalized_odds_difference=0.05, four_fifths_flagged=[])
    quiet = casefile.incident_report(a_quiet, entry=risk.InventoryEntry(**ENTRY), variant="credit", months=18,
                                     cost_increase=0.1, data_onset=None, concept_onset=None, detected=None,
                                     detection_lag=None, share_drifted=0.0, volume_per_year=60_000,
                                     rollback=dict(rollback, rolled_back=False), window_days=2,
                                     weeks_of_full_traffic=30.4, last_ramp_week=9).to_markdown()
    assert "status: no incident" in quiet and "rehearse before go-live" in quiet and "P(Y|X) did not move" in quiet
