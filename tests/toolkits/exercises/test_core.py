"""The feedback layer: right answers pass, wrong ones fail with a reason, stubs are 'not attempted'."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from lifecycle_lab.exercises.core import (CORRECT, INCORRECT, NOT_ATTEMPTED, Case, DecisionExercise, Field,
                                          FunctionExercise, ValueExercise)
from lifecycle_lab.projects.p00_start_here import exercises as start_here

HINTS = dict(hints=["first", "second"], solution="x = 1")


def test_value_exercise_outcomes():
    ex = ValueExercise(0.5, rtol=1e-3, **HINTS)
    assert ex.evaluate(None).status == NOT_ATTEMPTED
    assert ex.evaluate(0.5004).status == CORRECT
    wrong = ex.evaluate(0.6)
    assert wrong.status == INCORRECT and "too high" in wrong.problems[0]
    assert ex.evaluate("abc").status == INCORRECT
    assert "give the number itself" in ex.evaluate("abc").problems[0]


def test_value_exercise_dict_names_the_wrong_key():
    ex = ValueExercise({"precision": 0.8, "recall": 0.4}, **HINTS)
    fb = ex.evaluate({"precision": 0.8, "recall": 0.8})
    assert fb.status == INCORRECT
    assert len(fb.problems) == 1 and fb.problems[0].startswith("recall")
    missing = ex.evaluate({"precision": 0.8})
    assert "recall: missing" in missing.problems[0]
    assert ex.evaluate({"precision": None, "recall": None}).status == NOT_ATTEMPTED


def test_check_returns_answer_or_reference_and_prints(capsys):
    ex = ValueExercise(2.0, **HINTS)
    assert ex.check(2.0) == 2.0
    assert "all checks passed" in capsys.readouterr().out
    assert ex.check(None) == 2.0
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "reference result" in out
    assert ex.check(3.0) == 2.0
    assert "not yet: 1 of 1 checks failed" in capsys.readouterr().out


def test_success_message_lists_only_what_was_checked():
    ex = ValueExercise({"a": 1.0}, **HINTS)
    msg = ex.evaluate({"a": 1.0}).render()
    assert "all checks passed (1 checked: a = 1" in msg


def test_value_advice_and_booleans():
    ex = ValueExercise({"auc": 0.8, "n": 1.0}, advice={"auc": "count the pairs ranked right"}, **HINTS)
    ex.bind("nb", "ex7", "auc")
    fb = ex.evaluate({"auc": 0.6, "n": True})
    assert fb.status == INCORRECT
    assert "auc: 0.6 is too low; count the pairs ranked right." in fb.problems
    assert any(p.startswith("n: got True, a boolean") for p in fb.problems)  # True is not 1
    assert "Try `ex7.hint(1)`" in fb.render()  # the call a learner can paste, with the variable name
    plain = ValueExercise(2.0, **HINTS).evaluate(3.0)
    assert plain.problems == ["value: 3 is too high; recompute it and compare with `hint(1)`."]


def test_hints_are_numbered(capsys):
    ex = ValueExercise(1.0, **HINTS)
    ex.hint(2)
    assert "hint 2/2: second" in capsys.readouterr().out
    ex.hint(5)
    assert "there are 2 hints" in capsys.readouterr().out
    ex.solution()
    assert "x = 1" in capsys.readouterr().out


def test_function_exercise():
    ex = FunctionExercise([Case((2, 3), 5, "small"), Case((0, 0), 0, "zeros")], **HINTS)
    assert ex.evaluate(lambda a, b: a + b).status == CORRECT
    fb = ex.evaluate(lambda a, b: a * b)
    assert fb.status == INCORRECT and "returned 6, expected 5 (small)" in fb.problems[0]
    forgot_return = ex.evaluate(lambda a, b: None)  # it ran: a wrong answer, not a skipped one
    assert forgot_return.status == INCORRECT and "did you forget `return`" in forgot_return.problems[0]
    assert ex.evaluate(None).status == NOT_ATTEMPTED

    def stub(a, b):
        raise NotImplementedError

    assert ex.evaluate(stub).status == NOT_ATTEMPTED
    crash = ex.evaluate(lambda a, b: a / b)
    assert crash.status == INCORRECT and "raised ZeroDivisionError" in crash.problems[1]


def test_decision_exercise_field_by_field():
    ex = DecisionExercise({
        "decision": Field("GO or NO-GO", choices=["GO", "NO-GO"], expected="NO-GO", why="p99 misses the target"),
        "p99_ms": Field("measured p99", expected=250.0, tol=1.0),
        "reason": Field("why", min_words=4, mention=["latency", "p99"]),
        "owner": Field("who", validate=lambda v, answer: None if "@" in v else "give an e-mail address"),
    }, **HINTS)
    good = {"decision": "NO-GO", "p99_ms": 250.4, "reason": "p99 latency is above target", "owner": "a@b.c"}
    assert ex.evaluate(good).status == CORRECT
    bad = ex.evaluate({"decision": "GO", "p99_ms": 120, "reason": "looks good", "owner": "bob"})
    assert bad.status == INCORRECT
    text = "\n".join(bad.problems)
    assert "p99 misses the target" in text and "p99_ms" in text and "at least 4 words" in text
    assert "e-mail" in text
    assert ex.evaluate({"decision": "MAYBE", **{k: v for k, v in good.items() if k != "decision"}}).problems[0] \
        .startswith("decision: 'MAYBE' is not one of")
    assert ex.evaluate({"decision": None, "p99_ms": None, "reason": "", "owner": ""}).status == NOT_ATTEMPTED
    assert "unknown fields" in ex.evaluate({**good, "extra": 1}).problems[0]


def _data(seed=3, n=400):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = np.clip(y * 0.3 + rng.normal(0.35, 0.2, n), 0, 1)
    return y, score


def test_start_here_confusion_metrics_against_sklearn():
    y, score = _data()
    pred = (score >= 0.5).astype(int)
    ex = start_here.confusion_metrics(y, pred)
    right = {"precision": precision_score(y, pred), "recall": recall_score(y, pred), "f1": f1_score(y, pred)}
    assert ex.evaluate(right).passed
    swapped = {"precision": right["recall"], "recall": right["precision"], "f1": right["f1"]}
    assert not ex.evaluate(swapped).passed


def test_start_here_f1_function():
    ex = start_here.f1_from_counts()
    assert ex.evaluate(lambda tp, fp, fn: 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)).passed

    def naive(tp, fp, fn):
        p, r = tp / (tp + fp), tp / (tp + fn)
        return 2 * p * r / (p + r)

    fb = ex.evaluate(naive)
    assert not fb.passed and any("ZeroDivisionError" in p for p in fb.problems)


def test_start_here_roc_auc_and_threshold():
    y, score = _data(5)
    assert start_here.roc_auc(y, score).evaluate(roc_auc_score(y, score)).passed
    assert not start_here.roc_auc(y, score).evaluate(1 - roc_auc_score(y, score)).passed
    threshold, precision, recall = start_here.best_threshold(y, score, 0.7)
    assert precision >= 0.7
    flagged = score >= threshold
    assert y[flagged].mean() >= 0.7  # an independent recount of the precision at that threshold
    ex = start_here.threshold_memo(y, score, 0.7)
    reason = "lowest threshold meeting the precision target keeps recall highest"
    assert ex.evaluate({"threshold": threshold, "recall": recall, "reason": reason}).passed
    too_low = ex.evaluate({"threshold": 0.0, "recall": 1.0, "reason": reason})
    assert not too_low.passed and "below the target" in too_low.problems[0]
    too_high = ex.evaluate({"threshold": float(score.max()), "recall": recall, "reason": reason})
    assert not too_high.passed and "a lower threshold keeps the precision" in too_high.problems[0]


def test_exercise_needs_hints():
    with pytest.raises(ValueError, match="at least one hint"):
        ValueExercise(1.0, hints=[], solution="")


# -- answers are recorded, then judged from the record -------------------------------------------------

def test_numeric_strings_series_and_nan_are_refused_with_advice():
    import pandas as pd

    ex = ValueExercise(0.787, **HINTS)
    text = ex.evaluate("0.787")
    assert not text.passed and "give the number itself" in text.problems[0]
    series = ex.evaluate(pd.Series([0.787]))
    assert not series.passed and "pandas.Series" in series.problems[0] and "float(x)" in series.problems[0]
    assert "NaN" in ex.evaluate(float("nan")).problems[0]
    assert ex.evaluate(np.float64(0.787)).passed  # a numpy number is a number
    assert type(ex.check(np.float64(0.787))) is float  # and what the next cell gets is a plain float


def test_encode_decode_round_trip_keeps_what_the_checks_need():
    from lifecycle_lab.exercises.core import Unserialisable, decode, encode

    import pandas as pd

    value = {"a": np.float64(0.5), "b": (1, 2), "c": np.array([1.0, 2.0]), "d": {1: "x"}, "e": float("inf"),
             "f": pd.Index(["x", "y"])}
    back = decode(encode(value))
    assert back == {"a": 0.5, "b": [1, 2], "c": [1.0, 2.0], "d": {1: "x"}, "e": float("inf"), "f": ["x", "y"]}
    import json

    assert decode(json.loads(json.dumps(encode(value)))) == back  # what goes through the ledger file
    assert isinstance(decode(encode(pd.Series([1.0]))), Unserialisable)


def test_a_function_is_judged_from_its_recorded_outputs_not_rerun():
    import json

    ex = FunctionExercise([Case((2, 3), 5), Case((0, 0), 0)], **HINTS)
    calls = []

    def add(a, b):
        calls.append((a, b))
        return a + b

    record = json.loads(json.dumps(ex.record(add)))  # as the grader reads it from the ledger
    assert len(calls) == 2
    assert ex.judge(record).passed and len(calls) == 2  # judging ran nothing
    forged = json.loads(json.dumps(ex.record(lambda a, b: a * b)))
    assert not ex.judge(forged).passed
    other_data = FunctionExercise([Case((7, 7), 14)], **HINTS)  # recorded on other inputs: not run, not passed
    fb = other_data.judge(record)
    assert not fb.passed and "was not run" in fb.problems[0]


def test_field_validate_sees_the_whole_answer():
    def share_fits_threshold(value, answer):
        return None if abs(value - (1 - answer["threshold"])) < 1e-9 else "the share does not fit the threshold"

    ex = DecisionExercise({"threshold": Field("t"), "share": Field("s", validate=share_fits_threshold)}, **HINTS)
    assert ex.evaluate({"threshold": 0.25, "share": 0.75}).passed
    assert not ex.evaluate({"threshold": 0.25, "share": 0.5}).passed
    # no state is kept between checks: the same exercise judges two answers in any order
    assert ex.evaluate({"threshold": 0.5, "share": 0.5}).passed


def test_a_justification_must_argue_for_the_chosen_option_and_no_other():
    from lifecycle_lab.exercises.core import stance

    options = ["patch", "retrain", "sunset"]
    assert stance("We should sunset, not retrain.", options) == {
        "patch": "absent", "retrain": "rejected", "sunset": "recommended"}
    assert stance("Retrain rather than patch: the NPV is higher.", options)["patch"] == "rejected"
    assert stance("Patching is not enough; retrain.", options)["retrain"] == "recommended"
    ex = DecisionExercise({"decision": Field("d", choices=options),
                           "why": Field("w", min_words=4, justifies="decision")}, **HINTS)
    # a comparison names what the choice beats: "beats patch and sunset" recommends neither
    assert ex.evaluate({"decision": "retrain", "why": "retrain: the NPV beats patch and sunset by far"}).passed
    assert not ex.evaluate({"decision": "retrain", "why": "retrain: the NPV of patch and sunset is high"}).passed
    good = ex.evaluate({"decision": "retrain", "why": "retrain, not sunset: the NPV is higher and positive"})
    assert good.passed and "reasoning itself was not read" in good.render()
    contradicts = ex.evaluate({"decision": "retrain", "why": "we should sunset, not retrain this model"})
    assert not contradicts.passed and "argues against 'retrain'" in contradicts.problems[0]
    silent = ex.evaluate({"decision": "retrain", "why": "the numbers in the table say so clearly"})
    assert not silent.passed and "name the option you chose" in silent.problems[0]


def test_an_option_named_by_an_ordinary_word_counts_only_where_it_is_used_as_a_name():
    from lifecycle_lab.exercises.core import stance

    policies = ["never", "weekly", "monthly", "drift", "performance"]
    view = stance("performance has the lowest total cost; drift never fires, so it never retrains", policies)
    assert view["never"] == "absent" and view["drift"] == "rejected" and view["performance"] == "recommended"
    view = stance("performance is cheaper than never retraining and than monthly", policies)
    assert view["never"] == view["monthly"] == "rejected" and view["performance"] == "recommended"
    for named in ("never retraining is cheapest at EUR 1,000 a retrain", "I pick never: a retrain costs more",
                  "never has the lowest total cost", "At EUR 1,000 a retrain. Never wins",
                  "'never' wins at that price", "the never policy wins"):
        assert stance(named, policies)["never"] == "recommended", named
    ex = DecisionExercise({"policy": Field("p", choices=policies),
                           "why": Field("w", min_words=6, justifies="policy")}, **HINTS)
    assert ex.evaluate({"policy": "performance",
                        "why": "performance costs least in total; drift never fires, and monthly is good too"}
                       ).passed is False  # monthly is recommended as well
    assert ex.evaluate({"policy": "performance",
                        "why": "performance costs least in total, cheaper than weekly; drift never fires"}).passed


def test_mention_matches_words_not_substrings():
    ex = DecisionExercise({"why": Field("w", mention=["ICE"])}, **HINTS)
    assert not ex.evaluate({"why": "in practice we ship fast"}).passed  # 'ICE' is not in 'practice'
    assert ex.evaluate({"why": "the ICE score ranks it first"}).passed


def test_a_measured_value_is_judged_against_its_own_evidence():
    ex = ValueExercise(measured=[1.0, 2.0, 3.0, 4.0], oracle=lambda xs: float(np.percentile(xs, 50)), unit="ms",
                       rtol=0, atol=1e-9, **HINTS)
    assert ex.evaluate(2.5).passed and "~2.5 ms" in ex.evaluate(2.5).render()
    record = ex.record(10.0)
    record["evidence"] = [10.0, 10.0, 10.0]  # the grader recomputes the expected value from the evidence
    assert ex.judge(record).passed


def test_an_exercise_set_declares_binds_and_registers(tmp_path, monkeypatch, capsys):
    import json

    from lifecycle_lab.exercises.core import CHECK_LOG_ENV, REGISTRY, ExerciseError, ExerciseSet

    exercises = ExerciseSet("99_test")

    @exercises.exercise("ex2", "second")
    def second():
        return ValueExercise(2.0, **HINTS)

    @exercises.exercise("ex1", "first")
    def first():
        return ValueExercise(1.0, **HINTS)

    assert exercises.ids == ["ex1", "ex2"] and len(exercises) == 2
    with pytest.raises(ExerciseError, match="declared twice"):
        exercises.exercise("ex1", "again")(first)
    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(CHECK_LOG_ENV, str(ledger))
    ex = first()
    assert ex.name == "ex1 first" and REGISTRY[("99_test", "ex1")] is ex
    ex.hint(1)
    ex.solution()
    ex.check(ex.reference)
    ex.check(3.0)
    assert "Try `ex1.hint(1)`" in capsys.readouterr().out
    events = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [e["event"] for e in events] == ["hint", "solution", "check", "check"]
    assert events[2]["reference_submitted"] is True and events[3]["reference_submitted"] is False
    assert events[3]["record"] == {"answer": 3.0}


def test_an_option_named_only_under_a_hypothetical_is_not_a_recommendation():
    from lifecycle_lab.exercises.core import stance

    options = ["patch", "retrain", "sunset"]
    view = stance("Retrain: the NPV is highest; a one-year horizon would favour patch.", options)
    assert view == {"patch": "hypothetical", "retrain": "recommended", "sunset": "absent"}
    assert stance("Patch now, and sunset later.", options)["sunset"] == "recommended"  # no hypothetical: counted
    ex = DecisionExercise({"decision": Field("d", choices=options),
                           "why": Field("w", min_words=4, justifies="decision")}, **HINTS)
    only_if = ex.evaluate({"decision": "retrain", "why": "a longer horizon would favour retrain over the others"})
    assert not only_if.passed and "name the option you chose" in only_if.problems[0]
