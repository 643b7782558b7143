"""Exercises of the beginner notebook (01_beginner_ticket_classifier).

Each factory takes the notebook's own data and computes the expected answer with an independent oracle
(scikit-learn, numpy brute force, pandas), so every seed gets its own checks.
"""

from __future__ import annotations

import math

from .core import Case, DecisionExercise, Field, FunctionExercise, ValueExercise


def macro_f1(y_true, y_pred, labels) -> ValueExercise:
    """Exercise 1: macro-F1 from the confusion matrix (oracle: sklearn.metrics.f1_score, average='macro')."""
    from sklearn.metrics import f1_score

    expected = float(f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0))
    return ValueExercise(
        "ex1 macro-F1 from the confusion matrix", expected, rtol=1e-6,
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


def keyword_baseline(keywords: dict) -> FunctionExercise:
    """Exercise 2: write the keyword-rule classifier (the non-ML alternative) as a function of the text."""
    from ..scenarios.tickets import keyword_rule

    billing = ", ".join(repr(w) for w in keywords["Billing"])
    technical = ", ".join(repr(w) for w in keywords["Technical Issue"])
    return FunctionExercise(
        "ex2 keyword baseline", KEYWORD_CASES, reference=keyword_rule,
        hints=["Lower-case the text first, then test `word in text` for each keyword.",
               f"Billing words first ({billing}); then technical words ({technical}); "
               f"otherwise return 'General Inquiry'.",
               "Return exactly one of the three class names as a string."],
        solution="def rule(text):\n    t = str(text).lower()\n"
                 "    if any(w in t for w in KEYWORDS['Billing']):\n        return 'Billing'\n"
                 "    if any(w in t for w in KEYWORDS['Technical Issue']):\n        return 'Technical Issue'\n"
                 "    return 'General Inquiry'")


def _auto_precision(y_true, y_pred, conf, t):
    import numpy as np

    keep = np.asarray(conf) >= t
    if not keep.any():
        return float("nan"), 0.0
    return float(np.mean(np.asarray(y_true)[keep] == np.asarray(y_pred)[keep])), float(keep.mean())


class _ThresholdExercise(DecisionExercise):
    """A decision whose second field (the share) is checked against the first (the threshold)."""

    current: dict = {}

    def evaluate(self, answer):
        self.current = dict(answer) if isinstance(answer, dict) else {}
        return super().evaluate(answer)


def review_threshold(y_true, y_pred, confidence, target_precision: float, reference: dict) -> DecisionExercise:
    """Exercise 3: the review threshold that meets a stated precision while automating the most tickets.

    Oracle: brute force over every observed confidence with numpy (the package uses a sorted cumulative sum).
    """
    import numpy as np

    conf = np.asarray(confidence, dtype=float)
    best_cov = 0.0
    for t in np.unique(conf):
        p, cov = _auto_precision(y_true, y_pred, conf, t)
        if p >= target_precision - 1e-12:
            best_cov = max(best_cov, cov)

    def check_threshold(value):
        p, cov = _auto_precision(y_true, y_pred, conf, float(value))
        if not cov:
            return "no ticket would be automated at that threshold; lower it"
        if p < target_precision - 1e-12:
            return (f"at {float(value):.3f} the automated tickets have precision {p:.3f}, below the target "
                    f"{target_precision}; raise the threshold")
        if cov < best_cov - 0.005:
            return (f"it meets the target but automates only {cov:.1%}; a lower threshold automates "
                    f"{best_cov:.1%} at the same precision target")
        return None

    def check_share(value):
        threshold = float(ex.current.get("threshold"))
        share = _auto_precision(y_true, y_pred, conf, threshold)[1]
        if math.isclose(float(value), share, abs_tol=0.002):
            return None
        return f"at your threshold {threshold:.3f} the share with confidence >= it is not {float(value):.3f}; recompute"

    ex = _ThresholdExercise(
        "ex3 review threshold", {
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
                 "answer = {'threshold': float(t), 'automated_share': float((conf >= t).mean())}")
    return ex


# -- exercise 4: the schema check -----------------------------------------------------------------------

def _schema_cases():
    too_long = "x" * 2001
    return [
        Case(({"ticket_id": "T1", "text": "My invoice is wrong", "label": "Billing"},), None, "a valid row"),
        Case(({"ticket_id": "T2", "text": "", "label": "Billing"},), "reason", "empty text"),
        Case(({"ticket_id": "T3", "text": "   ", "label": "Billing"},), "reason", "blank text is empty too"),
        Case(({"ticket_id": "T4", "text": too_long, "label": "Billing"},), "reason", "longer than 2,000 characters"),
        Case(({"ticket_id": "T5", "text": 42, "label": "Billing"},), "reason", "text must be a string"),
        Case(({"ticket_id": "T6", "text": "hello", "label": "Sales"},), "reason", "label outside the three classes"),
        Case(({"text": "hello", "label": "Billing"},), "reason", "ticket_id missing"),
        Case(({"ticket_id": "T8", "text": "x" * 2000, "label": "General Inquiry"},), None,
             "exactly 2,000 characters is allowed"),
    ]


def schema_check() -> FunctionExercise:
    """Exercise 4: a function that returns why a ticket row is invalid (a string), or None when it is fine.

    The expected verdicts come from the rules stated in the notebook; the package's `csvload.check_row`
    must agree with them (tested), and it is what training, the batch job and the API use.
    """
    from ..scenarios.csvload import check_row, ticket_schema

    schema = ticket_schema(labelled=True)

    def compare(got, want):
        if want is None:
            return got is None
        return isinstance(got, str) and got.strip() != ""

    return FunctionExercise(
        "ex4 schema check", _schema_cases(), compare=compare, reference=lambda row: check_row(schema, row),
        hints=["Check, in order: ticket_id present and non-empty; text is a str; text.strip() is non-empty; "
               "len(text) <= 2000; label in CLASSES.",
               "Return a short reason string at the first failing rule, e.g. 'text is empty'; return None at the end."],
        solution="def check(row):\n    if not str(row.get('ticket_id') or '').strip():\n        return 'ticket_id is missing'\n"
                 "    text = row.get('text')\n    if not isinstance(text, str):\n        return 'text must be a string'\n"
                 "    if not text.strip():\n        return 'text is empty'\n"
                 "    if len(text) > MAX_TEXT_CHARS:\n        return 'text is too long'\n"
                 "    if row.get('label') not in CLASSES:\n        return 'label not allowed'\n    return None")


def p99(latencies_ms) -> ValueExercise:
    """Exercise 5: p99 latency from the logged latencies (oracle: pandas' quantile, linear interpolation)."""
    import pandas as pd

    expected = float(pd.Series(latencies_ms, dtype=float).quantile(0.99))
    return ValueExercise(
        "ex5 p99 latency", expected, rtol=1e-6,
        hints=["p99 is the latency that 99% of requests stay under: the tail users notice, not the mean.",
               "numpy.percentile(latencies, 99) uses linear interpolation between the two nearest ranks."],
        solution="answer = float(np.percentile(log['latency_ms'], 99))")


def ml_test_score_section(section: str, evidence: dict) -> DecisionExercise:
    """Exercise 6: score one ML Test Score section of this system, and name the next three tests to add.

    `evidence` maps test ids to (score, why) for what this system demonstrably does (mltestscore.BEGINNER_SYSTEM):
    a test the notebook or tests/ automate must score 1, one not done must score 0; scores must be 0, 0.5, 1.
    """
    from .. import mltestscore

    ids = mltestscore.section_tests(section)
    want = {t: evidence[t][0] for t in ids}

    def check_scores(value):
        if not isinstance(value, dict):
            return f"give a dict {{test_id: score}} for {ids}"
        missing = [t for t in ids if t not in value]
        if missing:
            return f"score every test of the section; missing {missing}"
        wrong = [t for t in ids if value[t] not in (0, 0.5, 1)]
        if wrong:
            return f"{wrong}: each test scores 0, 0.5 (manual) or 1 (automated)"
        off = [f"{t} ({mltestscore.TESTS[t]}): the evidence says {want[t]:g} ({evidence[t][1]})"
               for t in ids if abs(float(value[t]) - want[t]) > 1e-9]
        return "; ".join(off) if off else None

    def check_sum(value):
        return None if math.isclose(float(value), sum(want.values()), abs_tol=1e-9) else \
            "add up the seven scores of the section"

    def check_next(value):
        if not isinstance(value, (list, tuple)) or len(value) != 3:
            return "name exactly three test ids, e.g. ['infrastructure_6', ...]"
        unknown = [t for t in value if t not in mltestscore.TESTS]
        if unknown:
            return f"unknown test ids {unknown}"
        done = [t for t in value if evidence[t][0] == 1]
        if done:
            return f"{done} are already automated; pick tests that score 0 or 0.5"
        return None

    sheet = {t: float(v) for t, (v, _) in evidence.items()}
    reference = {"scores": dict(want), "section_sum": sum(want.values()),
                 "next_tests": mltestscore.next_tests(sheet),
                 "why": "the final score is the minimum over sections, so the weakest section limits the system"}
    return DecisionExercise(
        f"ex6 ML Test Score: {section}", reference=reference, fields={
            "scores": Field(f"a dict {{test_id: 0 / 0.5 / 1}} for {ids}", validate=check_scores),
            "section_sum": Field("the sum of the seven scores", validate=check_sum),
            "next_tests": Field("three test ids (any section) scoring below 1 that you would add next",
                                validate=check_next),
            "why": Field("one or two sentences on why those three first", min_words=8),
        },
        hints=["Score 1 only what runs automatically (a test in tests/ or an assertion in the notebook); 0.5 is "
               "done by hand and written down; 0 is not done.",
               "Read mltestscore.BEGINNER_SYSTEM's reasons for the section's tests; the printed table above lists them.",
               "The final score is the minimum over sections: the next tests should come from the weakest section."],
        solution="answer = {'scores': {t: mltestscore.BEGINNER_SYSTEM[t][0] for t in ids},\n"
                 "          'section_sum': sum(...), 'next_tests': mltestscore.next_tests(sheet),\n"
                 "          'why': 'the final score is the minimum, so the weakest section limits the system'}")
