"""Generated documents: the model card and the incident report carry every section and the evidence's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.evaluation import fairness
from lifecycle_lab.governance import GovernanceError, incident, modelcard
from lifecycle_lab.governance.modelcard import fmt


@pytest.fixture(scope="module")
def card_evidence():
    rng = np.random.default_rng(0)
    groups = rng.choice(["18-29", "30-59", "60+"], 2000)
    y = rng.binomial(1, 0.1, 2000)
    flag = rng.binomial(1, np.where(y == 1, 0.6, 0.1))
    table = fairness.group_table(y, flag, groups)
    parity = {k: v for k, v in fairness.parity_summary(y, flag, groups).items() if k != "by_group"}
    return {
        "model_details": {"name": "legacy fraud scorecard", "version": "1.0", "license": "internal use only",
                          "contact": "model-risk@example.org"},
        "intended_use": {"primary use": "flag transactions"},
        "factors": {"groups": "age band"},
        "metrics": {"precision": 0.1234567, "recall": 0.6, "cost_per_1k": 4321.5},
        "thresholds": {"operating threshold": 0.045},
        "evaluation_data": {"rows": 2000},
        "training_data": {"rows": 12000, "base rate": 0.03},
        "by_group": table.drop(index=["difference", "ratio"])[["selection_rate", "false_positive_rate"]],
        "intersections": None,
        "parity": parity,
        "ethical": ["age is not an input"],
        "caveats": ["labels arrive late"],
    }


def test_model_card_has_nine_sections_and_the_evidence_numbers(card_evidence):
    card = modelcard.model_card(card_evidence)
    present = modelcard.sections_present(card)
    assert len(present) == 9 and all(present.values())
    assert "0.123" in card and "4,322" in card and "12,000" in card
    by_group = card_evidence["by_group"]
    for g, row in by_group.iterrows():
        assert f"| {g} | {fmt(float(row.selection_rate))} | {fmt(float(row.false_positive_rate))} |" in card
    for value in card_evidence["parity"].values():
        assert fmt(float(value)) in card
    # numbers land in their own section
    metrics = card.split("## 4. Metrics")[1].split("## 5.")[0]
    assert "**precision:** 0.123" in metrics
    with pytest.raises(GovernanceError, match="missing"):
        modelcard.model_card({"metrics": {}})
    with pytest.raises(GovernanceError, match=r"lacks \['contact'\]"):
        modelcard.model_card(dict(card_evidence, model_details={"name": "m", "licence": "internal"}))
    assert not modelcard.sections_present(card.replace("## 8. Ethical considerations", "## 8. Ethics"))[
        "Ethical considerations"]


def test_counts_print_as_integers_and_intervals_under_metrics(card_evidence):
    by_group = card_evidence["by_group"].assign(count=[226.0, 1100.0, 674.0])
    card = modelcard.model_card(dict(card_evidence, by_group=by_group,
                                     uncertainty={"precision": (0.1, 0.15)}, uncertainty_note="95% bootstrap"))
    assert "| 226 |" in card and "| 1,100 |" in card and "226.000" not in card
    metrics = card.split("## 4. Metrics")[1].split("## 5.")[0]
    assert "**precision:** 0.123 (interval 0.100 to 0.150)" in metrics and "Intervals: 95% bootstrap" in metrics
    with pytest.raises(GovernanceError, match="not among the metrics.*'precision'"):
        modelcard.model_card(dict(card_evidence, uncertainty={"auc": (0, 1)}))


def test_quantitative_evidence_against_sklearn_and_fairlearn():
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from sklearn.metrics import precision_score, recall_score

    from lifecycle_lab.governance import business

    rng = np.random.default_rng(5)
    groups = pd.Series(rng.choice(["18-29", "30-59", "60+"], 3000), name="age_band")
    y = rng.binomial(1, 0.1, 3000)
    flag = rng.binomial(1, np.where(y == 1, 0.6, 0.15))
    costs = business.Costs(fp=10, fn=250, review=3)
    q = modelcard.quantitative(y, flag, groups, costs, intersect=pd.Series(rng.choice(["a", "b"], 3000), name="ch"),
                               n_boot=100, seed=1)
    m = q["metrics"]
    assert m["precision"] == pytest.approx(precision_score(y, flag))
    assert m["recall"] == pytest.approx(recall_score(y, flag))
    tp, fp, fn = ((y == 1) & (flag == 1)).sum(), ((y == 0) & (flag == 1)).sum(), ((y == 1) & (flag == 0)).sum()
    assert m[modelcard.COST_METRIC] == pytest.approx(1000 * (fp * 10 + fn * 250 + (tp + fp) * 3) / 3000)
    assert m[modelcard.METRIC_LABELS["demographic_parity_difference"]] == pytest.approx(
        demographic_parity_difference(y, flag, sensitive_features=groups))
    assert m[modelcard.METRIC_LABELS["equalized_odds_difference"]] == pytest.approx(
        equalized_odds_difference(y, flag, sensitive_features=groups))
    for name, (lo, hi) in q["uncertainty"].items():
        assert lo <= m[name] <= hi and hi > lo  # a real interval around the estimate
    assert q["intersections"]["count"].sum() == 3000 and q["by_group"]["count"].sum() == 3000


def test_excess_cost_by_hand():
    monthly = pd.DataFrame({"month": [1, 2, 3, 4], "decisions": [1000, 2000, 2000, 3000],
                            "cost_per_1k": [100.0, 150.0, 90.0, float("nan")]})
    got = incident.excess_cost(monthly, baseline_per_1k=100.0, from_month=2)
    # month 2: (150 - 100) * 2000 / 1000 = 100; month 3 below baseline: 0; month 4 unknown
    assert got["total"] == pytest.approx(100.0)
    assert got["months_costed"] == 2 and got["months_without_labels"] == 1
    with pytest.raises(GovernanceError, match="no months"):
        incident.excess_cost(monthly, 100.0, from_month=9)
    with pytest.raises(GovernanceError, match="negative"):
        incident.excess_cost(monthly, -1.0, from_month=1)
    with pytest.raises(GovernanceError, match="finite"):
        incident.excess_cost(monthly, float("nan"), from_month=1)
    # at the production volume instead of the sample's decisions: (150 - 100) * 33,333 / 1000
    scaled = incident.excess_cost(monthly, 100.0, from_month=2, volume_per_month=33_333)
    assert scaled["total"] == pytest.approx(50 * 33.333) and scaled["volume_per_month"] == 33_333
    with pytest.raises(GovernanceError, match="volume_per_month"):
        incident.excess_cost(monthly, 100.0, from_month=2, volume_per_month=0)


def test_incident_rules():
    assert incident.is_incident(0.21) and not incident.is_incident(0.2) and not incident.is_incident(-0.1)
    with pytest.raises(GovernanceError, match="finite"):
        incident.is_incident(float("nan"))
    rc = incident.classify_root_cause
    assert rc(data_onset=8, concept_onset=11, degraded=True) == "concept drift"
    assert rc(data_onset=8, concept_onset=None, degraded=True) == "data drift"
    assert rc(data_onset=None, concept_onset=None, degraded=True) == "pipeline bug"
    assert rc(data_onset=8, concept_onset=None, degraded=False) is None
    rb = incident.rights_breach_suspected
    assert rb("credit", equalized_odds_difference=0.05, four_fifths_flagged=["18-29"])
    assert rb("credit", equalized_odds_difference=0.15, four_fifths_flagged=[])
    assert not rb("credit", equalized_odds_difference=0.05, four_fifths_flagged=[])
    assert not rb("fraud", equalized_odds_difference=0.5, four_fifths_flagged=["18-29"])  # not about rights here
    timeline = incident.build_timeline(months=18, data_onset=None, concept_onset=11, detected=14, incident=True)
    assert [w for w, _ in timeline] == ["month 0", "month 1", "month 11", "end of month 14", "month 18"]
    quiet = incident.build_timeline(months=18, data_onset=8, concept_onset=None, detected=None, incident=False)
    assert [w for w, _ in quiet] == ["month 0", "month 1", "month 8", "month 18"] and "no incident" in quiet[-1][1]


def _report(**kw):
    base = dict(title="t", model_id="M1", variant="credit", summary="s", timeline=[("month 9", "onset")],
                detected_by="score test", detection_lag_months=3, impact_eur=123456.0, impact_note="n",
                root_cause="concept drift", root_cause_evidence="z > 3", time_to_rollback="72 hours",
                art73=incident.art73_assessment("credit", rights_breach_suspected=True),
                actions=[("freeze", "model owner", "now")])
    base.update(kw)
    return incident.IncidentReport(**base)


def test_incident_report_sections_numbers_and_validation():
    md = _report().to_markdown()
    for section in incident.SECTIONS:
        assert f"## {section}\n" in md
    assert "123,456" in md and "**AI Act Art 73 applies:** yes" in md and "| freeze | model owner | now |" in md
    with pytest.raises(GovernanceError, match="root_cause"):
        _report(root_cause="gremlins")
    with pytest.raises(GovernanceError, match="owner"):
        _report(actions=[("freeze", "", "now")])
    with pytest.raises(GovernanceError, match="negative"):
        _report(impact_eur=-5.0)
    with pytest.raises(GovernanceError, match="at least one action"):
        _report(actions=[])
    with pytest.raises(GovernanceError, match="None only"):
        _report(root_cause=None)
    with pytest.raises(GovernanceError, match="status"):
        _report(status="resolved-ish")


def test_no_incident_review_still_has_every_section():
    md = _report(status="no incident", root_cause=None, impact_eur=0.0, detection_lag_months=None,
                 art73=incident.art73_assessment("credit", rights_breach_suspected=False)).to_markdown()
    assert md.startswith("# Monitoring review (no incident)")
    for section in incident.SECTIONS:
        assert f"## {section}\n" in md
    assert "**root cause:** none" in md and "**detection lag:** not detected" in md and "**impact (EUR):** 0\n" in md


def test_art73_depends_on_variant_and_harm():
    assert not incident.art73_assessment("fraud", rights_breach_suspected=True)["applies"]
    assert incident.art73_assessment("credit", rights_breach_suspected=True)["applies"]
    assert "15 days" in incident.art73_assessment("credit", rights_breach_suspected=True)["reason"]
    assert not incident.art73_assessment("credit", rights_breach_suspected=False)["applies"]
    with pytest.raises(GovernanceError, match="unknown variant"):
        incident.art73_assessment("loans", rights_breach_suspected=False)
    quiet = incident.art73_assessment("credit", rights_breach_suspected=True, incident=False)
    assert not quiet["applies"] and "no incident" in quiet["reason"]
