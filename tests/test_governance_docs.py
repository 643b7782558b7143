"""Generated documents: the model card and the incident report carry every section and the evidence's numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab import fairness
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
        "model_details": {"name": "legacy fraud scorecard", "version": "1.0"},
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
    assert not modelcard.sections_present(card.replace("## 8. Ethical considerations", "## 8. Ethics"))[
        "Ethical considerations"]


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


def test_art73_depends_on_variant_and_harm():
    assert not incident.art73_assessment("fraud", rights_breach_suspected=True)["applies"]
    assert incident.art73_assessment("credit", rights_breach_suspected=True)["applies"]
    assert "15 days" in incident.art73_assessment("credit", rights_breach_suspected=True)["reason"]
    assert not incident.art73_assessment("credit", rights_breach_suspected=False)["applies"]
    with pytest.raises(GovernanceError, match="unknown variant"):
        incident.art73_assessment("loans", rights_breach_suspected=False)
