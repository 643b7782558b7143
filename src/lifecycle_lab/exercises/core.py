"""The feedback layer: exercises that check an answer at once and say why it is wrong.

Every kind of exercise lives in this module: a value within a tolerance (`ValueExercise`), a function
tested on cases (`FunctionExercise`), a structured decision checked field by field against the evidence
(`DecisionExercise`), and a multiple-choice question (`ChoiceExercise`, the quizzes). Expected values are
computed from the notebook's own data when the exercise is built, so every seed gets its own checks.

Each notebook declares its exercises once, in an `ExerciseSet`:

    EXERCISES = ExerciseSet("01_beginner_ticket_classifier")

    @EXERCISES.exercise("ex3", "macro-F1 from the confusion matrix")
    def macro_f1(y_true, y_pred, labels) -> ValueExercise: ...

The notebook calls the factory (`ex3 = exercises.macro_f1(...)`) and then `answer = ex3.check(answer)`.

Answers are recorded before they are judged. `check(answer)` turns the answer into a plain, serialisable
record (numbers, text, lists, dicts; a function is run on the exercise's cases and its outputs recorded),
judges the record, prints the feedback and returns what the notebook should carry on with: the learner's
answer when it passed, the reference result otherwise. When `lifecycle-lab grade` runs a notebook, every
check, hint and solution view is appended to a ledger; the grader then re-judges the recorded answers in
its own kernel, with exercises rebuilt from the same parameters, so nothing a learner's kernel does to an
exercise object (or to the ledger's verdicts) changes a grade.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from lifecycle_lab.base.errors import LifecycleLabError

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"

CHECK_LOG_ENV = "LIFECYCLE_LAB_CHECK_LOG"
"""When set (by `lifecycle-lab grade`), checks, hints and solution views are appended to this JSON-lines
file. The grader trusts none of its verdicts: it re-judges the recorded answers itself."""


class ExerciseError(LifecycleLabError, ValueError):
    """An exercise is declared wrongly (no hints, no cases, a duplicate name): an authoring error."""


# -- the ledger ------------------------------------------------------------------------------------------

def _log(event: dict) -> None:
    path = os.environ.get(CHECK_LOG_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event, allow_nan=True, default=str) + "\n")


def call_text(var: str | None, method: str) -> str:
    """`ex1.hint(1)`: the exact call a learner pastes, for the exercise bound to notebook variable `var`."""
    return f"`{var}.{method}`" if var else f"`{method}`"


# -- serialisable answers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unserialisable:
    """Stands for an answer of a type that cannot be recorded (a pandas Series, a model...): every check
    refuses it with the type's name, in the learner's kernel and in the grader's alike."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


def _type_name(value: Any) -> str:
    cls = type(value)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__.split('.')[0]}.{cls.__name__}"


def encode(value: Any) -> Any:
    """An answer as JSON-safe data. numpy scalars become numbers, numpy arrays lists, dataclasses dicts,
    tuples lists; dicts with non-text keys keep their keys; anything else is marked unserialisable."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    module = type(value).__module__
    if module == "numpy" and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return encode(value.item())
    if module == "numpy" and hasattr(value, "tolist"):
        return encode(value.tolist())
    if module.startswith("pandas") and type(value).__name__ == "Index":
        return encode(value.tolist())  # a list of labels (a Series stays unrecordable: give its values)
    if is_dataclass(value) and not isinstance(value, type):
        return encode(asdict(value))
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"__items__": [[encode(k), encode(v)] for k, v in value.items()]}
    text = repr(value)
    return {"__unserialisable__": _type_name(value), "text": text if len(text) <= 80 else text[:77] + "..."}


def decode(data: Any) -> Any:
    """The inverse of `encode`: what the checks judge (an unrecordable answer comes back `Unserialisable`)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "__float__" in data and len(data) == 1:
            return float(data["__float__"])
        if "__unserialisable__" in data:
            return Unserialisable(data["__unserialisable__"], data.get("text", ""))
        if "__items__" in data and len(data) == 1:
            return {_hashable(decode(k)): decode(v) for k, v in data["__items__"]}
        return {k: decode(v) for k, v in data.items()}
    return data


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def case_key(args: Sequence[Any]) -> str:
    """A stable key for a function exercise's case: the hash of its encoded arguments."""
    text = json.dumps(encode(list(args)), sort_keys=True, allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# -- feedback ---------------------------------------------------------------------------------------------

@dataclass
class Feedback:
    """The outcome of one check: a status, what was checked, and what went wrong."""

    exercise: str
    status: str
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    var: str | None = None
    note: str = ""
    """Said after a pass: what the check could not judge (e.g. that free text was not read for reasoning)."""

    @property
    def passed(self) -> bool:
        return self.status == CORRECT

    def render(self) -> str:
        head = f"[{self.exercise}]"
        if self.status == NOT_ATTEMPTED:
            return (f"{head} not attempted yet. Replace the stub with your answer and run the cell again; "
                    f"{call_text(self.var, 'hint(1)')} gives a first hint, "
                    f"{call_text(self.var, 'solution()')} shows one answer.")
        if self.status == CORRECT:
            what = "; ".join(self.checked)
            text = f"{head} all checks passed ({len(self.checked)} checked: {what})."
            return f"{text} {self.note}" if self.note else text
        lines = [f"{head} not yet: {len(self.problems)} of {len(self.checked)} checks failed."]
        lines += [f"  - {p}" for p in self.problems]
        lines.append(f"  Try {call_text(self.var, 'hint(1)')}; fix the answer and run the cell again.")
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


def as_number(value: Any) -> float | None:
    """A learner's answer as a float, or None when it is not a number.

    Only real numbers count: a boolean (True == 1 in Python), a numeric string ("0.787"), NaN, a Series or
    an array are refused, so a passing answer is one the next cell can compute with."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def not_a_number(label: str, got: Any) -> str:
    """Advice for an answer that is not a plain number, naming what it is and how to convert it."""
    if isinstance(got, str):
        return f"{label}: got the text {got!r}; give the number itself (e.g. 0.787, not '0.787')."
    if isinstance(got, bool):
        return f"{label}: got {got}, a boolean; give the number itself."
    if isinstance(got, Unserialisable):
        return (f"{label}: got a {got.type_name}; give one plain number, e.g. float(x) for a one-element "
                f"Series or array, or x.item().")
    if isinstance(got, (list, tuple)):
        return f"{label}: got a list of {len(got)}; give one number (e.g. float(x[0]) if that is the value)."
    if isinstance(got, float) and math.isnan(got):
        return f"{label}: got NaN; a division by zero or an empty selection upstream? Recompute it."
    return f"{label}: expected a number, got {type(got).__name__} {got!r}."


# -- the exercise kinds --------------------------------------------------------------------------------------

class Exercise:
    """Base class: a name, numbered hints, a written solution and a reference result.

    An exercise built by an `ExerciseSet` factory is bound to its notebook variable (`ex3`) and title;
    messages name the exact call (`ex3.hint(1)`). Subclasses implement `record` (answer -> serialisable
    data) and `judge` (data -> Feedback), and must keep no state between checks: the grader re-judges
    recorded answers with a fresh exercise built from the same data.
    """
    def __init__(self, *, hints: Sequence[str], solution: str, reference: Any = None, name: str | None = None):
        if not hints:
            raise ExerciseError(f"exercise {name or '(unnamed)'!r} needs at least one hint")
        self.name = name or "exercise"
        self.var: str | None = None
        self.notebook: str | None = None
        self.hints = list(hints)
        self.solution_text = solution
        self.reference = reference

    def bind(self, notebook: str, var: str, title: str) -> "Exercise":
        """Give the exercise its notebook, variable and title (done by `ExerciseSet`)."""
        self.notebook, self.var, self.name = notebook, var, f"{var} {title}"
        return self

    # -- what a learner calls -------------------------------------------------------------------
    def check(self, answer: Any) -> Any:
        """Print the feedback; return the answer if it passed (as the next cell can use it), else the reference."""
        data = self.record(answer)
        fb = self.judge(data)
        _log({"notebook": self.notebook, "exercise": self.var, "event": "check", "record": data,
              "status": fb.status, "reference_submitted": self._is_reference(answer)})
        print(fb.render())
        if fb.passed:
            return self.usable(answer)
        if self.reference is not None:
            print("  (the notebook continues with the reference result)")
        return self.reference

    def hint(self, n: int = 1) -> None:
        """Print hint number n (1-based); hints go from a nudge to nearly the answer."""
        if not 1 <= n <= len(self.hints):
            print(f"[{self.name}] there are {len(self.hints)} hints: call hint(1) to hint({len(self.hints)}).")
            return
        _log({"notebook": self.notebook, "exercise": self.var, "event": "hint", "n": n})
        print(f"[{self.name}] hint {n}/{len(self.hints)}: {self.hints[n - 1]}")

    def solution(self) -> None:
        """Show one written solution (the grade records that it was viewed)."""
        _log({"notebook": self.notebook, "exercise": self.var, "event": "solution"})
        print(f"[{self.name}] one solution:\n{self.solution_text}")

    def evaluate(self, answer: Any) -> Feedback:
        """Judge an answer without printing or logging: exactly what `check` decides."""
        return self.judge(self.record(answer))

    # -- what each kind implements --------------------------------------------------------------
    def record(self, answer: Any) -> Any:
        """The answer as serialisable data (what the ledger keeps and the grader re-judges)."""
        if is_blank(answer):
            return None
        return encode(answer)

    def judge(self, data: Any) -> Feedback:
        raise NotImplementedError

    def usable(self, answer: Any) -> Any:
        """What a passing answer is returned as (a kind may normalise it, e.g. to a float)."""
        return answer

    def _is_reference(self, answer: Any) -> bool:
        return self.reference is not None and answer is self.reference

    def _feedback(self, problems: list[str], checked: list[str], note: str = "") -> Feedback:
        return Feedback(self.name, CORRECT if not problems else INCORRECT, problems, checked, self.var,
                        note if not problems else "")

    def _not_attempted(self) -> Feedback:
        return Feedback(self.name, NOT_ATTEMPTED, var=self.var)


def _close(got: float, want: float, rtol: float, atol: float) -> bool:
    return math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol)


class ValueExercise(Exercise):
    """A number, or a dict of named numbers, within a tolerance of values computed by an oracle.

    `measured` + `oracle`: for a value computed from a measurement that differs run to run (latencies), the
    exercise keeps the measured evidence with the answer and the expected value is `oracle(evidence)`; it
    is shown with the workbook's `~` mark of measured numbers, in `unit`. `reveal=False` keeps the expected
    value out of the feedback (quizzes)."""

    def __init__(self, expected: float | Mapping[str, float] | None = None, *, rtol: float = 1e-3, atol: float = 1e-6, advice: str | Mapping[str, str] = "",
                 measured: Sequence[float] | None = None, oracle: Callable[[list], float] | None = None,
                 unit: str = "", reveal: bool = True, **kw):
        if (measured is None) != (oracle is None):
            raise ExerciseError("a measured value needs both `measured` (the evidence) and `oracle`")
        if measured is not None:
            self.evidence = [float(x) for x in measured]
            expected = float(oracle(self.evidence))
        else:
            self.evidence = None
        if expected is None:
            raise ExerciseError("give the expected value (or measured= and oracle=)")
        kw.setdefault("reference", expected)
        super().__init__(**kw)
        self.expected = expected
        self.oracle = oracle
        self.rtol, self.atol = rtol, atol
        self.advice = advice
        self.unit = unit
        self.reveal = reveal

    def record(self, answer: Any) -> Any:
        data = {"answer": None if is_blank(answer) else encode(answer)}
        if self.evidence is not None:
            data["evidence"] = self.evidence
        return data

    def _advice(self, label: str) -> str:
        text = self.advice.get(label, "") if isinstance(self.advice, Mapping) else self.advice
        return f"; {text}" if text else f"; recompute it and compare with {call_text(self.var, 'hint(1)')}"

    def _shown(self, want: float) -> str:
        mark = "~" if self.evidence is not None else ""
        unit = f" {self.unit}" if self.unit else ""
        return f"{mark}{want:.4g}{unit}"

    def _one(self, label: str, got: Any, want: float, problems: list[str], checked: list[str]) -> None:
        tol = max(self.atol, self.rtol * abs(want))
        if self.reveal:
            checked.append(f"{label} = {self._shown(want)} (tolerance {tol:.2g})")
        else:
            checked.append(f"{label} within {tol:.2g} of the answer")
        number = as_number(got)
        if number is None:
            problems.append(not_a_number(label, got))
        elif not _close(number, want, self.rtol, self.atol):
            direction = "too high" if number > want else "too low"
            if self.reveal:
                problems.append(f"{label}: {number:.4g} is {direction}{self._advice(label)}.")
            else:
                problems.append(f"{number:g} is {direction} (off by {abs(number - want):.3g}); "
                                f"recompute it step by step.")

    def judge(self, data: Any) -> Feedback:
        answer = decode(data["answer"])
        if is_blank(answer):
            return self._not_attempted()
        expected = self.expected
        if self.evidence is not None:  # the grader recomputes the expected value from the recorded evidence
            expected = float(self.oracle([float(x) for x in data.get("evidence") or []]))
        problems: list[str] = []
        checked: list[str] = []
        if isinstance(expected, Mapping):
            if not isinstance(answer, Mapping):
                return self._feedback([f"expected a dict with keys {sorted(expected)}, got "
                                       f"{getattr(answer, 'type_name', type(answer).__name__)}."], ["answer is a dict"])
            for key, want in expected.items():
                if key not in answer or is_blank(answer[key]):
                    checked.append(f"{key} present")
                    problems.append(f"{key}: missing; add it to the dict.")
                else:
                    self._one(key, answer[key], want, problems, checked)
            extra = sorted(set(answer) - set(expected))
            if extra:
                checked.append("no unknown keys")
                problems.append(f"unknown keys {extra}; the answer has {sorted(expected)}.")
        else:
            self._one("value", answer, float(expected), problems, checked)
        return self._feedback(problems, checked)

    def usable(self, answer: Any) -> Any:
        if isinstance(self.expected, Mapping):
            return {k: float(v) for k, v in answer.items()}
        return float(answer)


@dataclass
class Case:
    """One test case for a function exercise: arguments, the expected result, and why it matters."""

    args: tuple
    expected: Any
    why: str = ""


class _Recorded(Exception):
    """A learner's function raised: the recorded error, replayed."""


class FunctionExercise(Exercise):
    """A function the learner writes, run on cases whose expected results come from a reference.

    The function is run in the learner's kernel and its results are recorded per case (keyed by the
    case's arguments); those results are what is judged, so the grader never runs a learner's code. The
    learner's stub raises NotImplementedError: that, and only that, counts as "not attempted"; a function
    that runs is judged, even when it returns None everywhere (a forgotten `return`).

    `compare(got, want)`: how a result is compared (default ==). Include edge cases (zeros, empties) and, where
    the notebook has data, real cases whose expected results come from the reference function."""

    def __init__(self, cases: Sequence[Case], *, compare: Callable[[Any, Any], bool] | None = None, **kw):
        super().__init__(**kw)
        if not cases:
            raise ExerciseError(f"exercise {self.name!r} needs at least one case")
        self.cases = list(cases)
        self.compare = compare or (lambda got, want: got == want)

    def record(self, answer: Any) -> Any:
        if answer is None:
            return {"function": None}
        if not callable(answer):
            return {"function": False, "type": _type_name(answer)}
        import copy

        results = {}
        for case in self.cases:
            key = case_key(case.args)
            try:
                got = answer(*copy.deepcopy(case.args))
            except NotImplementedError:
                return {"function": None}
            except Exception as exc:  # the learner's code failed: record where, not a traceback
                results[key] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            results[key] = {"value": encode(got)}
        return {"function": True, "results": results}

    def judge(self, data: Any) -> Feedback:
        if not data.get("function"):
            if data.get("function") is None:
                return self._not_attempted()
            return self._feedback([f"expected a function, got {data.get('type')}."], ["answer is callable"])
        results = data.get("results", {})
        problems: list[str] = []
        checked: list[str] = []
        values = []
        for case in self.cases:
            shown = ", ".join(_short(a) for a in case.args)
            checked.append(f"f({shown})")
            got = results.get(case_key(case.args))
            if got is None:
                problems.append(f"f({shown}) was not run (the answer was recorded on other data: run the "
                                f"notebook from the top)")
                continue
            if "error" in got:
                problems.append(f"f({shown}) raised {got['error']}")
                values.append(_Recorded())
                continue
            value = decode(got["value"])
            values.append(value)
            try:
                ok = self.compare(value, case.expected)
            except Exception:
                ok = False
            if not ok:
                why = f" ({case.why})" if case.why else ""
                problems.append(f"f({shown}) returned {_short(value)}, expected {_short(case.expected)}{why}.")
        if values and all(v is None for v in values) and any(c.expected is not None for c in self.cases):
            problems.insert(0, "your function returned None for every case: did you forget `return`?")
        if len(problems) > 8:  # many real-data cases: show the first ones and the count
            problems = problems[:8] + [f"... and {len(problems) - 8} more cases differ"]
        return self._feedback(problems, checked if len(checked) <= 12 else
                              checked[:10] + [f"{len(checked) - 10} more cases"])


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


# -- structured decisions --------------------------------------------------------------------------------

NEGATIONS = ("not", "no", "never", "don't", "do not", "rather than", "instead of", "against", "avoid",
             "without", "reject", "rule out", "ruled out", "rules out", "over", "nor", "isn't", "is not",
             "shouldn't", "should not", "won't", "cannot", "can't",
             # comparisons: what a choice is compared with is the option it beats ("cheaper than weekly")
             "than", "beats", "beat", "outperforms")
NAMING = re.compile(r"(['\"`‘“]\s*$)|(^\s*$)|([.;:!?]\s*$)|"
                    r"(\b(the|choose|chose|chosen|pick|picked|recommend|prefer|go with|is)\s*$)")
"""Before an option whose name is an ordinary word of prose ("never", "no"): what makes it the option's name."""
NAMED_AFTER = re.compile(r"^\s*(['\"`’”]|-retrain\b|[\s_-]*(retraining|polic\w*|option|choice|strategy)\b)")


def _option_pattern(option: str) -> str:
    """An option's name as a regex: word-boundary, with `_`, `-` and spaces alike."""
    words = re.split(r"[\s_-]+", option.strip().lower())
    return r"(?<![\w-])" + r"[\s_-]+".join(re.escape(w) for w in words) + r"(?![\w-])"


def _mentions(text: str, option: str) -> list[int]:
    """Where an option is named in a text (case-insensitive; see `_option_pattern`). An option whose name is a
    negation word ("never", "no") counts only where the text uses it as a name: quoted, opening a sentence,
    followed by retraining / policy / option ("never retraining"), or after "the", "choose", "pick",
    "recommend"... ("drift never fires" does not name the option never)."""
    lower = text.lower()
    where = [m for m in re.finditer(_option_pattern(option), lower)]
    if option.strip().lower() in NEGATIONS:
        where = [m for m in where if NAMING.search(lower[max(0, m.start() - 12):m.start()])
                 or NAMED_AFTER.search(lower[m.end():m.end() + 16])]
    return [m.start() for m in where]


def _negated(text: str, position: int) -> bool:
    """Is the option named at `position` negated in its clause ("not X", "rather than X", "X is not ...")?"""
    lower = text.lower()
    start = max(lower.rfind(p, 0, position) for p in (".", ";", "!", "?", ",", ":", " but ", "\n"))
    before = lower[start + 1 if start >= 0 else 0:position]
    after_end = min([i for i in (lower.find(p, position) for p in (".", ";", "!", "?", ",", " but ")) if i >= 0]
                    or [len(lower)])
    after = lower[position:after_end]
    near_before = " ".join(before.split()[-4:])
    if any(re.search(r"(?<![\w'])" + re.escape(n) + r"(?![\w'])", near_before) for n in NEGATIONS):
        return True
    words_after = after.split()[1:5]
    tail = " ".join(words_after)
    return any(re.search(r"(?<![\w'])" + re.escape(n) + r"(?![\w'])", tail) for n in
               ("is not", "isn't", "not", "would not", "wouldn't", "fails", "loses", "is worse")) or (
        words_after[:1] == ["never"])  # "drift never fires"


HYPOTHETICAL = re.compile(r"\b(would|could|might)( \w+)? (favour|favor|prefer|flip( it)? to|switch( it)? to|"
                          r"change( it)? to|tip( it)? to|tip it towards|make it|point to)$")
"""A mention under a hypothetical ("a longer horizon would favour retrain") names what another assumption
would lead to: it neither recommends nor rejects the option."""


def _hypothetical(text: str, position: int) -> bool:
    before = " ".join(text[:position].lower().split()[-5:])
    return bool(HYPOTHETICAL.search(before))


def stance(text: str, options: Sequence[str]) -> dict[str, str]:
    """For each option: "recommended" (named, not negated, at least once), "rejected" (only named negated),
    "hypothetical" (only named as what another assumption would lead to: "a longer horizon would favour
    retrain") or "absent". A plain, honest heuristic: it reads which options a text names and whether a
    negation or a hypothetical governs each mention; it does not judge the reasoning.

    Options that contain one another ("GO" inside "GO WITH CONDITIONS") are read longest first: each is
    replaced by a placeholder word before the check, so a mention of the longer one never counts for the
    shorter ("GO WITH CONDITIONS, not a NO-GO" recommends GO WITH CONDITIONS, rejects NO-GO, names no GO)."""
    options = list(options)
    if any(a != b and re.search(_option_pattern(b), a.lower()) for a in options for b in options):
        token = {option: f"optionplaceholder{i}" for i, option in enumerate(options)}
        masked = str(text)
        for option in sorted(options, key=len, reverse=True):
            masked = re.sub(_option_pattern(option), token[option], masked, flags=re.IGNORECASE)
        view = stance(masked, list(token.values()))
        return {option: view[token[option]] for option in options}
    out = {}
    for option in options:
        where = _mentions(text, option)
        plain = [w for w in where if not _hypothetical(text, w)]
        if not where:
            out[option] = "absent"
        elif not plain:
            out[option] = "hypothetical"
        elif any(not _negated(text, w) for w in plain):
            out[option] = "recommended"
        else:
            out[option] = "rejected"
    return out


@dataclass
class Field:
    """A rule for one field of a structured decision.

    choices: the allowed values; expected: the value the evidence implies (a number is compared with
    `tol`); min_words: a text must say at least this much; mention: a text must name at least one of these
    words (word-boundary match: "ICE" is not found in "practice"); validate(value, answer): a custom rule that
    sees the whole answer and returns a problem message or None; justifies: the name of the field holding
    the decision this text justifies: the text must name the option chosen there and recommend no other
    of that field's choices (negation-aware: "retrain, not sunset" recommends only retrain).
    """
    description: str
    choices: Sequence[Any] | None = None
    expected: Any = None
    tol: float | None = None
    min_words: int = 0
    mention: Sequence[str] = ()
    why: str = ""
    validate: Callable[[Any, Mapping[str, Any]], str | None] | None = None
    justifies: str | None = None


def names_any(text: str, words: Sequence[str]) -> bool:
    """Does the text name at least one of the words (case-insensitive, on word boundaries)?"""
    return any(_mentions(str(text), w) for w in words)


class DecisionExercise(Exercise):
    """A structured decision (a dict such as a gate memo) checked field by field against evidence.

    `basis` says what the consistency rules compare with, in the feedback ("the evidence", or "the stated
    requirements" when the decision is written before any result exists)."""

    def __init__(self, fields: Mapping[str, Field], *, basis: str = "the evidence", **kw):
        super().__init__(**kw)
        if not fields:
            raise ExerciseError(f"exercise {self.name!r} needs at least one field")
        self.fields = dict(fields)
        self.basis = basis
        for key, rule in self.fields.items():
            if rule.justifies is not None and (rule.justifies not in self.fields
                                               or not self.fields[rule.justifies].choices):
                raise ExerciseError(f"field {key!r} justifies {rule.justifies!r}, which is not a field with "
                                    f"choices")

    def judge(self, data: Any) -> Feedback:
        answer = decode(data)
        if is_blank(answer):
            return self._not_attempted()
        if not isinstance(answer, Mapping):
            return self._feedback([f"expected a dict with fields {list(self.fields)}, got "
                                   f"{getattr(answer, 'type_name', type(answer).__name__)}."], ["answer is a dict"])
        problems: list[str] = []
        checked: list[str] = []
        text_checks: set[str] = set()
        for key, rule in self.fields.items():
            value = answer.get(key)
            checked.append(f"{key} present")
            if is_blank(value):
                problems.append(f"{key}: missing; it should hold {rule.description}.")
                continue
            if rule.choices is not None:
                checked.append(f"{key} is one of {list(rule.choices)}")
                if isinstance(value, (list, dict)) or value not in rule.choices:
                    problems.append(f"{key}: {value!r} is not one of {list(rule.choices)}.")
                    continue
            if rule.expected is not None:
                checked.append(f"{key} agrees with {self.basis}")
                if rule.tol is not None:
                    number = as_number(value)
                    if number is None or abs(number - float(rule.expected)) > rule.tol:
                        problems.append(f"{key}: {value!r} does not agree with {self.basis} "
                                        f"({rule.why or 'recompute it from the table above'}).")
                elif value != rule.expected:
                    problems.append(f"{key}: {value!r} does not follow from {self.basis} "
                                    f"({rule.why or 'look at the numbers above again'}).")
            if rule.validate is not None:
                checked.append(f"{key} is consistent with {self.basis}")
                try:
                    problem = rule.validate(value, answer)
                except Exception as exc:  # a value of the wrong shape: say so instead of a traceback
                    problem = f"could not be checked ({type(exc).__name__}: {exc}); {rule.description}"
                if problem:
                    problems.append(f"{key}: {problem}")
            if rule.min_words or rule.mention or rule.justifies:
                if not isinstance(value, str):
                    problems.append(f"{key}: write it as text (a sentence or two), not {type(value).__name__}.")
                    continue
            if rule.min_words:
                text_checks.add("its length")
                checked.append(f"{key} has at least {rule.min_words} words")
                if len(value.split()) < rule.min_words:
                    problems.append(f"{key}: say more (at least {rule.min_words} words): {rule.description}.")
            if rule.mention:
                text_checks.add("the evidence it names")
                checked.append(f"{key} names one of {list(rule.mention)}")
                if not names_any(value, rule.mention):
                    problems.append(f"{key}: name the evidence it rests on (one of {list(rule.mention)}).")
            if rule.justifies:
                text_checks.add("that it argues for the option you chose and no other")
                problem = self._justification(key, value, rule.justifies, answer)
                checked.append(f"{key} names the chosen {rule.justifies} and recommends no other")
                if problem:
                    problems.append(problem)
        unknown = sorted(set(answer) - set(self.fields))
        if unknown:
            checked.append("no unknown fields")
            problems.append(f"unknown fields {unknown}; the memo has {list(self.fields)}.")
        order = ["its length", "the evidence it names", "that it argues for the option you chose and no other"]
        named = [c for c in order if c in text_checks]
        note = (f"(Free text was checked only for {', '.join(named[:-1]) + ' and ' if len(named) > 1 else ''}"
                f"{named[-1]}; the reasoning itself was not read: compare it with the solution.)" if named else "")
        return self._feedback(problems, checked, note)

    def _justification(self, key: str, text: str, decision_key: str, answer: Mapping) -> str | None:
        choices = [str(c) for c in self.fields[decision_key].choices]
        chosen = answer.get(decision_key)
        if chosen is None or str(chosen) not in choices:
            return None  # the decision field's own problem is reported there
        view = stance(text, choices)
        others = [c for c in choices if c != str(chosen) and view[c] == "recommended"]
        if view[str(chosen)] in ("absent", "hypothetical"):
            return f"{key}: name the option you chose ({chosen!r}) and say why it wins."
        if view[str(chosen)] == "rejected":
            return f"{key}: it argues against {chosen!r}, the option you chose; the text and the decision disagree."
        if others:
            return (f"{key}: it also recommends {others}; say why {chosen!r} and not those (write 'not X' or "
                    f"'rather than X' when you mention an option you reject).")
        return None


class ChoiceExercise(Exercise):
    """A multiple-choice question: one right option; a wrong option can say why it is wrong."""

    def __init__(self, options: Mapping[str, str], answer: str, *, why_wrong: Mapping[str, str] | None = None,
                 **kw):
        kw.setdefault("reference", answer)
        super().__init__(**kw)
        self.options = dict(options)
        if answer not in self.options:
            raise ExerciseError(f"exercise {self.name!r}: the answer {answer!r} is not one of the options")
        self.answer = answer
        self.why_wrong = dict(why_wrong or {})

    def judge(self, data: Any) -> Feedback:
        answer = decode(data)
        if is_blank(answer):
            return self._not_attempted()
        key = str(answer).strip().lower()
        checked = [f"answer is one of {', '.join(self.options)}"]
        if key not in self.options:
            return self._feedback([f"{answer!r} is not an option; answer with one of {', '.join(self.options)}."],
                                  checked)
        checked.append("the right option")
        if key == self.answer:
            return self._feedback([], checked)
        reason = self.why_wrong.get(key, "it does not fit; read the explanation below")
        return self._feedback([f"({key}) {self.options[key]}: {reason}"], checked)


# -- a notebook's exercises, declared once ---------------------------------------------------------------

@dataclass(frozen=True)
class ExerciseSpec:
    """One declared exercise: its notebook variable, title and factory name."""

    var: str
    title: str
    factory: str

    @property
    def name(self) -> str:
        return f"{self.var} {self.title}"


REGISTRY: dict[tuple[str, str], Exercise] = {}
"""The last exercise each factory built in this process, by (notebook, variable): what the grader re-judges
recorded answers with, in its own kernel."""


class ExerciseSet:
    """The exercises of one notebook, in order: the list tests and the grader count from."""

    def __init__(self, notebook: str):
        self.notebook = notebook
        self._specs: dict[str, ExerciseSpec] = {}

    def exercise(self, var: str, title: str) -> Callable:
        """Declare a factory as exercise `var` ("ex1") with its title; the factory returns the exercise."""
        if not re.fullmatch(r"ex\d+", var):
            raise ExerciseError(f"exercise variable {var!r} must look like ex1, ex2, ...")
        if var in self._specs:
            raise ExerciseError(f"{self.notebook}: {var} is declared twice")

        def declare(factory: Callable[..., Exercise]) -> Callable[..., Exercise]:
            self._specs[var] = ExerciseSpec(var, title, factory.__name__)

            @functools.wraps(factory)
            def build(*args, **kwargs) -> Exercise:
                exercise = factory(*args, **kwargs).bind(self.notebook, var, title)
                REGISTRY[(self.notebook, var)] = exercise
                return exercise

            build.spec = self._specs[var]
            return build

        return declare

    def __iter__(self) -> Iterator[ExerciseSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: int(s.var[2:])))

    def __len__(self) -> int:
        return len(self._specs)

    @property
    def ids(self) -> list[str]:
        return [s.var for s in self]

    def built(self) -> dict[str, Exercise]:
        """The exercises of this notebook built so far in this process, by variable."""
        return {var: ex for (nb, var), ex in REGISTRY.items() if nb == self.notebook}
