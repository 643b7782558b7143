"""Checked quizzes: questions kept as YAML data in course/quizzes/, answered in a notebook or a terminal.

A quiz file is data so an author can add a question without touching code, and so the same question is
shown on the site, asked by `lifecycle-lab quiz NAME` and checked in a notebook with `Quiz.answer(...)`.
Each question becomes an exercise of the feedback layer (`exercises.core`): multiple choice or numeric,
with hints and an explanation that is shown after every answer, right or wrong.

File format (course/quizzes/<name>.yml)::

    title: Monitoring
    chapter: 05_monitoring          # the chapter the quiz belongs to (course/<chapter>.md)
    questions:
      - id: 1
        kind: choice                # or: numeric
        prompt: Which change needs labels to detect?
        options: {a: data drift, b: concept drift}
        answer: b
        why_wrong: {a: P(X) can be compared without labels.}   # optional, per wrong option
        explanation: Concept drift is a change in P(Y|X) ...
        hints: [Think about what P(Y|X) needs.]               # optional
      - id: 2
        kind: numeric
        prompt: ...
        answer: 0.2
        tolerance: 0.005            # absolute; required for numeric questions
        explanation: ...
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.exercises.core import NOT_ATTEMPTED, ChoiceExercise, Exercise, Feedback, ValueExercise

KINDS = ("choice", "numeric")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class QuizError(LifecycleLabError, ValueError):
    """A quiz file or an answer is malformed; the message names the place and says how to fix it."""


@dataclass
class Question:
    """One quiz question as loaded from YAML, with the exercise that checks it."""

    id: int
    kind: str
    prompt: str
    answer: Any
    explanation: str
    options: dict[str, str] = field(default_factory=dict)
    tolerance: float = 0.0
    exercise: Exercise | None = None

    def text(self) -> str:
        """The question as a learner sees it (prompt and lettered options)."""
        lines = [f"Q{self.id}. {self.prompt.strip()}"]
        if self.kind == "choice":
            lines += [f"   {key}) {text}" for key, text in self.options.items()]
        else:
            lines.append("   (answer with a number, e.g. 0.25)")
        return "\n".join(lines)

    def parse(self, raw: str) -> Any:
        """A typed answer from text; raises QuizError when it cannot be one."""
        raw = raw.strip()
        if self.kind == "choice":
            key = raw.lower().rstrip(")")
            if key not in self.options:
                raise QuizError(f"question {self.id}: {raw!r} is not an option; "
                                f"answer with one of {', '.join(self.options)}")
            return key
        try:
            number = float(raw)
        except ValueError:
            raise QuizError(f"question {self.id}: {raw!r} is not a number; answer with a plain number such "
                            f"as 0.2 (no units, no % sign)") from None
        if math.isnan(number) or math.isinf(number):
            raise QuizError(f"question {self.id}: answer with a finite number, not {raw!r}")
        return number

    def feedback(self, answer: Any) -> Feedback:
        return self.exercise.evaluate(answer)

    def reply(self, answer: Any) -> str:
        """The feedback and the explanation, as printed after an answer."""
        fb = self.feedback(answer)
        if fb.status == NOT_ATTEMPTED:
            return f"Q{self.id}: skipped. The answer is {self.shown_answer()}.\n  Why: {self.explanation.strip()}"
        verdict = "correct" if fb.passed else "not quite"
        lines = [f"Q{self.id}: {verdict}."]
        lines += [f"  - {p}" for p in fb.problems]
        if not fb.passed:
            lines.append(f"  The answer is {self.shown_answer()}.")
        lines.append(f"  Why: {self.explanation.strip()}")
        return "\n".join(lines)

    def shown_answer(self) -> str:
        if self.kind == "choice":
            return f"({self.answer}) {self.options[self.answer].rstrip('.')}"
        return f"{self.answer:g} (within {self.tolerance:g})"


@dataclass
class Quiz:
    """A named list of questions; `answer(id, value)` prints immediate feedback in a notebook."""

    name: str
    title: str
    chapter: str
    questions: list[Question]
    source: Path | None = None

    def question(self, qid: int) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise QuizError(f"quiz {self.name!r} has no question {qid}; its questions are "
                        f"{', '.join(str(q.id) for q in self.questions)}")

    def show(self) -> None:
        """Print every question (for a notebook cell)."""
        print(f"Quiz: {self.title} ({len(self.questions)} questions)\n")
        for q in self.questions:
            print(q.text() + "\n")

    def hint(self, qid: int, n: int = 1) -> None:
        """Print hint n of question qid, for a learner stuck before answering (in a notebook)."""
        self.question(qid).exercise.hint(n)

    def answer(self, qid: int, value: Any) -> bool:
        """Check one answer, print feedback and explanation; return True when it is right."""
        q = self.question(qid)
        if isinstance(value, str):
            value = q.parse(value)
        print(q.reply(value))
        return q.feedback(value).passed


# -- loading and validating -----------------------------------------------------------------------------

def quiz_dir() -> Path:
    return paths.COURSE / "quizzes"


def available(folder: Path | None = None) -> list[str]:
    """Names of the quizzes in the folder (file stems)."""
    folder = folder or quiz_dir()
    return sorted(p.stem for p in folder.glob("*.yml"))


def load_quiz(name: str, folder: Path | None = None) -> Quiz:
    """Load and validate course/quizzes/<name>.yml; raise QuizError saying what is wrong."""
    folder = folder or quiz_dir()
    path = folder / f"{name}.yml"
    if not NAME_RE.match(name) or not path.is_file():
        names = available(folder)
        raise QuizError(f"no quiz named {name!r}; available: {', '.join(names) or '(none in ' + str(folder) + ')'}")
    return parse_quiz(path.read_text(encoding="utf-8"), name=name, source=path)


def parse_quiz(text: str, *, name: str, source: Path | None = None) -> Quiz:
    """Validate quiz YAML text and build its exercises."""
    import yaml

    where = str(source) if source else f"quiz {name!r}"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise QuizError(f"{where}: not valid YAML{at} ({problem}); check the indentation and quote "
                        f"text that contains ': ' or starts with a special character") from None
    if not isinstance(data, dict):
        raise QuizError(f"{where}: the file must be a mapping with keys title, chapter, questions")
    for key in ("title", "chapter", "questions"):
        if key not in data:
            raise QuizError(f"{where}: missing top-level key {key!r} (a quiz needs title, chapter, questions)")
    unknown = sorted(set(data) - {"title", "chapter", "questions"})
    if unknown:
        raise QuizError(f"{where}: unknown top-level keys {unknown}; allowed: title, chapter, questions")
    if not isinstance(data["questions"], list) or not data["questions"]:
        raise QuizError(f"{where}: 'questions' must be a non-empty list of questions")
    questions: list[Question] = []
    seen: set[int] = set()
    for index, raw in enumerate(data["questions"], start=1):
        q = _question(raw, f"{where}, question #{index}", name)
        if q.id in seen:
            raise QuizError(f"{where}, question #{index}: id {q.id} is used twice; give each question its own id")
        seen.add(q.id)
        questions.append(q)
    return Quiz(name, str(data["title"]), str(data["chapter"]), questions, source)


_QUESTION_KEYS = {"id", "kind", "prompt", "options", "answer", "why_wrong", "explanation", "hints", "tolerance"}


def _question(raw: Any, where: str, quiz: str) -> Question:
    if not isinstance(raw, dict):
        raise QuizError(f"{where}: each question must be a mapping (id, kind, prompt, answer, explanation)")
    unknown = sorted(set(raw) - _QUESTION_KEYS)
    if unknown:
        raise QuizError(f"{where}: unknown keys {unknown}; allowed: {', '.join(sorted(_QUESTION_KEYS))}")
    for key in ("id", "kind", "prompt", "answer", "explanation"):
        if key not in raw or raw[key] is None or raw[key] == "":
            raise QuizError(f"{where}: missing {key!r}")
    qid = raw["id"]
    if not isinstance(qid, int) or isinstance(qid, bool) or qid < 1:
        raise QuizError(f"{where}: id must be a positive whole number, got {qid!r}")
    where = f"{where} (id {qid})"
    kind = raw["kind"]
    if kind not in KINDS:
        raise QuizError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    for key in ("prompt", "explanation"):
        if not isinstance(raw[key], str):
            raise QuizError(f"{where}: {key} must be text")
    hints = raw.get("hints") or []
    if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
        raise QuizError(f"{where}: hints must be a list of non-empty texts")
    hints = hints or [f"Re-read the chapter section this quiz belongs to; then reason about the question again."]
    name = f"{quiz} Q{qid}"
    explanation = raw["explanation"]
    if kind == "choice":
        options = raw.get("options")
        if not isinstance(options, dict) or len(options) < 2:
            raise QuizError(f"{where}: a choice question needs 'options', a mapping of at least two letters "
                            f"to texts, e.g. {{a: ..., b: ...}}")
        options = {str(k).strip().lower(): v for k, v in options.items()}
        for key, text in options.items():
            if not re.fullmatch(r"[a-z]", key) or not isinstance(text, str) or not text.strip():
                raise QuizError(f"{where}: option {key!r} must be a single letter with a non-empty text")
        answer = str(raw["answer"]).strip().lower()
        if answer not in options:
            raise QuizError(f"{where}: answer {raw['answer']!r} is not one of the options {', '.join(options)}")
        if "tolerance" in raw:
            raise QuizError(f"{where}: 'tolerance' is for numeric questions only")
        why_wrong = raw.get("why_wrong") or {}
        if not isinstance(why_wrong, dict):
            raise QuizError(f"{where}: why_wrong must map option letters to texts")
        why_wrong = {str(k).strip().lower(): v for k, v in why_wrong.items()}
        bad = sorted(set(why_wrong) - set(options)) + (["the right answer"] if answer in why_wrong else [])
        if bad:
            raise QuizError(f"{where}: why_wrong names {bad}; it may only explain wrong options")
        ex = ChoiceExercise(options, answer, why_wrong=why_wrong, hints=hints, solution=explanation, name=name)
        return Question(qid, kind, raw["prompt"], answer, explanation, options=options, exercise=ex)
    if "options" in raw or "why_wrong" in raw:
        raise QuizError(f"{where}: a numeric question has no options; remove 'options'/'why_wrong' or use "
                        f"kind: choice")
    answer, tol = raw["answer"], raw.get("tolerance")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise QuizError(f"{where}: the answer of a numeric question must be a number, got {answer!r}")
    if tol is None or isinstance(tol, bool) or not isinstance(tol, (int, float)) or tol < 0:
        raise QuizError(f"{where}: a numeric question needs 'tolerance', an absolute allowance >= 0 "
                        f"(e.g. 0.005)")
    ex = ValueExercise(float(answer), rtol=0.0, atol=float(tol) + 1e-12, reveal=False, hints=hints,
                       solution=explanation, name=name)
    return Question(qid, kind, raw["prompt"], float(answer), explanation, tolerance=float(tol), exercise=ex)


def parse_answers(spec: str, quiz: Quiz) -> dict[int, Any]:
    """`1=b,2=0.2` to {1: 'b', 2: 0.2}, each checked against its question's kind."""
    answers: dict[int, Any] = {}
    for part in [p for p in spec.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        if not sep or not key.strip().isdigit() or not value.strip():
            raise QuizError(f"answer {part.strip()!r} must look like NUMBER=ANSWER, e.g. --answers 1=b,2=0.2")
        qid = int(key)
        if qid in answers:
            raise QuizError(f"question {qid} is answered twice in --answers")
        answers[qid] = quiz.question(qid).parse(value)
    if not answers:
        raise QuizError("--answers is empty; pass e.g. --answers 1=b,2=0.2")
    return answers
