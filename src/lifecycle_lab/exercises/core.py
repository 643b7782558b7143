"""The feedback layer: exercises that check an answer and say why it is wrong.

Three kinds cover the workbook: a value within a tolerance, a function tested on cases, and a
structured decision (a memo as a dict) checked field by field against the evidence. Expected values are
computed from the notebook's own data when the exercise is built, so every seed gets its own checks.

`evaluate(answer)` is pure and returns a `Feedback`; `check(answer)` prints it and returns the value the
notebook should carry on with: the learner's answer when it passed, the reference result otherwise, so a
skipped or wrong exercise never stops the notebook.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"

CHECK_LOG_ENV = "LIFECYCLE_LAB_CHECK_LOG"
"""When set (by `lifecycle-lab grade`), every check() appends its outcome to this JSON-lines file: grading
reads what the checks decided, not text a notebook printed (which any cell could print)."""


def _record(feedback: "Feedback") -> None:
    import json
    import os

    log = os.environ.get(CHECK_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"exercise": feedback.exercise, "status": feedback.status}) + "\n")


def _call(exercise: str, method: str) -> str:
    """`ex1.hint(1)` when the exercise is named after its notebook variable (`ex1 ...`), else `hint(1)`."""
    var = exercise.split()[0] if exercise.split() else ""
    return f"`{var}.{method}`" if var.isidentifier() and var[:2] == "ex" else f"`{method}`"


@dataclass
class Feedback:
    """The outcome of one check: a status, what was checked, and what went wrong."""

    exercise: str
    status: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def render(self) -> str:
        head = f"[{self.exercise}]"
        if self.status == NOT_ATTEMPTED:
            return (f"{head} not attempted yet. Replace the stub with your answer and run the cell again; "
                    f"{_call(self.exercise, 'hint(1)')} gives a first hint, "
                    f"{_call(self.exercise, 'solution()')} shows one answer.")
        if self.status == CORRECT:
            what = "; ".join(self.checked)
            return f"{head} all checks passed ({len(self.checked)} checked: {what})."
        lines = [f"{head} not yet: {len(self.problems)} of {len(self.checked)} checks failed."]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"  Try {_call(self.exercise, 'hint(1)')}; fix the answer and run the cell again.")
        return "\n".join(lines)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.render()


def is_blank(value: Any) -> bool:
    """A stub answer: None, Ellipsis, an empty string or container, or a container of blanks."""
    if value is None or value is Ellipsis:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, Mapping):
        return len(value) == 0 or all(is_blank(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return len(value) == 0 or all(is_blank(v) for v in value)
    return False


class Exercise:
    """Base class: a name, numbered hints, a written solution and a reference result."""

    def __init__(self, name: str, *, hints: Sequence[str], solution: str, reference: Any = None):
        if not hints:
            raise ValueError(f"exercise {name!r} needs at least one hint")
        self.name = name
        self.hints = list(hints)
        self.solution_text = solution
        self.reference = reference

    # -- what a learner calls -------------------------------------------------------------------
    def check(self, answer: Any) -> Any:
        """Print the feedback; return the answer if it passed, else the reference result."""
        fb = self.evaluate(answer)
        _record(fb)
        print(fb.render())
        if fb.passed:
            return answer
        if self.reference is not None:
            print(f"  (the notebook continues with the reference result)")
        return self.reference

    def hint(self, n: int = 1) -> None:
        """Print hint number n (1-based); hints go from a nudge to nearly the answer."""
        if not 1 <= n <= len(self.hints):
            print(f"[{self.name}] there are {len(self.hints)} hints: call hint(1) to hint({len(self.hints)}).")
            return
        print(f"[{self.name}] hint {n}/{len(self.hints)}: {self.hints[n - 1]}")

    def solution(self) -> None:
        print(f"[{self.name}] one solution:\n{self.solution_text}")

    # -- what each kind implements --------------------------------------------------------------
    def evaluate(self, answer: Any) -> Feedback:
        raise NotImplementedError

    def _feedback(self, problems: list[str], checked: list[str]) -> Feedback:
        return Feedback(self.name, CORRECT if not problems else INCORRECT, problems, checked)


def _close(got: float, want: float, rtol: float, atol: float) -> bool:
    return math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol)


def as_number(value: Any) -> float | None:
    """A learner's answer as a float, or None when it is not a number (text, NaN, a boolean)."""
    if isinstance(value, bool):  # True == 1.0 in Python; an answer of True is not the number 1
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


class ValueExercise(Exercise):
    """A number, or a dict of named numbers, within a tolerance of values computed by an oracle."""

    def __init__(self, name: str, expected: float | Mapping[str, float], *, rtol: float = 1e-3,
                 atol: float = 1e-6, advice: str | Mapping[str, str] = "", **kw):
        """`advice`: what to re-check when a value is off (one text, or one per key of a dict answer);
        without it the message says only that the value is off and in which direction."""
        kw.setdefault("reference", expected)
        super().__init__(name, **kw)
        self.expected = expected
        self.rtol, self.atol = rtol, atol
        self.advice = advice

    def _advice(self, label: str) -> str:
        text = self.advice.get(label, "") if isinstance(self.advice, Mapping) else self.advice
        return f"; {text}" if text else f"; recompute it and compare with {_call(self.name, 'hint(1)')}"

    def _one(self, label: str, got: Any, want: float, problems: list[str], checked: list[str]) -> None:
        checked.append(f"{label} = {want:.4g} (tolerance {max(self.atol, self.rtol * abs(want)):.2g})")
        number = as_number(got)
        if number is None:
            problems.append(f"{label}: expected a number, got {type(got).__name__} {got!r}.")
        elif not _close(number, want, self.rtol, self.atol):
            direction = "too high" if number > want else "too low"
            problems.append(f"{label}: {number:.4g} is {direction}{self._advice(label)}.")

    def evaluate(self, answer: Any) -> Feedback:
        if is_blank(answer):
            return Feedback(self.name, NOT_ATTEMPTED)
        problems: list[str] = []
        checked: list[str] = []
        if isinstance(self.expected, Mapping):
            if not isinstance(answer, Mapping):
                return self._feedback([f"expected a dict with keys {sorted(self.expected)}, "
                                       f"got {type(answer).__name__}."], ["answer is a dict"])
            for key, want in self.expected.items():
                if key not in answer or is_blank(answer[key]):
                    checked.append(f"{key} present")
                    problems.append(f"{key}: missing; add it to the dict.")
                else:
                    self._one(key, answer[key], want, problems, checked)
        else:
            self._one("value", answer, float(self.expected), problems, checked)
        return self._feedback(problems, checked)


@dataclass
class Case:
    """One test case for a function exercise: arguments, the expected result, and why it matters."""

    args: tuple
    expected: Any
    why: str = ""


class FunctionExercise(Exercise):
    """A function the learner writes, run on cases whose expected results come from a reference.

    The learner's stub raises NotImplementedError: that, and only that, counts as "not attempted"; a
    function that runs is judged, even when it returns None everywhere (a forgotten `return`)."""

    def __init__(self, name: str, cases: Sequence[Case], *, compare: Callable[[Any, Any], bool] | None = None,
                 **kw):
        super().__init__(name, **kw)
        if not cases:
            raise ValueError(f"exercise {name!r} needs at least one case")
        self.cases = list(cases)
        self.compare = compare or (lambda got, want: got == want)

    def evaluate(self, answer: Any) -> Feedback:
        if answer is None or not callable(answer):
            if answer is None:
                return Feedback(self.name, NOT_ATTEMPTED)
            return self._feedback([f"expected a function, got {type(answer).__name__}."], ["answer is callable"])
        problems: list[str] = []
        checked: list[str] = []
        results = []
        for case in self.cases:
            shown = ", ".join(_short(a) for a in case.args)
            checked.append(f"f({shown})")
            try:
                got = answer(*case.args)
            except NotImplementedError:
                return Feedback(self.name, NOT_ATTEMPTED)
            except Exception as exc:  # the learner's code failed: say where, not a traceback
                problems.append(f"f({shown}) raised {type(exc).__name__}: {exc}")
                results.append(exc)
                continue
            results.append(got)
            try:
                ok = self.compare(got, case.expected)
            except Exception:
                ok = False
            if not ok:
                why = f" ({case.why})" if case.why else ""
                problems.append(f"f({shown}) returned {_short(got)}, expected {_short(case.expected)}{why}.")
        if all(r is None for r in results) and any(c.expected is not None for c in self.cases):
            # a stub raises NotImplementedError (handled above); None everywhere is a real, wrong answer
            problems.insert(0, "your function returned None for every case: did you forget `return`?")
        return self._feedback(problems, checked)


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass
class Field:
    """A rule for one field of a structured decision.

    choices: the allowed values; expected: the value the evidence implies (a number is compared with
    `tol`); min_words: a justification must say at least this much; mention: a text must name at least
    one of these words (for example the metric that failed).
    """

    description: str
    choices: Sequence[Any] | None = None
    expected: Any = None
    tol: float | None = None
    min_words: int = 0
    mention: Sequence[str] = ()
    why: str = ""
    validate: Callable[[Any], str | None] | None = None
    """A custom consistency rule: returns a problem message, or None when the value fits the evidence."""


class DecisionExercise(Exercise):
    """A structured decision (a dict such as a gate memo) checked field by field against evidence."""

    def __init__(self, name: str, fields: Mapping[str, Field], **kw):
        super().__init__(name, **kw)
        self.fields = dict(fields)

    def evaluate(self, answer: Any) -> Feedback:
        if hasattr(answer, "__dataclass_fields__"):
            from dataclasses import asdict
            answer = asdict(answer)
        if is_blank(answer):
            return Feedback(self.name, NOT_ATTEMPTED)
        if not isinstance(answer, Mapping):
            return self._feedback([f"expected a dict with fields {list(self.fields)}, got "
                                   f"{type(answer).__name__}."], ["answer is a dict"])
        problems: list[str] = []
        checked: list[str] = []
        for key, rule in self.fields.items():
            value = answer.get(key)
            checked.append(f"{key} present")
            if is_blank(value):
                problems.append(f"{key}: missing; it should hold {rule.description}.")
                continue
            if rule.choices is not None:
                checked.append(f"{key} is one of {list(rule.choices)}")
                if value not in rule.choices:
                    problems.append(f"{key}: {value!r} is not one of {list(rule.choices)}.")
                    continue
            if rule.expected is not None:
                checked.append(f"{key} agrees with the evidence")
                if rule.tol is not None:
                    number = as_number(value)
                    if number is None or abs(number - float(rule.expected)) > rule.tol:
                        problems.append(f"{key}: {value!r} does not agree with the evidence "
                                        f"({rule.why or 'recompute it from the table above'}).")
                elif value != rule.expected:
                    problems.append(f"{key}: {value!r} does not follow from the evidence "
                                    f"({rule.why or 'look at the numbers above again'}).")
            if rule.validate is not None:
                checked.append(f"{key} is consistent with the evidence")
                try:
                    problem = rule.validate(value)
                except Exception as exc:  # a value of the wrong shape: say so instead of a traceback
                    problem = f"could not be checked ({type(exc).__name__}: {exc}); {rule.description}"
                if problem:
                    problems.append(f"{key}: {problem}")
            if rule.min_words:
                checked.append(f"{key} has at least {rule.min_words} words")
                if len(str(value).split()) < rule.min_words:
                    problems.append(f"{key}: say more (at least {rule.min_words} words): {rule.description}.")
            if rule.mention:
                checked.append(f"{key} names one of {list(rule.mention)}")
                text = str(value).lower()
                if not any(word.lower() in text for word in rule.mention):
                    problems.append(f"{key}: name the evidence it rests on (one of {list(rule.mention)}).")
        unknown = sorted(set(answer) - set(self.fields))
        if unknown:
            checked.append("no unknown fields")
            problems.append(f"unknown fields {unknown}; the memo has {list(self.fields)}.")
        return self._feedback(problems, checked)
