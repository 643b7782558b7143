"""The advanced notebook: the learner copy runs unattempted under other seeds and variants; its conclusions and
the documents it writes agree with the evidence, recomputed here independently."""

import json
import re

import pandas as pd
import pytest

from helpers import outputs_text
from lifecycle_lab.projects.p03_governance import EXERCISES

pytestmark = pytest.mark.notebook

NAME = "03_advanced_governance_sunset"
FAST_PER_MONTH = 1500


@pytest.fixture(scope="module")
def credit_run(run_notebook):
    return run_notebook(NAME, {"seed": 7, "fast": True, "variant": "credit"}, tag="nb03-credit")


@pytest.fixture(scope="module")
def fraud_short(run_notebook):
    return run_notebook(NAME, {"seed": 7, "fast": True, "variant": "fraud", "horizon_years": 1}, tag="nb03-fraud1")


@pytest.fixture(scope="module")
def runs(credit_run, fraud_short):
    return {"credit": credit_run, "fraud": fraud_short}


def _folder(run):
    return run.output.parent / run.output.stem


def test_credit_learner_copy_conclusions(credit_run):
    facts = credit_run.summary
    assert outputs_text(credit_run).count("not attempted yet") == len(EXERCISES)
    assert facts["variant"] == "credit" and facts["high_risk"] is True
    assert facts["risk_tier"] == 1 and facts["risk_scores"]["usage"] == 5  # decisions about people
    assert 1 <= facts["reasons"] <= 4 and len(facts["reason_features"]) == facts["reasons"]
    assert "age_band" not in facts["reason_features"]  # reasons are factors actually scored
    assert facts["reason_design"] == ("legacy" if facts["recommendation"] in ("patch", "status_quo") else "replacement")
    assert facts["additivity_ok"] is True
    assert facts["p_star"] == pytest.approx((300 + 40) / (300 + 3000), abs=1e-4)
    # the recommendation is the option with the highest NPV, and it beats the status quo
    best = max(facts["npv"], key=facts["npv"].get)
    assert facts["recommendation"] == best and facts["npv"][best] > 0
    assert facts["concept_onset"] is not None and facts["detected_month"] >= facts["concept_onset"]
    assert facts["root_cause"] == "concept drift"
    # Art 73: credit is high-risk, so it applies exactly when an incident was opened and the fairness screen
    # (four-fifths flag or an equalized-odds gap above 0.1) suggests unequal treatment
    suspected = bool(facts["four_fifths_flagged"]) or facts["eo_difference"] > 0.1
    assert facts["art73_applies"] == (facts["incident"] and suspected)
    assert facts["incident"] == (facts["cost_increase"] > 0.2) and facts["impact_eur"] > 0
    # the checklist is read from the evidence on file: the log was checked, the FRIA is declared missing
    status = facts["checklist_status"]
    assert facts["checklist"]["required"] == 13 and facts["decision_log_complete"] is True
    assert status["Art 12"] == "met" and status["Art 27"] == "not met" and status["Art 17"] == "not met"
    assert status["Art 11 + Annex IV"] == "partly"  # no datasheet, validation report or change log written
    assert status["Art 13"] == "partly"  # the legacy card has no plan of pre-determined changes
    assert status["Art 15"] == ("not met" if facts["cost_increase"] > 0.1 else "met")
    assert sum(facts["checklist"][s] for s in ("met", "partly", "not met")) == 13
    assert facts["inventory_status"] == "recently retired"


def test_credit_rollback_guards_in_calendar_time(credit_run):
    facts = credit_run.summary
    assert facts["promote_gate"] is True  # the replacement beats the legacy model on paired decisions
    # the label-based 5% trigger cannot see a 5% drop at any stage at 60,000 decisions a year...
    assert facts["label_trigger_sees_5pct"] is False and facts["label_trigger_counted"] == 0
    assert facts["false_alarm_naive"] > 0.5 and facts["false_alarm_guarded"] == 0  # silent because blind
    # ...and works where windows hold its minimum sample: quiet on noise, stops the broken join in the ramp
    assert facts["false_alarm_naive_big"] > 0.3 > facts["false_alarm_guarded_big"]
    assert facts["broken_stopped_at_volume"].startswith("ramp")
    # the label-free guard protects the canary: the broken join introduced there is rolled back there
    assert facts["broken_rolled_back"] is True and facts["broken_stage"] == "canary 1%"
    assert facts["rollback_days"] == 2 * facts["window_days"] and facts["window_days"] >= 1
    assert facts["guard_false_alarm"] < 0.1 and facts["canary_completed"] is True
    # a mitigation usable for credit (age only in training) narrows the gap
    assert facts["reweighing_eo"] < facts["replacement_eo"]


def test_fraud_short_horizon_changes_the_recommendation(fraud_short, credit_run):
    """Fraud is not high-risk; with a one-year horizon the cheap patch wins (3 years: a replacement)."""
    facts = fraud_short.summary
    assert facts["high_risk"] is False and facts["checklist"]["required"] == 0
    assert facts["art73_applies"] is False
    assert facts["recommendation"] == "patch" and facts["reason_design"] == "legacy"
    assert facts["recommendation"] != credit_run.summary["recommendation"]


def test_without_concept_drift_the_diagnosis_changes(run_notebook):
    """The score test stays quiet when only the inputs move; the report must not blame concept drift."""
    run = run_notebook(NAME, {"seed": 7, "fast": True, "variant": "fraud", "concept_drift": False},
                       tag="nb03-noconcept")
    facts = run.summary
    assert facts["concept_onset"] is None and facts["detected_month"] is None
    assert facts["data_drift_onset"] is not None  # the inputs still moved
    assert facts["root_cause"] != "concept drift" and facts["risk_scores"]["conceptual_soundness"] == 2
    report = (_folder(run) / "incident_report.md").read_text()
    from lifecycle_lab.governance import incident

    assert all(f"## {s}\n" in report for s in incident.SECTIONS)  # an incident or a review: every section
    assert ("status: incident" in report) == facts["incident"]
    if not facts["incident"]:
        assert "**impact (EUR):** 0\n" in report and facts["impact_eur"] == 0


def test_unknown_variant_stops_with_a_clear_message(notebook_out):
    """Refused by the runner before a kernel starts, and by the notebook's validation cell when run directly."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from lifecycle_lab.base import paths
    from lifecycle_lab.course.runner import UnknownParameter, run_notebook

    with pytest.raises(UnknownParameter, match="variant='loans' is not allowed"):
        run_notebook(paths.NOTEBOOKS / f"{NAME}.ipynb", notebook_out / "nb03-bad", {"variant": "loans"}, progress=False)
    with pytest.raises(PapermillExecutionError) as stopped:
        papermill.execute_notebook(str(paths.NOTEBOOKS / f"{NAME}.ipynb"), str(notebook_out / "nb03-bad.ipynb"),
                                   parameters={"variant": "loans"}, kernel_name="python3", progress_bar=False,
                                   cwd=str(paths.NOTEBOOKS))
    assert stopped.value.ename == "ParameterError" and "variant='loans' is not allowed" in stopped.value.evalue
    assert stopped.value.exec_count <= 3  # the validation cell, before the world is simulated


# -- the documents, checked against an independent recomputation --------------------------------------------

def _case(run):
    folder = _folder(run)
    case = json.loads((folder / "business_case.json").read_text())
    scores = pd.read_csv(folder / "eval_scores.csv")
    return folder, case, scores


def _confusion_cost(y, flag, c):
    tp, fp = int(((y == 1) & flag).sum()), int(((y == 0) & flag).sum())
    fn = int(((y == 1) & ~flag).sum())
    return tp, fp, fn, (fp * c["fp"] + fn * c["fn"] + (tp + fp) * c["review"]) / len(y)


def _metric(card, name):
    section = card.split("## 4. Metrics")[1].split("## 5.")[0]
    return float(re.search(rf"\*\*{re.escape(name)}:\*\* ([\d,.]+)", section).group(1).replace(",", ""))


@pytest.mark.parametrize("variant", ["credit", "fraud"])
def test_model_cards_agree_with_the_evaluation_rows(runs, variant):
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from sklearn.metrics import precision_score, recall_score

    from lifecycle_lab.governance import modelcard

    run = runs[variant]
    folder, case, scores = _case(run)
    c, y = case["costs"], scores["label"].to_numpy()
    p_star = (c["fp"] + c["review"]) / (c["fp"] + c["fn"])
    for card_name, proba, threshold in (("model_card_legacy.md", "status_quo", case["threshold_legacy"]),
                                        ("model_card_replacement.md", "retrain", p_star)):
        card = (folder / card_name).read_text()
        assert all(modelcard.sections_present(card).values()), card_name
        flag = scores[proba].to_numpy() >= threshold
        assert _metric(card, "precision") == pytest.approx(precision_score(y, flag), abs=5e-4)
        assert _metric(card, "recall") == pytest.approx(recall_score(y, flag), abs=5e-4)
        assert _metric(card, modelcard.COST_METRIC) == pytest.approx(1000 * _confusion_cost(y, flag, c)[3], abs=0.5)
        assert "| 226.000 |" not in card and not re.search(r"\| \d+\.000 \|\n", card)  # counts print as integers
        dp = demographic_parity_difference(y, flag, sensitive_features=scores["age_band"])
        eo = equalized_odds_difference(y, flag, sensitive_features=scores["age_band"])
        assert _metric(card, modelcard.METRIC_LABELS["demographic_parity_difference"]) == pytest.approx(dp, abs=5e-4)
        assert _metric(card, modelcard.METRIC_LABELS["equalized_odds_difference"]) == pytest.approx(eo, abs=5e-4)


@pytest.mark.parametrize("variant", ["credit", "fraud"])
def test_memo_numbers_agree_with_a_recomputation(runs, variant):
    from lifecycle_lab.governance import business

    run = runs[variant]
    folder, case, scores = _case(run)
    c, y = case["costs"], scores["label"].to_numpy()
    memo = (folder / "decision_memo.md").read_text()
    assert all(f"## {s}\n" in memo for s in business.MEMO_SECTIONS)
    facts = run.summary

    def measured(cost_fn):
        cc = dict(c, fn=cost_fn)
        p_star = (cc["fp"] + cc["review"]) / (cc["fp"] + cc["fn"])
        thresholds = {"status_quo": case["threshold_legacy"], "patch": p_star, "retrain": p_star}
        return {k: _confusion_cost(y, scores[k].to_numpy() >= t, cc)[3] for k, t in thresholds.items()}

    def npv_by_hand(option, sq, volume, years, rate, drift):
        total = -sum(option.upfront.values())
        extra_running = sum(option.annual.values()) - sum(sq.annual.values())
        for t in range(1, years + 1):
            def loss(o):
                return volume * o.cost_per_decision * (1 + drift * o.drift_exposure) ** (t - 1) + o.compliance_exposure
            total += (loss(sq) - loss(option) - extra_running) / (1 + rate) ** t
        return total

    sq, options = business.scenario_options(variant, measured(c["fn"]))
    rows = {r.split(" | ")[0].strip("| "): r for r in memo.split("## Options compared")[1].split("## Assumptions")[0]
            .splitlines() if r.startswith("| ") and not r.startswith("| option")}
    for option in options:
        want = npv_by_hand(option, sq, case["volume_per_year"], case["horizon_years"], case["discount_rate"],
                           case["drift_rate"])
        got = float(rows[option.name].split(" | ")[-1].strip(" |").replace(",", ""))
        assert got == pytest.approx(want, abs=1.0), option.name
        assert facts["npv"][option.name] == pytest.approx(want, abs=500)
    npv = float(re.search(r"NPV EUR ([\d,]+)", memo).group(1).replace(",", ""))
    assert f"**{facts['recommendation']}**" in memo
    assert npv == pytest.approx(facts["npv"][facts["recommendation"]], abs=500)
    # every sensitivity row, re-run from the evaluation rows
    inputs = business.CaseInputs(volume_per_year=case["volume_per_year"], horizon_years=case["horizon_years"],
                                 discount_rate=case["discount_rate"], drift_rate=case["drift_rate"])
    fn = c["fn"]
    sens = business.sensitivity(lambda case_, cost_fn=None: business.scenario_options(variant, measured(cost_fn or fn)),
                                inputs, {"discount_rate": [0.03, 0.08, 0.15, 0.30], "drift_rate": [0.0, 0.15, 0.5, 1.0],
                                         "horizon_years": [1, 2, 3, 5], "cost_fn": [fn / 4, fn / 2, fn, 2 * fn]})
    table = memo.split("## Sensitivity")[1]
    order = re.search(r"\| assumption \| value \| (.*) \| recommendation \|", table).group(1)
    for r in sens.to_dict("records"):
        cells = " | ".join(f"{r['npv_' + name.split()[1]] / 1e6:.2f}" for name in order.split(" | "))
        assert f"| {r['assumption']} | {r['value']:g} | {cells} | {r['recommendation']} |" in table
    assert len(sens) == table.count("\n| ") - 1
    assert ("**Near tie:**" in memo) == facts["near_tie"]


@pytest.mark.parametrize("variant", ["credit", "fraud"])
def test_incident_report_and_log_agree_with_the_evidence(runs, variant):
    from lifecycle_lab.governance import business, incident

    run = runs[variant]
    folder, facts = _folder(run), run.summary
    report = (folder / "incident_report.md").read_text()
    assert all(f"## {s}\n" in report for s in incident.SECTIONS)
    assert f"**AI Act Art 73 applies:** {'yes' if facts['art73_applies'] else 'no'}" in report
    # impact: excess over the months 1-3 cost rate, at the business case's volume (not the simulated sample)
    monthly = pd.read_csv(folder / "monthly_performance.csv")
    base = monthly.loc[monthly.month.between(1, 3), "cost_per_1k"].mean()
    start = facts["concept_onset"] or facts["data_drift_onset"] or 1
    later = monthly[(monthly.month >= start) & monthly.cost_per_1k.notna()]
    want = ((later.cost_per_1k - base).clip(lower=0) * business.VOLUME[variant] / 12 / 1000).sum()
    impact = float(re.search(r"\*\*impact \(EUR\):\*\* ([\d,]+)", report).group(1).replace(",", ""))
    assert impact == pytest.approx(want if facts["incident"] else 0.0, abs=1.0)
    assert f"{business.VOLUME[variant]:,} decisions a year" in report
    assert f"{facts['rollback_days']} days after a fault" in report  # time to roll back, from the replay
    # the decision log the checklist relies on: one row per production decision, decisions = score >= threshold
    log = pd.read_csv(folder / "decision_log.csv.gz")
    assert len(log) == 18 * FAST_PER_MONTH and log.decision_id.is_unique and not log.isna().any().any()
    assert ((log.score >= log.threshold).astype(int) == log.decision).all()
    checklist = (folder / "ai_act_checklist.md").read_text()
    assert "| Art 12 |" in checklist and f"decision log checked: {len(log):,} rows" in checklist
