"""Quizzes: the YAML is validated with clear errors, answers are checked, and the CLI behaves for scripts."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lifecycle_lab.base import paths
from lifecycle_lab.cli import main
from lifecycle_lab.course import quiz as quizmod
from lifecycle_lab.course.quiz import QuizError, load_quiz, parse_answers, parse_quiz

GOOD = textwrap.dedent("""
    title: Demo
    chapter: chapters/05_monitoring
    questions:
      - id: 1
        kind: choice
        prompt: Which needs labels?
        options: {a: data drift, b: concept drift}
        answer: b
        why_wrong: {a: P(X) needs no labels.}
        explanation: Concept drift is P(Y|X).
      - id: 2
        kind: numeric
        prompt: PSI?
        answer: 0.228
        tolerance: 0.002
        explanation: Sum of (A-E) ln(A/E).
""")


def test_every_course_quiz_is_valid_and_belongs_to_a_chapter():
    from lifecycle_lab.base import paths

    names = quizmod.available()
    assert len(names) >= 8
    for name in names:
        quiz = load_quiz(name)
        assert (paths.COURSE / f"{quiz.chapter}.md").is_file(), f"{name}: chapter {quiz.chapter} does not exist"
        assert len(quiz.questions) >= 4
        for q in quiz.questions:
            assert q.explanation.strip()
            # the stored answer passes its own check, and the question has a wrong answer that fails
            assert q.feedback(q.answer).passed, f"{name} Q{q.id}: its own answer fails"
            wrong = next(k for k in q.options if k != q.answer) if q.kind == "choice" else q.answer + 10 * (q.tolerance + 1)
            assert not q.feedback(wrong).passed, f"{name} Q{q.id}: accepts a wrong answer"


def test_numeric_answers_match_an_independent_computation():
    """The numbers in the quizzes are recomputed here, not copied from the YAML."""
    monitoring = load_quiz("monitoring")
    e, a = np.full(4, 0.25), np.array([0.10, 0.20, 0.30, 0.40])
    assert monitoring.question(2).feedback(float(np.sum((a - e) * np.log(a / e)))).passed
    evaluation = load_quiz("evaluation")
    tp, fp, fn = 40, 10, 20
    assert evaluation.question(1).feedback(tp / (tp + fp)).passed
    assert evaluation.question(2).feedback(2 * tp / (2 * tp + fp + fn)).passed
    assert evaluation.question(5).feedback(1 / (1 + 20)).passed
    retirement = load_quiz("retirement")
    assert retirement.question(1).feedback(-100 + sum(60 / 1.1 ** t for t in (1, 2, 3))).passed
    assert retirement.question(2).feedback(10 * 5 + 4 * 100 + 30 * 2).passed
    deployment = load_quiz("deployment")
    assert deployment.question(2).feedback(3 * 0.5 / (50 * 3600) * 1000).passed
    assert deployment.question(3).feedback(5 * 100 / 20).passed
    assert load_quiz("framing").question(2).feedback(8 * 7 * 6).passed
    assert math.isclose(load_quiz("governance").question(1).answer, 0.30 / 0.50)


def test_choice_feedback_explains_wrong_option_and_blank_is_not_attempted():
    quiz = parse_quiz(GOOD, name="demo")
    q1 = quiz.question(1)
    fb = q1.feedback("a")
    assert not fb.passed and "P(X) needs no labels" in fb.problems[0]
    assert q1.feedback("B").passed
    assert q1.feedback("").status == "not attempted"
    assert "not an option" in q1.feedback("z").problems[0]
    reply = q1.reply("a")
    assert "not quite" in reply and "Concept drift is P(Y|X)" in reply and "(b) concept drift" in reply


def test_numeric_tolerance_is_absolute():
    q2 = parse_quiz(GOOD, name="demo").question(2)
    assert q2.feedback(0.2295).passed
    assert not q2.feedback(0.231).passed
    assert "too low" in q2.feedback(0.2).problems[0]


def test_notebook_api_prints_feedback(capsys):
    quiz = parse_quiz(GOOD, name="demo")
    assert quiz.answer(2, "0.228") is True
    assert quiz.answer(1, "a") is False
    out = capsys.readouterr().out
    assert "Q2: correct" in out and "Why: Concept drift" in out


@pytest.mark.parametrize("text, expected", [
    ("title: x\nchapter: y\nquestions: [\n", "not valid YAML at line"),
    ("- just\n- a list\n", "must be a mapping"),
    ("title: x\nchapter: y\n", "missing top-level key 'questions'"),
    ("title: x\nchapter: y\nquestions: []\n", "non-empty list"),
    ("title: x\nchapter: y\nextra: 1\nquestions: [1]\n", "unknown top-level keys ['extra']"),
    (GOOD.replace("kind: choice", "kind: essay"), "kind 'essay' is not one of choice, numeric"),
    (GOOD.replace("answer: b", "answer: c"), "answer 'c' is not one of the options a, b"),
    (GOOD.replace("    tolerance: 0.002\n", ""), "needs 'tolerance'"),
    (GOOD.replace("answer: 0.228", "answer: lots"), "must be a number"),
    (GOOD.replace("id: 2", "id: 1"), "id 1 is used twice"),
    (GOOD.replace("    explanation: Concept drift is P(Y|X).\n", ""), "missing 'explanation'"),
    (GOOD.replace("why_wrong: {a: P(X) needs no labels.}", "why_wrong: {b: nope}"), "may only explain wrong options"),
    (GOOD.replace("options: {a: data drift, b: concept drift}", "options: {a: only one}"), "at least two"),
    (GOOD.replace("prompt: PSI?", "prompt: PSI?\n    colour: red"), "unknown keys ['colour']"),
])
def test_malformed_quiz_yaml_is_reported_clearly(text, expected):
    with pytest.raises(QuizError) as err:
        parse_quiz(text, name="demo")
    assert expected in str(err.value)
    assert "quiz 'demo'" in str(err.value)


def test_parse_answers():
    quiz = parse_quiz(GOOD, name="demo")
    assert parse_answers("1=b, 2=0.2", quiz) == {1: "b", 2: 0.2}
    for bad, message in [("1b", "must look like NUMBER=ANSWER"), ("3=a", "has no question 3"),
                         ("1=z", "not an option"), ("2=abc", "not a number"), ("1=a,1=b", "answered twice"),
                         ("", "empty"), ("2=nan", "finite")]:
        with pytest.raises(QuizError, match=message):
            parse_answers(bad, quiz)


def test_cli_non_interactive_exit_codes(capsys):
    assert main(["quiz", "monitoring", "--answers", "1=b,2=0.228"]) == 0
    out = capsys.readouterr().out
    assert "Q1: correct" in out and "score: 2/2" in out and "Why:" in out
    assert main(["quiz", "monitoring", "--answers", "1=a"]) == 1
    assert "not quite" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["quiz", "no-such-quiz"], "no quiz named 'no-such-quiz'; available:"),
    (["quiz", "monitoring", "--answers", "1:b"], "must look like NUMBER=ANSWER"),
    (["quiz", "monitoring", "--answers", "1=q"], "not an option"),
    (["quiz"], "name a quiz"),
])
def test_cli_bad_input_is_a_clear_error_without_traceback(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_interactive_reads_stdin():
    """A real subprocess: answers typed on stdin, a bad one re-asked, blank skips, EOF ends."""
    proc = subprocess.run([sys.executable, "-m", "lifecycle_lab", "quiz", "monitoring"],
                          input="b\nfoo\n0.228\n\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Q1: correct" in proc.stdout
    assert "'foo' is not a number" in proc.stdout
    assert "Q2: correct" in proc.stdout
    assert "Q3: skipped" in proc.stdout
    assert "score: 2/2" in proc.stdout


def test_cli_lists_quizzes(capsys):
    assert main(["quiz", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("framing", "data", "evaluation", "deployment", "monitoring", "retraining", "governance",
                 "retirement", "quick_checks"):
        assert name in out
    assert "INVALID" not in out


def test_import_is_light():
    code = "import sys, lifecycle_lab.course.quiz; print(any(m in sys.modules for m in ('sklearn', 'pandas', 'yaml', 'scipy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_list_flags_an_invalid_quiz(tmp_path, monkeypatch, capsys):
    (tmp_path / "good.yml").write_text(GOOD)
    (tmp_path / "bad.yml").write_text("title: x\nchapter: y\nquestions: []\n")
    monkeypatch.setattr(quizmod, "quiz_dir", lambda: tmp_path)
    assert main(["quiz", "--list"]) == 1
    out = capsys.readouterr().out
    assert "good" in out and "bad" in out and "INVALID" in out and "non-empty list" in out
    assert main(["quiz", "bad"]) == 2
    assert "bad.yml: 'questions' must be a non-empty list" in capsys.readouterr().err


def test_the_notebook_cells_shown_on_the_quizzes_page_work(capsys):
    """The cells course/quizzes.md tells learners to paste into JupyterLab run, and their answers are right."""
    import re

    from lifecycle_lab.base import paths

    page = (paths.COURSE / "quizzes.md").read_text(encoding="utf-8")
    cells = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(cells) >= 3, "the page should show the load cell and answer cells"
    namespace: dict = {}
    for cell in cells:
        exec(compile(cell, "quizzes.md", "exec"), namespace)
    out = capsys.readouterr().out
    quiz = namespace["quiz"]
    assert out.startswith(f"Quiz: {quiz.title} ({len(quiz.questions)} questions)")
    answered = re.findall(r"quiz\.answer\((\d+),", "".join(cells))
    assert answered, "no answer cell on the page"
    for qid in answered:
        assert f"Q{qid}: correct." in out, f"the page's example answer to Q{qid} is wrong:\n{out}"
    for qid in re.findall(r"quiz\.hint\((\d+)\)", "".join(cells)):
        assert f"[{quiz.name} Q{qid}] hint 1/" in out, f"no hint printed for Q{qid}:\n{out}"
    # the comment listing the quiz names must name every quiz there is
    listed = re.search(r'load_quiz\("(\w+)"\)\s*# or: ([\w, ]+)', page)
    assert listed, "the load cell should list the other quiz names"
    names = {listed.group(1), *[n.strip() for n in listed.group(2).split(",")]}
    assert names == set(quizmod.available())


def test_every_quick_check_is_a_scored_question():
    """course/quick_checks.md's QC1..QCn each have a scored question in the quick_checks quiz, in order."""
    page = (paths.COURSE / "quick_checks.md").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"QC(\d+)\.", page)]
    quiz = quizmod.load_quiz("quick_checks")
    assert numbers and [q.id for q in quiz.questions] == sorted(set(numbers))
    for q in quiz.questions:
        assert q.prompt.startswith(f"QC{q.id}."), q.prompt[:20]
        assert q.feedback(q.answer).passed
        assert all(not q.feedback(k).passed for k in q.options if k != q.answer)
