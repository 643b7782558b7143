"""Interview practice that answers back: the twelve questions of course/interview.md as structured exercises.

The learner writes each part an answer strategy needs (STAR's situation, task, action, result; or monitor,
diagnose, remediate, validate; ...). The checks are honest about what they are: for each part, that it is
there and long enough, that it is specific where it should be (a number, or a named metric, method or tool),
and that it fits the question's scenario (it names what the question is about, and the words a part cannot
do without). They cannot judge whether the story is true, the reasoning sound or the delivery convincing;
the feedback says so, and says what a strong answer adds for each part.

The questions are data (course/interview_practice.yml), like the quizzes. In a notebook:
`q = practice("003-1"); q.show(); q.check({"monitor": "...", ...})`; in a terminal:
`lifecycle-lab interview 003-1` (prompts for each part) or `--answers FILE.yml`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.exercises.core import DecisionExercise, Feedback, Field, names_any

SPECIFIC = ("precision", "recall", "F1", "macro-F1", "AUC", "ROC-AUC", "CTR", "click-through rate", "PSI", "KS",
            "p99", "latency", "NPV", "A/B", "shadow", "canary", "MLflow", "Evidently", "Prometheus", "Grafana",
            "Airflow", "Prefect", "Kubeflow", "SHAP", "ICE", "RICE", "KPI", "R2", "false positive rate", "FPR",
            "conversion", "retention", "churn", "revenue", "EUR", "USD", "ensemble", "two-tower", "baseline",
            "confusion matrix", "schema", "schema validation", "feature store", "drift", "KS test", "KS tests",
            "time-based split", "time-based", "diff", "shadowed", "canaried", "dashboard", "R2")
NUMBER = re.compile(r"\d")
HONEST = ("These checks read for structure: every part present, specific (numbers, named metrics or tools) and "
          "on the question's scenario. They cannot tell whether the story is true, the reasoning sound or the "
          "delivery convincing: compare with the worked answer in course/interview.md and say it out loud.")


class InterviewError(LifecycleLabError, ValueError):
    """The practice file is malformed, or a question id is unknown: the message says which."""


@dataclass(frozen=True)
class Part:
    name: str
    prompt: str
    min_words: int
    specific: bool
    needs: tuple[str, ...]
    strong: str
    example: str


def _specific(text: str) -> bool:
    return bool(NUMBER.search(text)) or names_any(text, SPECIFIC)


class Question:
    """One interview question with its parts and the exercise that checks an answer."""

    def __init__(self, raw: Mapping[str, Any]):
        self.id = str(raw["id"])
        self.text = str(raw["question"])
        self.framework = str(raw["framework"])
        self.scenario = tuple(raw.get("scenario") or ())
        self.parts = [Part(str(p["name"]), str(p["prompt"]), int(p.get("min_words", 6)), bool(p.get("specific")),
                           tuple(p.get("needs") or ()), str(p["strong"]), str(p["example"])) for p in raw["parts"]]
        fields = {p.name: Field(p.prompt, min_words=p.min_words, validate=self._rule(p, first=(i == 0)))
                  for i, p in enumerate(self.parts)}
        self.exercise = DecisionExercise(
            fields, basis="the answer strategy", name=f"interview {self.id}",
            reference={p.name: p.example for p in self.parts},
            hints=[f"Structure: {self.framework}. Fill every part: {', '.join(p.name for p in self.parts)}.",
                   "Be specific: a number, a named metric or tool in the parts that ask for it."],
            solution="\n".join(f"{p.name}: {p.example}" for p in self.parts))

    def _rule(self, part: Part, first: bool):
        def rule(value: Any, answer: Mapping[str, Any]) -> str | None:
            text = str(value)
            if part.specific and not _specific(text):
                return f"be specific: give a number, or name the metric, method or tool (a strong answer: {part.strong})"
            if part.needs and not names_any(text, part.needs):
                return f"this part must name one of {list(part.needs)} ({part.strong})"
            if first and self.scenario:
                whole = " ".join(str(v) for v in answer.values())
                if not names_any(whole, self.scenario):
                    return (f"the answer never names what the question is about (one of {list(self.scenario)}): "
                            f"answer the question asked")
            return None

        return rule

    def show(self) -> str:
        lines = [f"Interview question {self.id}: {self.text}", f"Structure: {self.framework}", "Parts:"]
        lines += [f"  {p.name}: {p.prompt} (at least {p.min_words} words"
                  f"{', specific' if p.specific else ''})" for p in self.parts]
        return "\n".join(lines)

    def feedback(self, answer: Mapping[str, Any]) -> Feedback:
        return self.exercise.evaluate(answer)

    def reply(self, answer: Mapping[str, Any]) -> str:
        """The checks' verdict, what a strong answer adds per part, and what the checks cannot judge."""
        fb = self.feedback(answer)
        lines = [fb.render(), "", "What a strong answer adds:"]
        lines += [f"  - {p.name}: {p.strong}" for p in self.parts]
        lines += ["", HONEST]
        return "\n".join(lines)

    def check(self, answer: Mapping[str, Any]) -> bool:
        print(self.reply(answer))
        return self.feedback(answer).passed


def practice_file() -> Path:
    return paths.COURSE / "interview_practice.yml"


def load(path: Path | None = None) -> list[Question]:
    import yaml

    path = path or practice_file()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = []
    for i, raw in enumerate(data.get("questions") or [], start=1):
        missing = [k for k in ("id", "question", "framework", "parts") if k not in raw]
        if missing:
            raise InterviewError(f"{path.name}, question #{i}: missing {missing}")
        for j, part in enumerate(raw["parts"], start=1):
            lack = [k for k in ("name", "prompt", "strong", "example") if k not in part]
            if lack:
                raise InterviewError(f"{path.name}, question {raw['id']}, part #{j}: missing {lack}")
        questions.append(Question(raw))
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise InterviewError(f"{path.name}: question ids must be unique, got {ids}")
    return questions


def practice(question_id: str, path: Path | None = None) -> Question:
    """One question by id ("000-1", ..., "sg-4")."""
    found = {q.id: q for q in load(path)}
    if question_id not in found:
        raise InterviewError(f"no interview question {question_id!r}; there are {', '.join(found)}")
    return found[question_id]


def register(sub) -> None:
    cmd = sub.add_parser("interview", help="practise an interview question part by part, with checked feedback")
    cmd.add_argument("id", nargs="?", help="question id, e.g. 003-1 (see --list)")
    cmd.add_argument("--list", action="store_true", help="list the questions")
    cmd.add_argument("--answers", metavar="FILE", help="a YAML/JSON file {part: text} instead of prompts "
                     "(exit 1 if a check fails)")
    cmd.set_defaults(handler=cmd_interview)


def cmd_interview(args) -> int:
    import yaml

    if args.list or not args.id:
        for q in load():
            print(f"{q.id:6} {q.text}  [{q.framework}]")
        return 0 if args.list else 2
    try:
        q = practice(args.id)
    except InterviewError as err:
        print(f"lifecycle-lab interview: {err}", file=sys.stderr)
        return 2
    if args.answers:
        answer = yaml.safe_load(Path(args.answers).read_text(encoding="utf-8"))
        if not isinstance(answer, dict):
            print(f"lifecycle-lab interview: {args.answers} must map part names to texts: "
                  f"{', '.join(p.name for p in q.parts)}", file=sys.stderr)
            return 2
    else:
        print(q.show(), "\n")
        answer = {p.name: input(f"{p.name} ({p.prompt}): ") for p in q.parts}
    return 0 if q.check(answer) else 1
