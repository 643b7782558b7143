"""The advanced notebook: the learner copy runs unattempted under another seed and variant; conclusions hold."""

import pytest

from conftest import outputs_text

pytestmark = pytest.mark.notebook

NAME = "03_advanced_governance_sunset"


@pytest.fixture(scope="module")
def credit_run(run_notebook):
    return run_notebook(NAME, {"seed": 7, "fast": True, "variant": "credit"}, tag="nb03-credit")


def test_credit_learner_copy_conclusions(credit_run):
    facts = credit_run.summary
    assert outputs_text(credit_run).count("not attempted yet") == 6
    assert facts["variant"] == "credit" and facts["high_risk"] is True
    assert facts["risk_tier"] == 1 and facts["risk_scores"]["usage"] == 5  # decisions about people
    assert 1 <= facts["reasons"] <= 4 and len(facts["reason_features"]) == facts["reasons"]
    assert "age_band" not in facts["reason_features"]  # reasons are factors actually scored
    assert facts["additivity_ok"] is True
    assert facts["p_star"] == pytest.approx((300 + 40) / (300 + 3000), abs=1e-4)
    # the recommendation is the option with the highest NPV, and it beats the status quo
    best = max(facts["npv"], key=facts["npv"].get)
    assert facts["recommendation"] == best and facts["npv"][best] > 0
    assert facts["checklist"]["required"] == 13 and facts["checklist"]["not met"] >= 1  # e.g. no FRIA
    assert facts["concept_onset"] is not None and facts["detected_month"] >= facts["concept_onset"]
    assert facts["false_alarm_naive"] > 0.5 > facts["false_alarm_guarded"]
    assert facts["broken_rolled_back"] is True and facts["canary_completed"] is True
    assert facts["inventory_status"] == "recently retired"
    assert facts["incident"] is True and facts["impact_eur"] > 0  # expected cost rose > 20%: an incident
    assert facts["art73_applies"] in (True, False)


def test_fraud_short_horizon_changes_the_recommendation(run_notebook, credit_run):
    """Fraud is not high-risk; with a one-year horizon the cheap patch wins (3 years: a replacement)."""
    short = run_notebook(NAME, {"seed": 7, "fast": True, "variant": "fraud", "horizon_years": 1}, tag="nb03-fraud1")
    facts = short.summary
    assert facts["high_risk"] is False and facts["checklist"]["required"] == 0
    assert facts["art73_applies"] is False
    assert facts["recommendation"] == "patch"
    assert facts["recommendation"] != credit_run.summary["recommendation"]


def test_unknown_variant_stops_with_a_clear_message(notebook_out):
    from lifecycle_lab import paths
    from lifecycle_lab.course.runner import run_notebook

    result = run_notebook(paths.NOTEBOOKS / f"{NAME}.ipynb", notebook_out / "nb03-bad", {"variant": "loans"},
                          progress=False)
    assert result.status == "failed"
    assert "ParameterError" in result.error and "variant='loans' is not allowed" in result.error


def test_generated_documents_agree_with_the_summary(credit_run):
    """The model card, memo and incident report the run wrote carry every section and the run's numbers."""
    import re

    from lifecycle_lab.governance import business, incident, modelcard

    folder = credit_run.output.parent / credit_run.output.stem
    facts = credit_run.summary
    card = (folder / "model_card_legacy.md").read_text()
    assert all(modelcard.sections_present(card).values())
    assert f"**demographic parity difference:** {facts['dp_difference']:.3f}" in card
    memo = (folder / "decision_memo.md").read_text()
    assert all(f"## {s}\n" in memo for s in business.MEMO_SECTIONS)
    npv = float(re.search(r"NPV EUR ([\d,]+)", memo).group(1).replace(",", ""))
    assert f"**{facts['recommendation']}**" in memo
    assert npv == pytest.approx(facts["npv"][facts["recommendation"]], abs=500)
    report = (folder / "incident_report.md").read_text()
    assert all(f"## {s}\n" in report for s in incident.SECTIONS)
    assert f"**AI Act Art 73 applies:** {'yes' if facts['art73_applies'] else 'no'}" in report
    impact = float(re.search(r"\*\*impact \(EUR\):\*\* ([\d,]+)", report).group(1).replace(",", ""))
    assert impact == pytest.approx(facts["impact_eur"], abs=50)
    assert (folder / "drift_report.html").stat().st_size > 10_000
