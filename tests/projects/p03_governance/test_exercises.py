"""The advanced notebook's exercises: reference answers pass, blanks are 'not attempted', wrong answers fail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.evaluation import explain
from lifecycle_lab.evaluation.costs import Costs
from lifecycle_lab.projects.p03_governance import exercises as ex
from lifecycle_lab.exercises.core import CORRECT, INCORRECT, NOT_ATTEMPTED
from lifecycle_lab.governance import business as bz, risk
from lifecycle_lab.projects.p03_governance import world as tx

EVIDENCE = {"concept_drift": True, "legacy_architecture": True, "detection_lag_months": 3,
            "inputs_monitored": True, "cost_increase": 0.4, "share_drifted": 0.6, "variant": "credit",
            "human_review": True, "annual_error_cost": 3_000_000}


def test_risk_scores_exercise():
    e = ex.risk_scores(EVIDENCE)
    assert e.evaluate(None).status == NOT_ATTEMPTED
    ref = e.reference
    assert e.evaluate(ref).status == CORRECT and ref["tier"] == 1
    assert e.evaluate(dict(ref, usage=3)).status == INCORRECT
    assert e.evaluate(dict(ref, tier=2)).status == INCORRECT
    assert len(e.hints) >= 2


def test_cost_threshold_exercise():
    costs = Costs(fp=300, fn=3000, review=40)
    e = ex.cost_threshold(costs)
    assert e.evaluate(340 / 3300).status == CORRECT
    assert e.evaluate(300 / 3300).status == INCORRECT  # forgot the review cost
    assert "review" in e.evaluate(300 / 3300).problems[0] and "Elkan" in e.evaluate(300 / 3300).problems[0]
    assert e.evaluate(None).status == NOT_ATTEMPTED
    free = ex.cost_threshold(Costs(fp=300, fn=3000, review=0))
    assert free.evaluate(300 / 3300).status == CORRECT  # with free reviews Elkan's p* is the answer


def test_option_npv_exercise_agrees_with_business():
    sq, options = bz.scenario_options("credit", {"status_quo": 270.0, "patch": 178.0, "retrain": 176.0})
    inputs = bz.CaseInputs(volume_per_year=bz.VOLUME["credit"], horizon_years=4, discount_rate=0.1, drift_rate=0.3)
    for op in options:
        e = ex.option_npv(op, sq, inputs)
        flows = bz.cashflows(op, sq, inputs)
        assert e.evaluate(bz.npv(flows["net"], 0.1, op.initial_investment)).status == CORRECT
        wrong = e.evaluate(flows["net"].sum() - op.initial_investment)
        assert wrong.status == INCORRECT and "(1 + r)^t" in wrong.problems[0]  # not discounted: says so


@pytest.fixture(scope="module")
def reason_case():
    """The reason-code exercise for the credit case with the largest explained output, and its SHAP values."""
    world = tx.simulate("credit", months=12, n_per_month=500, seed=9)
    X = tx.features("credit")
    train = world[world.month == 0]
    model = tx.build_model("credit", "replacement").fit(train[X], train.label)
    rows = world[world.month == 12][X]
    expl = explain.linear_shap(model, rows, train[X])
    case = rows.index[int(np.argmax(expl.output))]
    e = ex.reason_codes(model, rows.loc[case], train[X])
    phi = expl.values.loc[case]
    return e, phi


def test_reason_code_exercise(reason_case):
    e, phi = reason_case
    top = list(phi[phi > 0].sort_values(ascending=False).head(4).index)
    assert e.evaluate({"reasons": top}).status == CORRECT
    if len(top) > 1:
        assert e.evaluate({"reasons": top[::-1]}).status == INCORRECT  # wrong order
    negative = list(phi[phi < 0].index[:1])
    if negative:
        assert e.evaluate({"reasons": negative}).status == INCORRECT
    assert e.evaluate({"reasons": top + ["income", "channel"]}).status == INCORRECT  # more than four / wrong
    assert e.evaluate({"reasons": ["age_band"]}).status == INCORRECT  # not an input of the model
    assert e.evaluate(None).status == NOT_ATTEMPTED


def test_card_metrics_exercise():
    rng = np.random.default_rng(2)
    y = rng.binomial(1, 0.2, 1000)
    flag = rng.binomial(1, np.where(y == 1, 0.7, 0.2))
    groups = rng.choice(["a", "b"], 1000)
    e = ex.card_metrics(y, flag, groups, 123.0)
    tp, fp, fn = ((y == 1) & (flag == 1)).sum(), ((y == 0) & (flag == 1)).sum(), ((y == 1) & (flag == 0)).sum()
    from lifecycle_lab.evaluation.fairness import parity_summary

    s = parity_summary(y, flag, groups)
    answer = {"precision": tp / (tp + fp), "recall": tp / (tp + fn), "cost_per_1k": 123.0,
              "demographic_parity_difference": s["demographic_parity_difference"],
              "equalized_odds_difference": s["equalized_odds_difference"]}
    assert e.evaluate(answer).status == CORRECT
    wrong = e.evaluate(dict(answer, recall=tp / (tp + fp)))
    assert wrong.status == INCORRECT and "TP / (TP + FN)" in wrong.problems[0]


def test_numbers_in_reads_amounts_as_written():
    assert ex.numbers_in("NPV EUR 4.39M, i.e. 4,388,094; 4.4 million or 950k") == [4.39e6, 4388094.0, 4.4e6, 950e3]


def test_decision_exercise_checked_against_the_business_case():
    measured = {"status_quo": 10.3, "patch": 7.2, "retrain": 7.0}
    inputs = bz.CaseInputs(volume_per_year=bz.VOLUME["fraud"])
    build = lambda case, **kw: bz.scenario_options("fraud", measured, **kw)
    sq, options = build(inputs)
    table = bz.evaluate_options(options, sq, inputs)
    sens = bz.sensitivity(build, inputs, {"horizon_years": [1, 3], "discount_rate": [0.05, 0.08]})
    e = ex.decide(table, sens)
    best = bz.recommend(table)
    npv = float(table.set_index("option").loc[best, "npv"])
    why = (f"{best} has the highest NPV over three years, it adapts to drift, and it leaves no compliance exposure "
           f"for the explainability mandate; a one-year horizon would change the choice.")
    good = {"option": best, "npv": npv, "sensitive_to": "horizon_years", "justification": why}
    assert e.evaluate(good).status == CORRECT
    with_npv = why.replace("a one-year horizon would change the choice", f"EUR {npv / 1e6:.2f}M")
    assert e.evaluate(dict(good, justification=with_npv)).status == CORRECT
    assert e.evaluate(e.reference).status == CORRECT

    def problems(text):
        return " ".join(e.evaluate(dict(good, justification=text)).problems)

    # the old check passed any 15 words that said "cost"; now each gap is named
    vague = "We should do this because the cost is lower and it is better for everyone involved in the long run."
    assert "name the option" in problems(vague) and "two kinds of evidence" in problems(vague)
    no_anchor = (f"{best} reduces drift exposure and compliance risk for the firm, which leadership cares about more "
                 f"than anything else this year.")
    assert "quote its NPV" in problems(no_anchor)
    wrong_number = no_anchor + f" Its NPV is EUR {npv * 2 / 1e6:.1f}M."
    assert "quote its NPV" in problems(wrong_number)
    other = next(o for o in table.option if o != best)
    assert e.evaluate(dict(good, option=other)).status == INCORRECT
    assert e.evaluate(dict(good, npv=npv * 2)).status == INCORRECT
    assert e.evaluate(dict(good, sensitive_to="discount_rate")).status == INCORRECT  # does not flip here
    assert e.evaluate(dict(good, justification="it is better")).status == INCORRECT
    assert e.evaluate(None).status == NOT_ATTEMPTED


def test_decision_exercise_when_the_status_quo_wins():
    """No option earns back its cost: the status quo has no NPV to quote, so the check asks only for what exists."""
    table = pd.DataFrame({"option": ["patch", "retrain", "sunset"], "npv": [-1e5, -2e5, -3e5]})
    assert bz.recommend(table) == bz.STATUS_QUO
    firm = pd.DataFrame({"assumption": ["discount_rate", "horizon_years"], "value": [0.03, 5],
                         "recommendation": [bz.STATUS_QUO, bz.STATUS_QUO]})
    e = ex.decide(table, firm)
    assert e.evaluate(e.reference).status == CORRECT  # the reference passes its own check
    why = ("status quo: every option has a negative NPV, so none pays for its migration; the drift seen so far and "
           "the compliance work do not change that in the years ahead.")
    answer = {"option": bz.STATUS_QUO, "npv": 0.0, "sensitive_to": "none", "justification": why}
    assert e.evaluate(answer).status == CORRECT
    flips = firm.assign(recommendation=[bz.STATUS_QUO, "retrain"])
    e = ex.decide(table, flips)
    assert e.evaluate(e.reference).status == CORRECT
    problems = " ".join(e.evaluate(dict(answer, sensitive_to="horizon_years")).problems)
    assert "name the assumption that would change the decision (horizon_years)" in problems
    assert e.evaluate(dict(answer, sensitive_to="horizon_years",
                           justification=why + " A five-year horizon would favour retrain.")).status == CORRECT


def _decision_case():
    measured = {"status_quo": 10.3, "patch": 7.2, "retrain": 7.0}
    inputs = bz.CaseInputs(volume_per_year=bz.VOLUME["fraud"])
    build = lambda case, **kw: bz.scenario_options("fraud", measured, **kw)  # noqa: E731
    sq, options = build(inputs)
    table = bz.evaluate_options(options, sq, inputs)
    sens = bz.sensitivity(build, inputs, {"horizon_years": [1, 3], "discount_rate": [0.05, 0.08]})
    best = bz.recommend(table)
    return ex.decide(table, sens), best, float(table.set_index("option").loc[best, "npv"])


def test_a_justification_that_contradicts_the_decision_fails():
    """Issue 15: "we should sunset, not retrain" passed for retrain because it names retrain."""
    e, best, npv = _decision_case()
    assert best == "retrain"
    good = {"option": best, "npv": npv, "sensitive_to": "horizon_years"}
    against = ("We should sunset, not retrain: the NPV of EUR {:.2f}M is not worth the drift and compliance work, "
               "and a one-year horizon would change it anyway.".format(npv / 1e6))
    feedback = e.evaluate(dict(good, justification=against))
    assert feedback.status == INCORRECT
    assert any("argues against 'retrain'" in p for p in feedback.problems), feedback.problems
    also = ("Retrain has the best NPV, EUR {:.2f}M, against drift and compliance exposure; sunset is also a good "
            "choice given the horizon.".format(npv / 1e6))
    assert any("also recommends ['sunset']" in p for p in e.evaluate(dict(good, justification=also)).problems)


def test_a_justification_may_name_what_another_assumption_would_favour():
    e, best, npv = _decision_case()
    why = (f"{best}, not patch: the highest NPV (EUR {npv / 1e6:.2f}M) once drift and compliance exposure are priced "
           f"in; a one-year horizon would favour patch, so the horizon must be confirmed.")
    feedback = e.evaluate({"option": best, "npv": npv, "sensitive_to": "horizon_years", "justification": why})
    assert feedback.status == CORRECT, feedback.problems
    text = feedback.render()
    assert "names the chosen option and recommends no other" in text
    assert "the reasoning itself was not read" in text


def test_the_reason_code_hints_lead_to_an_answer_the_check_accepts(reason_case):
    """Issue 15: the third hint used to end in `.index`, a pandas Index; the check must accept what it leads to."""
    e, phi = reason_case
    assert "list(phi[phi > 0].sort_values(ascending=False).head(4).index)" in e.hints[2]
    assert e.evaluate({"reasons": list(phi[phi > 0].sort_values(ascending=False).head(4).index)}).status == CORRECT
    # the bare Index (what the old hint gave) is recorded as its list of labels, so it is judged, not refused
    assert e.evaluate({"reasons": phi[phi > 0].sort_values(ascending=False).head(4).index}).status == CORRECT


def test_numeric_answers_given_as_text_or_a_series_are_refused_and_the_notebook_gets_a_number(capsys):
    e = ex.cost_threshold(Costs(fp=300, fn=3000, review=40))
    for wrong, advice in (("0.103", "give the number itself"), (pd.Series([340 / 3300]), "float(x)")):
        got = e.check(wrong)
        out = capsys.readouterr().out
        assert "not yet" in out and advice in out
        assert isinstance(got, float) and f"{got:.3f}" == "0.103"  # the next cell formats it
    assert type(e.check(np.float64(340 / 3300))) is float
    d, best, npv = _decision_case()
    why = (f"{best}: the highest NPV (EUR {npv / 1e6:.2f}M) once drift and compliance exposure are priced in; a "
           f"one-year horizon would change the choice.")
    answer = {"option": best, "npv": npv, "sensitive_to": "horizon_years", "justification": why}
    assert d.evaluate(answer).status == CORRECT
    assert d.evaluate(dict(answer, npv=f"{npv:.0f}")).status == INCORRECT
