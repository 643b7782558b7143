"""Exercises of the advanced notebook (03_advanced_governance_sunset): governance and sunset.

Each factory takes the notebook's own computed evidence and derives the expected answer by an independent
route where one exists (scipy root finding for p*, a direct discounting loop for the NPV, SHAP by its
definition through the model's own decision_function for reason codes, scikit-learn and fairlearn for the
model-card metrics), so every seed and variant gets its own checks.
"""

from __future__ import annotations

from typing import Any, Mapping

from lifecycle_lab.exercises.core import DecisionExercise, ExerciseSet, Field, ValueExercise
from lifecycle_lab.governance import business, risk

EXERCISES = ExerciseSet("03_advanced_governance_sunset")
"""The exercises of notebook 03_advanced_governance_sunset, in order (tests and the grader count from this)."""


@EXERCISES.exercise("ex1", "score the model risk")
def risk_scores(evidence: Mapping) -> DecisionExercise:
    """Exercise 1: score the six SR 11-7-style risk elements from the evidence and give the tier."""

    expected = risk.score_elements(evidence)
    tier, _ = risk.tier(expected)
    fields = {el: Field(f"a whole number 1-5 for {el}: {risk.RUBRIC[el]}", choices=[1, 2, 3, 4, 5],
                        expected=expected[el], tol=0.0, why=f"apply the rubric: {risk.RUBRIC[el]}")
              for el in risk.ELEMENTS}
    fields["tier"] = Field("the risk tier 1 (high), 2 or 3 that the scores imply", choices=[1, 2, 3],
                           expected=tier, why="Tier 1 when usage or exposure scores 5 or the weighted "
                                              "composite is >= 3.5; Tier 2 when >= 2.5")
    reference = {**expected, "tier": tier}
    return DecisionExercise(
        fields, reference=reference,
        hints=["Go element by element through the rubric table above; every number you need is in the "
               "evidence dict printed before the exercise.",
               "Exposure uses the status quo's yearly error cost in EUR; usage depends only on the variant "
               "and on whether a person reviews flagged cases.",
               "The tier looks first at usage and exposure (the successor guidance ties tiering to purpose "
               "and exposure), then at the weighted composite."],
        solution="answer = risk.score_elements(evidence)\nanswer['tier'] = risk.tier(answer)[0]")


@EXERCISES.exercise("ex4", "cost-optimal threshold")
def cost_threshold(costs) -> ValueExercise:
    """Exercise 4: the cost-optimal threshold p* from the cost matrix (review cost included)."""
    from scipy.optimize import brentq

    # where flagging and not flagging cost the same: c_review + (1 - p) c_FP = p c_FN
    def gap(p):
        return costs.review + (1 - p) * costs.fp - p * costs.fn

    expected = 1.0 if gap(1.0) > 0 else float(brentq(gap, 0.0, 1.0, xtol=1e-12))
    return ValueExercise(
        expected, rtol=1e-4,
        advice=("a flag costs the review as well as the possible false positive, so p* = (c_FP + c_review) / "
                "(c_FP + c_FN); Elkan's c_FP / (c_FP + c_FN) is the answer only when reviews are free"
                if costs.review > 0 else "with free reviews p* is Elkan's c_FP / (c_FP + c_FN)"),
        hints=["Flag a case when the expected cost of flagging is below the expected cost of letting it pass.",
               "Flagging costs c_review + (1 - p) c_FP; letting it pass costs p c_FN. Set them equal.",
               "p* = (c_FP + c_review) / (c_FP + c_FN); with no review cost this is Elkan's c_FP / (c_FP + c_FN)."],
        solution="answer = (costs.fp + costs.review) / (costs.fp + costs.fn)")


@EXERCISES.exercise("ex5", "NPV of one option")
def option_npv(option, status_quo, inputs) -> ValueExercise:
    """Exercise 5: the NPV of one option against the status quo."""
    rate, years, vol, drift = inputs.discount_rate, inputs.horizon_years, inputs.volume_per_year, inputs.drift_rate
    total = -sum(option.upfront.values())
    for t in range(1, years + 1):
        sq_loss = vol * status_quo.cost_per_decision * (1 + drift * status_quo.drift_exposure) ** (t - 1) \
            + status_quo.compliance_exposure
        op_loss = vol * option.cost_per_decision * (1 + drift * option.drift_exposure) ** (t - 1) \
            + option.compliance_exposure
        d_c = sum(option.annual.values()) - sum(status_quo.annual.values())
        total += (sq_loss - op_loss - d_c) / (1 + rate) ** t
    return ValueExercise(
        total, rtol=1e-6, atol=1.0,
        advice="subtract I0 (the sum of the upfront costs), count dB_t with the compliance exposure and the "
               "error cost growing with drift_rate x drift_exposure, and divide year t's net flow by (1 + r)^t "
               "(year 1 is discounted once)",
        hints=["NPV = -I0 + sum over years t = 1..T of (dB_t - dC_t) / (1 + r)^t; I0 is the sum of the "
               "option's upfront costs.",
               "dB_t is the loss avoided against the status quo in year t: error cost (volume x cost per "
               "decision, growing by drift_rate x drift_exposure a year) plus compliance exposure.",
               "dC_t is the option's yearly running cost minus the status quo's; it is the same every year."],
        solution="flows = business.cashflows(option, status_quo, inputs)\n"
                 "answer = business.npv(flows['net'], inputs.discount_rate, option.initial_investment)")


def shap_by_definition(pipeline, x_row, background) -> dict:
    """Interventional SHAP of an additive model by definition: E_b[f(x_j, X_-j)] - E_b[f(X)].

    Uses only the model's decision_function, not its coefficients: an independent route to check the
    closed form in `lifecycle_lab.evaluation.explain` (they agree exactly for models additive in the raw inputs).
    """
    import numpy as np

    base = float(np.mean(pipeline.decision_function(background)))
    out = {}
    for col in background.columns:
        swapped = background.copy()
        swapped[col] = x_row[col]
        out[col] = float(np.mean(pipeline.decision_function(swapped))) - base
    return out


@EXERCISES.exercise("ex2", "reason codes for an adverse decision")
def reason_codes(pipeline, x_row, background, *, max_reasons: int = 4) -> DecisionExercise:
    """Exercise 2: the principal reasons (features, largest push towards 'bad' first) for one adverse case."""
    phi = shap_by_definition(pipeline, x_row, background)
    positive = sorted(((v, k) for k, v in phi.items() if v > 0), reverse=True)[:max_reasons]
    expected = [k for _, k in positive]

    def check(value: Any, answer):
        if not isinstance(value, (list, tuple)):
            return "give a list of feature names, largest contribution first"
        if len(value) > max_reasons:
            return (f"{len(value)} reasons: Reg B 1002.9(b)(2) practice is at most {max_reasons} principal "
                    f"reasons (more is not likely to be helpful)")
        unknown = [v for v in value if v not in phi]
        if unknown:
            return f"{unknown} are not inputs of the model; reasons must be factors actually scored"
        wrong_sign = [v for v in value if phi[v] <= 0]
        if wrong_sign:
            return f"{wrong_sign} pushed the score towards approval, not towards the adverse decision"
        if list(value) != expected[:len(value)] or len(value) < min(len(expected), max_reasons):
            return "not the largest contributions in order; sort the positive SHAP values, largest first"
        return None

    return DecisionExercise(
        {"reasons": Field("a list of at most four feature names, largest contribution first", validate=check)},
        reference={"reasons": expected},
        hints=["Take this case's row of SHAP values (log-odds): positive values push towards the adverse "
               "decision.",
               "Keep only positive contributions, sort them largest first, keep at most four.",
               "list(phi[phi > 0].sort_values(ascending=False).head(4).index) gives the names, with phi = "
               "expl.values.loc[case] (list(...) makes the pandas Index a plain list)."],
        solution="phi = expl.values.loc[case]\n"
                 "answer = {'reasons': list(phi[phi > 0].sort_values(ascending=False).head(4).index)}")


@EXERCISES.exercise("ex3", "model card: the Metrics section")
def card_metrics(y_true, y_pred, sensitive, cost_per_1k: float) -> ValueExercise:
    """Exercise 3: the model card's Metrics section, consistent with the evaluation data."""
    from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
    from sklearn.metrics import precision_score, recall_score

    expected = {
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "cost_per_1k": float(cost_per_1k),
        "demographic_parity_difference": float(demographic_parity_difference(y_true, y_pred,
                                                                             sensitive_features=sensitive)),
        "equalized_odds_difference": float(equalized_odds_difference(y_true, y_pred,
                                                                     sensitive_features=sensitive)),
    }
    return ValueExercise(
        expected, rtol=1e-3, atol=1e-6,
        advice={"precision": "precision = TP / (TP + FP) on the evaluation window at the legacy threshold",
                "recall": "recall = TP / (TP + FN): of the positive cases, the share the model flagged",
                "cost_per_1k": "1000 x the expected cost per decision of the evaluation window (cost_eval)",
                "demographic_parity_difference": "the largest minus the smallest flag rate across age bands",
                "equalized_odds_difference": "the larger of the TPR gap and the FPR gap across age bands"},
        hints=["Every number must come from the evaluation window (recent labelled months) at the model's "
               "current threshold, the same data the rest of the card describes.",
               "precision and recall from the flags and labels; cost_per_1k from the monthly table's "
               "definition (1000 x expected cost per decision); the parity numbers from "
               "fairness.parity_summary by age band."],
        solution="s = fairness.parity_summary(y_eval, flag_eval, groups_eval)\n"
                 "answer = {'precision': precision_score(y_eval, flag_eval), 'recall': recall_score(y_eval, "
                 "flag_eval),\n          'cost_per_1k': cost_per_1k, 'demographic_parity_difference': "
                 "s['demographic_parity_difference'],\n          'equalized_odds_difference': "
                 "s['equalized_odds_difference']}")


# How a justification may name each assumption of the sensitivity table.
ASSUMPTION_WORDS = {"discount_rate": ("discount",), "drift_rate": ("drift rate", "drift_rate"),
                    "horizon_years": ("horizon",), "volume_per_year": ("volume",),
                    "cost_fn": ("false negative", "false-negative", "cost_fn", "c_fn", "fn cost")}
EVIDENCE_WORDS = ("npv", "net present value", "drift", "complian", "tco", "error cost", "explain")


def numbers_in(text: str) -> list[float]:
    """The amounts written in a text: '4,388,094', 'EUR 4.39M', '4.4 million', '950k' (for the NPV check)."""
    import re

    out = []
    for m in re.finditer(r"(\d[\d,]*(?:\.\d+)?)\s*(million|thousand|mn|m|k)?(?![a-z])", text.lower()):
        value = float(m.group(1).replace(",", ""))
        scale = {"million": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}.get(m.group(2) or "", 1.0)
        out.append(value * scale)
    return out


@EXERCISES.exercise("ex6", "patch, retrain or sunset")
def decide(table, sensitivity, *, choices=("patch", "retrain", "sunset", "status_quo")) -> DecisionExercise:
    """Exercise 6: decide patch / retrain / sunset from the business case and defend the decision."""

    best = business.recommend(table)
    npv_best = float(table.set_index("option").loc[best, "npv"]) if best in set(table["option"]) else 0.0
    flips = sorted(set(sensitivity.loc[sensitivity["recommendation"] != best, "assumption"]))

    def flips_ok(value, answer):
        if value == "none":
            return None if not flips else f"the sensitivity table shows the recommendation changes with {flips}"
        if value not in set(sensitivity["assumption"]):
            return f"{value!r} is not an assumption of the sensitivity table ({sorted(set(sensitivity['assumption']))})"
        return None if value in flips else (f"the recommendation does not change when {value} varies over the "
                                            f"table's range; look for the rows whose recommendation differs")

    def justification_ok(value, answer):
        text = str(value).lower()
        problems = []  # that it names the chosen option and recommends no other: Field(justifies="option")
        evidence = [w for w in EVIDENCE_WORDS if w in text]
        if len(evidence) < 2:
            problems.append(f"rest it on at least two kinds of evidence (for example {', '.join(EVIDENCE_WORDS)}); "
                            f"found {evidence or 'none'}")
        quotes_npv = npv_best > 0 and any(abs(x - npv_best) <= 0.1 * npv_best for x in numbers_in(text))
        names_flip = any(w in text for f in flips for w in ASSUMPTION_WORDS.get(f, (f,)))
        # the status quo has no NPV to quote; with no assumption that flips it either, there is no anchor to ask for
        if not (quotes_npv or names_flip) and npv_best > 0:
            problems.append("quote its NPV (within 10%, e.g. 'EUR 4.4M') or name the assumption that would change "
                            "the decision" + (f" ({', '.join(flips)})" if flips else ""))
        elif not names_flip and npv_best <= 0 and flips:
            problems.append(f"name the assumption that would change the decision ({', '.join(flips)})")
        return "; ".join(problems) or None

    opening = (f"{best} has the highest NPV (EUR {npv_best:,.0f}) of the options compared"
               if best != business.STATUS_QUO else f"{best}: no option's NPV is positive, none earns back its cost")
    return DecisionExercise({"option": Field("the option you recommend", choices=list(choices), expected=best,
                         why="the highest NPV wins unless no option beats the status quo"),
         "npv": Field("its NPV in EUR", expected=npv_best, tol=max(1000.0, 0.01 * abs(npv_best)),
                      why="read it off the options table"),
         "sensitive_to": Field("an assumption whose plausible range changes the recommendation ('none' if none)",
                               validate=flips_ok),
         "justification": Field("why, for leadership: the option, its NPV or the assumption it rests on, and the "
                                "evidence (NPV, drift, compliance, TCO, error cost, explanations)", min_words=15,
                                validate=justification_ok, justifies="option")},
        reference={"option": best, "npv": npv_best, "sensitive_to": flips[0] if flips else "none",
                   "justification": (f"{opening}; the recommendation changes with "
                                     f"{', '.join(flips) or 'none of the assumptions'}, which must be confirmed "
                                     f"before signing; drift and compliance exposure are priced in the cost of each "
                                     f"option.")},
        hints=["Start from the options table: which option has the highest NPV, and is it positive?",
               "Then read the sensitivity table: in which rows does the recommendation change?",
               "A good justification names the option and its NPV (or the assumption that could flip it), the "
               "drift that makes the legacy design decay, and the compliance exposure each option leaves."],
        solution="answer = {'option': business.recommend(options), 'npv': <its npv>,\n"
                 "          'sensitive_to': <an assumption whose rows change the recommendation>,\n"
                 "          'justification': '<the option, its NPV in EUR, drift and compliance, in two sentences>'}")
