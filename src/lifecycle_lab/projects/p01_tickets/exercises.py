"""Exercises of the beginner notebook (01_beginner_ticket_classifier), numbered in order of appearance.

Each factory takes the notebook's own data and computes the expected answer with an independent oracle
(scikit-learn, numpy brute force, pandas), so every seed gets its own checks:
ex1 the schema check, ex2 the keyword baseline, ex3 macro-F1 from the confusion matrix, ex4 the review
threshold, ex5 p99 latency from the log, ex6 one ML Test Score section and the next three tests.
"""

from __future__ import annotations

import math

from lifecycle_lab.deployment import mltestscore
from lifecycle_lab.exercises.core import (Case, DecisionExercise, ExerciseError, ExerciseSet, Field,
                                          FunctionExercise, ValueExercise, as_number, not_a_number)
from lifecycle_lab.projects.p01_tickets.schema import check_row, ticket_schema
from lifecycle_lab.projects.p01_tickets.world import KEYWORDS, keyword_rule

EXERCISES = ExerciseSet("01_beginner_ticket_classifier")
"""The exercises of notebook 01_beginner_ticket_classifier, in order (tests and the grader count from this)."""


@EXERCISES.exercise("ex3", "macro-F1 from the confusion matrix")
def macro_f1(y_true, y_pred, labels) -> ValueExercise:
    """Exercise 3: macro-F1 from the confusion matrix (oracle: sklearn.metrics.f1_score, average='macro')."""
    from sklearn.metrics import f1_score

    expected = float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))
    return ValueExercise(
        expected, rtol=1e-6,
        advice="macro-F1 is the plain mean of the per-class F1 = 2 tp / (2 tp + fp + fn); accuracy or a "
               "support-weighted mean gives another number (rows of cm are the truth, columns the prediction)",
        hints=["For each class k: tp = cm[k, k]; fp = column k minus tp; fn = row k minus tp (rows are the truth).",
               "F1_k = 2 tp / (2 tp + fp + fn); macro-F1 is the plain mean over the classes, "
               "so a small class counts as much as a big one.",
               "With numpy: tp = np.diag(cm); fp = cm.sum(axis=0) - tp; fn = cm.sum(axis=1) - tp."],
        solution="tp = np.diag(cm); fp = cm.sum(axis=0) - tp; fn = cm.sum(axis=1) - tp\n"
                 "answer = float(np.mean(2 * tp / (2 * tp + fp + fn)))")


# Hand-labelled cases a support lead would agree with; the expected class is in the sentence itself.
KEYWORD_CASES = [
    Case(("I need a refund for last month",), "Billing", "'refund' is a billing word"),
    Case(("My INVOICE is wrong",), "Billing", "match case-insensitively"),
    Case(("The app shows error 500 when I log in",), "Technical Issue", "'error' is a technical word"),
    Case(("Sync is broken since the update",), "Technical Issue", "'broken' is a technical word"),
    Case(("What are your opening hours?",), "General Inquiry", "no keyword: the default class"),
    Case(("",), "General Inquiry", "an empty text falls through to the default"),
    Case(("I got charged twice and the app crashed",), "Billing", "billing words are checked first"),
]


MAX_REAL_CASES = 300
"""Real tickets the keyword rule is run on (the first ones of the validation set): enough that a rule missing
a few keywords disagrees somewhere, few enough that the recorded answer stays small at any data size."""


def keyword_cases(keywords: dict, texts=()) -> list[Case]:
    """The hand-written cases, one case per keyword (a rule that forgets a keyword fails it), and real
    tickets whose expected class is the reference rule's (`world.keyword_rule`, the independent oracle)."""
    cases = list(KEYWORD_CASES)
    for cls in ("Billing", "Technical Issue"):
        for word in keywords[cls]:
            text = f"Hello, {word.upper() if len(word) % 2 else word} here"
            cases.append(Case((text,), keyword_rule(text), f"{word!r} is a {cls} keyword"))
    seen = set()
    for text in texts:
        text = str(text)
        if text in seen:
            continue
        seen.add(text)
        cases.append(Case((text,), keyword_rule(text), "a validation ticket: the reference rule's class"))
        if len(seen) >= MAX_REAL_CASES:
            break
    return cases


@EXERCISES.exercise("ex2", "keyword baseline")
def keyword_baseline(keywords: dict, texts=()) -> FunctionExercise:
    """Exercise 2: write the keyword-rule classifier (the non-ML alternative) as a function of the text.

    `texts`: real tickets (the notebook passes its validation texts); the learner's rule must agree with
    the reference on each, besides the edge cases and one case per keyword."""
    if dict(keywords) != dict(KEYWORDS):
        raise ExerciseError("keyword_baseline checks the notebook's keyword lists (world.KEYWORDS); pass those")

    billing = ", ".join(repr(w) for w in keywords["Billing"])
    technical = ", ".join(repr(w) for w in keywords["Technical Issue"])
    return FunctionExercise(
        keyword_cases(keywords, texts), reference=keyword_rule,
        hints=["Lower-case the text first, then test `word in text` for each keyword.",
               f"Billing words first ({billing}); then technical words ({technical}); "
               f"otherwise return 'General Inquiry'.",
               "Return exactly one of the three class names as a string."],
        solution="def rule(text):\n    t = str(text).lower()\n"
                 "    if any(w in t for w in KEYWORDS['Billing']):\n        return 'Billing'\n"
                 "    if any(w in t for w in KEYWORDS['Technical Issue']):\n        return 'Technical Issue'\n"
                 "    return 'General Inquiry'")


def _number_advice(key: str, value) -> str:
    """The framework's advice for a value that is not a plain number, without repeating the field's name."""
    return not_a_number(key, value).split(": ", 1)[1]


def _auto_precision(y_true, y_pred, conf, t):
    import numpy as np

    keep = np.asarray(conf) >= t
    if not keep.any():
        return float("nan"), 0.0
    return float(np.mean(np.asarray(y_true)[keep] == np.asarray(y_pred)[keep])), float(keep.mean())


@EXERCISES.exercise("ex4", "review threshold")
def review_threshold(y_true, y_pred, confidence, target_precision: float) -> DecisionExercise:
    """Exercise 4: the review threshold that meets a stated precision while automating the most tickets.

    Oracle: brute force over every observed confidence with numpy (the package's evaluate.review_threshold
    uses a sorted cumulative sum); the reference is computed here, never in the learner's cell.
    """
    import numpy as np

    conf = np.asarray(confidence, dtype=float)
    best_cov, best_t = 0.0, None
    for t in np.unique(conf):  # ascending: coverage only falls as t rises, so the first that fits is the best
        p, cov = _auto_precision(y_true, y_pred, conf, t)
        if p >= target_precision - 1e-12:
            best_cov, best_t = cov, float(t)
            break
    if best_t is None:  # no threshold reaches the target: everything goes to a human
        reference = {"threshold": float(np.nextafter(1.0, 2.0)), "automated_share": 0.0}
    else:
        reference = {"threshold": best_t, "automated_share": best_cov}

    def check_threshold(value, answer):
        if as_number(value) is None:
            return _number_advice("threshold", value)
        p, cov = _auto_precision(y_true, y_pred, conf, float(value))
        if not cov:
            return None if best_t is None else "no ticket would be automated at that threshold; lower it"
        if p < target_precision - 1e-12:
            return (f"at {float(value):.3f} the automated tickets have precision {p:.3f}, below the target "
                    f"{target_precision}; raise the threshold")
        if cov < best_cov - 0.005:
            return (f"it meets the target but automates only {cov:.1%}; a lower threshold automates "
                    f"{best_cov:.1%} at the same precision target")
        return None

    def check_share(value, answer):
        if as_number(value) is None:
            return _number_advice("automated_share", value)
        if as_number(answer.get("threshold")) is None:
            return "give the threshold as a number first"
        threshold = float(answer.get("threshold"))
        share = _auto_precision(y_true, y_pred, conf, threshold)[1]
        if math.isclose(float(value), share, abs_tol=0.002):
            return None
        return f"at your threshold {threshold:.3f} the share with confidence >= it is not {float(value):.3f}; recompute"

    return DecisionExercise({
            "threshold": Field("the confidence below which a ticket goes to a human (a number in [0, 1])",
                               validate=check_threshold),
            "automated_share": Field("the share of validation tickets routed automatically at your threshold",
                                     validate=check_share),
        },
        reference=reference,
        hints=["Sort the validation tickets by confidence, highest first; precision of the top k is the share "
               "correct among them.",
               "Try every observed confidence as a threshold; keep those whose automated precision meets the target.",
               "Among those, the lowest threshold automates the most tickets: that is the answer."],
        solution="for t in np.unique(conf):  # ascending: the first that meets the target is the lowest\n"
                 "    keep = conf >= t\n"
                 "    if (y_val[keep] == pred[keep]).mean() >= target:\n        break\n"
                 "else:  # no threshold reaches the target: every ticket goes to a person\n"
                 "    t = np.nextafter(1.0, 2.0)\n"
                 "answer = {'threshold': float(t), 'automated_share': float((conf >= t).mean())}")


# -- exercise 1: the schema check -----------------------------------------------------------------------

REASON = "a reason (a string)"


def _schema_cases():
    too_long = "x" * 2001
    return [
        Case(({"ticket_id": "T1", "text": "My invoice is wrong", "label": "Billing"},), None, "a valid row"),
        Case(({"ticket_id": "T2", "text": "", "label": "Billing"},), REASON, "empty text"),
        Case(({"ticket_id": "T3", "text": "   ", "label": "Billing"},), REASON, "blank text is empty too"),
        Case(({"ticket_id": "T4", "text": too_long, "label": "Billing"},), REASON, "longer than 2,000 characters"),
        Case(({"ticket_id": "T5", "text": 42, "label": "Billing"},), REASON, "text must be a string"),
        Case(({"ticket_id": "T6", "text": "hello", "label": "Sales"},), REASON, "label outside the three classes"),
        Case(({"text": "hello", "label": "Billing"},), REASON, "ticket_id missing"),
        Case(({"ticket_id": None, "text": "hello", "label": "Billing"},), REASON,
             "a ticket_id that is None is missing too: present is not enough"),
        Case(({"ticket_id": "", "text": "hello", "label": "Billing"},), REASON, "an empty ticket_id"),
        Case(({"ticket_id": "   ", "text": "hello", "label": "Billing"},), REASON, "a blank ticket_id"),
        Case(({"ticket_id": "T8", "text": "x" * 2000, "label": "General Inquiry"},), None,
             "exactly 2,000 characters is allowed"),
    ]


@EXERCISES.exercise("ex1", "schema check")
def schema_check() -> FunctionExercise:
    """Exercise 1: a function that returns why a ticket row is invalid (a string), or None when it is fine.

    The expected verdicts come from the rules stated in the notebook; the package's `csvload.check_row`
    must agree with them (tested), and it is what training, the batch job and the API use.
    """

    schema = ticket_schema(labelled=True)

    def compare(got, want):
        if want is None:
            return got is None
        return isinstance(got, str) and got.strip() != ""

    return FunctionExercise(
        _schema_cases(), compare=compare, reference=lambda row: check_row(schema, row),
        hints=["Check, in order: ticket_id present and non-empty; text is a str; text.strip() is non-empty; "
               "len(text) <= 2000; label in CLASSES.",
               "Return a short reason string at the first failing rule, e.g. 'text is empty'; return None at the end."],
        solution="def check(row):\n    if not str(row.get('ticket_id') or '').strip():\n        return 'ticket_id is missing'\n"
                 "    text = row.get('text')\n    if not isinstance(text, str):\n        return 'text must be a string'\n"
                 "    if not text.strip():\n        return 'text is empty'\n"
                 "    if len(text) > MAX_TEXT_CHARS:\n        return 'text is too long'\n"
                 "    if row.get('label') not in CLASSES:\n        return 'label not allowed'\n    return None")


def _p99(latencies_ms) -> float:
    import pandas as pd

    return float(pd.Series(latencies_ms, dtype=float).quantile(0.99))


@EXERCISES.exercise("ex5", "p99 latency")
def p99(latencies_ms) -> ValueExercise:
    """Exercise 5: p99 latency from the logged latencies (oracle: pandas' quantile, linear interpolation)."""
    return ValueExercise(
        measured=latencies_ms, oracle=_p99, unit="ms", rtol=0.0, atol=1e-6,
        advice="use linear interpolation between the two nearest ranks (numpy.percentile's default) on the "
               "measured requests only; the mean or a nearest-rank p99 differ",
        hints=["p99 is the latency that 99% of requests stay under: the tail users notice, not the mean.",
               "numpy.percentile(latencies, 99) uses linear interpolation between the two nearest ranks."],
        solution="answer = float(np.percentile(measured['request_ms'], 99))")


WHY_WORDS = ("minimum", "weakest", "lowest")


@EXERCISES.exercise("ex6", "ML Test Score of one section")
def ml_test_score_section(section: str, evidence: dict) -> DecisionExercise:
    """Exercise 6: score one ML Test Score section from written evidence, then name the next three tests.

    `evidence` maps test ids to (score, why) (mltestscore.BEGINNER_SYSTEM); the notebook shows the learner
    the `why` of the scored section without its points. Checks: each score follows the rubric (1 automated,
    0.5 by hand and written down, 0 not done); the next three tests are distinct, score below 1, include the
    weakest section, and raise the final score as much as any three could (`mltestscore.next_tests` tries
    every triple); the reason names the minimum rule.
    """

    ids = mltestscore.section_tests(section)
    want = {t: evidence[t][0] for t in ids}
    sheet = {t: float(v) for t, (v, _) in evidence.items()}
    now = mltestscore.score(sheet)
    picks = mltestscore.next_tests(sheet)  # tries every triple: its final score is the best three can reach
    best = mltestscore.final_after(sheet, picks)

    def check_scores(value, answer):
        if not isinstance(value, dict):
            return f"give a dict {{test_id: score}} for {ids}"
        missing = [t for t in ids if t not in value]
        if missing:
            return f"score every test of the section; missing {missing}"
        wrong = [t for t in ids if isinstance(value[t], bool) or value[t] not in (0, 0.5, 1)]
        if wrong:
            return f"{wrong}: each test scores 0, 0.5 (by hand, written down) or 1 (automated)"
        off = [t for t in ids if abs(float(value[t]) - want[t]) > 1e-9]
        if off:
            return (f"{len(off)} score(s) do not follow the evidence: {off}. Reread each: does a test or CI run "
                    f"it on every change (1), does a person do it and write it down (0.5), or is it not done (0)?")
        return None

    def check_sum(value, answer):
        if as_number(value) is None:
            return _number_advice("section_sum", value)
        return None if math.isclose(float(value), sum(want.values()), abs_tol=1e-9) else \
            "add up the seven scores of the section"

    def check_next(value, answer):
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            return "name exactly three test ids, e.g. ['infrastructure_6', ...]"
        unknown = [t for t in value if t not in mltestscore.TESTS]
        if unknown:
            return f"unknown test ids {unknown}"
        if len(set(value)) != 3:
            return "name three different tests"
        done = [t for t in value if sheet[t] >= 1]
        if done:
            return f"{done} are already automated (score 1); pick tests that score 0 or 0.5"
        if not any(t.startswith(now.weakest + "_") for t in value):
            return (f"none is in the weakest section ({now.weakest}, {now.sections[now.weakest]:g}); the final "
                    f"score is its sum, so nothing else can raise it")
        after = mltestscore.final_after(sheet, value)
        if after < best - 1e-9:
            return (f"automating those raises the final score from {now.final:g} to {after:g}; three other tests "
                    f"raise it to {best:g}. Once the weakest section is lifted, the next-weakest caps the "
                    f"minimum, and a test at 0 gains a full point where one at 0.5 gains half")
        return None

    reference = {"scores": dict(want), "section_sum": sum(want.values()), "next_tests": picks,
                 "why": "the final score is the minimum over sections, so the weakest section limits the system; "
                        "once it is lifted the next-weakest ones cap it"}
    return DecisionExercise(reference=reference, fields={
            "scores": Field(f"a dict {{test_id: 0 / 0.5 / 1}} for {ids}", validate=check_scores),
            "section_sum": Field("the sum of the seven scores", validate=check_sum),
            "next_tests": Field("three different test ids scoring below 1 that raise the final score the most",
                                validate=check_next),
            "why": Field("one or two sentences on why those three first, naming the rule that sets the final "
                         "score", min_words=8, mention=WHY_WORDS),
        },
        hints=["Score 1 only what runs automatically (a test in tests/, an assertion run by CI); 0.5 is done by a "
               "person and written down; 0 is not done.",
               "The final score is the MINIMUM of the four section sums: add the given points of the other "
               "sections to yours and find the weakest section.",
               "Raising only the weakest section stops helping once it passes the next-weakest: with three tests, "
               "lift the lowest sections together, and prefer tests at 0 (a full point each)."],
        solution="scores = {'infrastructure_1': 1, 'infrastructure_2': 1, 'infrastructure_3': 1,  # automated\n"
                 "          'infrastructure_4': 0.5, 'infrastructure_5': 0.5, 'infrastructure_7': 0.5,  # by hand\n"
                 "          'infrastructure_6': 0}  # not done\n"
                 "sheet = {**given, **scores}\n"
                 "sums = mltestscore.score(sheet).sections\n"
                 "lowest = sorted(sums, key=sums.get)[:3]  # model 2, data 2.5, monitoring 2.5\n"
                 "next_tests = [next(t for t in mltestscore.section_tests(s) if sheet[t] == 0) for s in lowest]\n"
                 "answer = {'scores': scores, 'section_sum': sum(scores.values()), 'next_tests': next_tests,\n"
                 "          'why': 'the final score is the minimum of the sections: lift the weakest three together'}")
