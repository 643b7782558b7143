"""Interview practice: every question's parts are checked for presence, specificity and scenario, and the
feedback is honest about what the checks cannot judge."""

from __future__ import annotations

import re

import pytest

from lifecycle_lab.base import paths
from lifecycle_lab.cli import main
from lifecycle_lab.course import interview

QUESTIONS = interview.load()


def test_every_question_of_the_interview_page_is_practised():
    page = (paths.COURSE / "interview.md").read_text(encoding="utf-8")
    titles = re.findall(r"^## (?:Seed \d{3}|Study guide) · Q\d\. (.+)$", page, re.M)
    assert len(titles) == 12 and [q.text for q in QUESTIONS] == titles


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.id)
def test_the_example_answer_passes_and_the_note_is_honest(q):
    answer = {p.name: p.example for p in q.parts}
    fb = q.feedback(answer)
    assert fb.passed, fb.render()
    reply = q.reply(answer)
    assert "cannot tell whether the story is true" in reply and "reasoning itself was not read" in reply
    assert all(p.strong in reply for p in q.parts)


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.id)
def test_a_missing_part_fails_and_names_it(q):
    answer = {p.name: p.example for p in q.parts}
    gone = q.parts[-1].name
    answer[gone] = ""
    fb = q.feedback(answer)
    assert not fb.passed and any(p.startswith(f"{gone}: missing") for p in fb.problems)


@pytest.mark.parametrize("q", [q for q in QUESTIONS if any(p.specific for p in q.parts)], ids=lambda q: q.id)
def test_a_vague_part_fails_where_the_strategy_asks_for_specifics(q):
    part = next(p for p in q.parts if p.specific)
    answer = {p.name: p.example for p in q.parts}
    answer[part.name] = "we looked at it carefully as a team and then did the right thing about it overall"
    fb = q.feedback(answer)
    assert not fb.passed and any(f"{part.name}: be specific" in p for p in fb.problems), fb.problems


def test_an_answer_to_another_question_fails_the_scenario_check():
    q = interview.practice("002-1")  # fraud feedback loop
    other = interview.practice("sg-3")  # flywheel vs network effects
    off_topic = {p.name: other.parts[i % len(other.parts)].example + " We used 3 weak labels and a 5 % guardrail on "
                 "the false positive rate, and a delayed retrain." for i, p in enumerate(q.parts)}
    fb = q.feedback(off_topic)
    assert not fb.passed and any("never names what the question is about" in p for p in fb.problems)


def test_the_command_line_checks_an_answers_file(tmp_path, capsys):
    import yaml

    q = interview.practice("003-1")
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text(yaml.safe_dump({p.name: p.example for p in q.parts}))
    bad.write_text(yaml.safe_dump({p.name: "yes" for p in q.parts}))
    assert main(["interview", "003-1", "--answers", str(good)]) == 0
    assert main(["interview", "003-1", "--answers", str(bad)]) == 1
    assert "say more" in capsys.readouterr().out
    assert main(["interview", "--list"]) == 0
    assert "sg-4" in capsys.readouterr().out
    assert main(["interview", "999-9"]) == 2
