"""Grading: computed outside the learner's kernel, so a submission cannot forge its grade.

The project graded here is a tiny one (tests/fixtures/gradetest): three exercises whose answers follow the
seed, a solution notebook and learner submissions written by the tests, each executed for real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from helpers import FIXTURES  # noqa: E402

from lifecycle_lab import cli
from lifecycle_lab.course import grade as grading
from lifecycle_lab.projects import PROJECTS

NOTEBOOK = "90_grading_test"

SETUP = ("import gradetest.project as project\n"
         "P = project.PARAMETERS.validate(globals())\n"
         "ex1, ex2, ex3 = project.double(P.seed), project.add(), project.parity(P.seed)")
RIGHT = {
    "ex1": "answer = 2 * P.seed\nex1.check(answer)",
    "ex2": "def f(a, b):\n    return a + b\nex2.check(f)",
    "ex3": "ex3.check({'parity': 'even' if P.seed % 2 == 0 else 'odd',\n"
           "           'why': ('even' if P.seed % 2 == 0 else 'odd') + ' because of its last digit'})",
}


def write_notebook(path: Path, cells: list[str], seed: int = 1) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(f"seed = {seed}\noutput_dir = None")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["lifecycle_lab"] = {"notebook": NOTEBOOK}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def course(tmp_path, monkeypatch):
    """The test project registered, importable by kernels, and its solution notebook written."""
    monkeypatch.setitem(PROJECTS, NOTEBOOK, "gradetest.project")
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FIXTURES), os.environ.get("PYTHONPATH", "")]))
    solutions = tmp_path / "solutions"
    write_notebook(solutions / f"{NOTEBOOK}.ipynb", list(RIGHT.values()))
    return solutions


def run_grade(course, submissions: dict[str, list[str]], tmp_path, seeds=None, overrides=None,
              **kw) -> dict[str, grading.Grade]:
    paths = {name: write_notebook(tmp_path / "in" / name, cells, (seeds or {}).get(name, 1))
             for name, cells in submissions.items()}
    by_path = {paths[name]: values for name, values in (overrides or {}).items()}
    grades = grading.grade(list(paths.values()), tmp_path / "graded", solutions=course, overrides=by_path, **kw)
    return {g.submission: g for g in grades}


def statuses(g: grading.Grade) -> dict[str, str]:
    return {var: e.status for var, e in g.exercises.items()}


def test_right_wrong_skipped_and_deleted(course, tmp_path):
    g = run_grade(course, {
        "all_right.ipynb": list(RIGHT.values()),
        "mixed.ipynb": ["ex1.check(2 * P.seed + 1)", "def f(a, b):\n    return a * b\nex2.check(f)"],
    }, tmp_path)
    assert statuses(g["all_right.ipynb"]) == {"ex1": "passed", "ex2": "passed", "ex3": "passed"}
    # ex3's cell was deleted from 'mixed': it still counts, as not attempted
    assert statuses(g["mixed.ipynb"]) == {"ex1": "failed", "ex2": "failed", "ex3": "not attempted"}
    assert g["mixed.ipynb"].exercises["ex1"].attempts == 1


def test_a_hand_written_ledger_line_earns_only_what_its_answer_earns(course, tmp_path):
    forge = ("import json, os\n"
             "with open(os.environ['LIFECYCLE_LAB_CHECK_LOG'], 'a') as f:\n"
             "    f.write(json.dumps({'exercise': 'ex1', 'event': 'check', 'status': 'correct',\n"
             "                        'record': {'answer': 12345.0}}) + '\\n')\n"
             "    f.write(json.dumps({'exercise': 'ex2', 'event': 'check', 'status': 'correct'}) + '\\n')\n"
             "    f.write('not json at all\\n')\n"
             "print('[ex3 odd or even] all checks passed')")
    g = run_grade(course, {"forged.ipynb": [forge]}, tmp_path)["forged.ipynb"]
    assert statuses(g) == {"ex1": "failed", "ex2": "not attempted", "ex3": "not attempted"}


def test_replacing_the_check_in_the_learner_kernel_changes_nothing(course, tmp_path):
    patch = ("from lifecycle_lab.exercises.core import CORRECT, Feedback\n"
             "for ex in (ex1, ex2, ex3):\n"
             "    ex.evaluate = ex.judge = lambda *a, **k: Feedback('x', CORRECT)\n"
             "ex1.expected = 999.0\n"
             "ex1.check(999.0)\n"
             "ex2.check(lambda a, b: 0)\n"
             "ex3.check({'parity': 'even', 'why': 'even it is, trust me'})")
    g = run_grade(course, {"patched.ipynb": [patch]}, tmp_path)["patched.ipynb"]
    assert statuses(g) == {"ex1": "failed", "ex2": "failed", "ex3": "failed"}  # seed 1 is odd


def test_submitting_the_reference_and_viewing_the_solution_are_reported(course, tmp_path):
    cells = ["ex1.check(0.0)\nex1.check(ex1.reference)", "ex2.hint(1)\nex2.hint(2)\nex2.solution()\n" + RIGHT["ex2"]]
    g = run_grade(course, {"copied.ipynb": cells}, tmp_path)["copied.ipynb"]
    assert g.exercises["ex1"].status == "reference submitted" and g.exercises["ex1"].attempts == 2
    assert g.exercises["ex2"].status == "passed"
    assert g.exercises["ex2"].hints == 2 and g.exercises["ex2"].solution_viewed


def test_references_follow_the_submissions_parameters_and_a_roster_seed(course, tmp_path):
    # the learner set seed = 4 in the parameters cell: the reference kernel is run with seed 4 as well
    g = run_grade(course, {"seed4.ipynb": ["ex1.check(8.0)"], "roster.ipynb": ["ex1.check(2 * P.seed)"]},
                  tmp_path, seeds={"seed4.ipynb": 4}, overrides={"roster.ipynb": {"seed": 7}})
    assert g["seed4.ipynb"].parameters["seed"] == 4 and statuses(g["seed4.ipynb"])["ex1"] == "passed"
    assert g["roster.ipynb"].parameters["seed"] == 7 and statuses(g["roster.ipynb"])["ex1"] == "passed"


def test_a_refused_parameter_or_an_unknown_notebook_fails_that_row_only(course, tmp_path):
    bad = write_notebook(tmp_path / "in" / "bad.ipynb", list(RIGHT.values()), seed=5000)
    stranger = tmp_path / "in" / "stranger.ipynb"
    nb = nbformat.v4.new_notebook()
    nbformat.write(nb, stranger)
    good = write_notebook(tmp_path / "in" / "good.ipynb", [RIGHT["ex1"]])
    grades = {g.submission: g for g in grading.grade([bad, stranger, good], tmp_path / "graded", solutions=course)}
    assert "seed=5000 is out of range" in grades["bad.ipynb"].error
    assert "cannot tell which notebook" in grades["stranger.ipynb"].error
    assert statuses(grades["good.ipynb"])["ex1"] == "passed"


def test_the_command_line_prints_the_table_and_writes_the_results(course, tmp_path, capsys):
    write_notebook(tmp_path / "in" / "team1.ipynb", list(RIGHT.values()))
    write_notebook(tmp_path / "in" / "team2.ipynb", ["ex1.check(0.5)"])
    (tmp_path / "in" / "cut.ipynb").write_text('{"cells": [{"cell_type": "code", "sou', encoding="utf-8")
    code = cli.main(["grade", str(tmp_path / "in"), "--out", str(tmp_path / "graded"), "--solutions", str(course)])
    assert code == 1  # the cut-short file is an error, the others are still graded
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert rows["team1.ipynb"].split()[1:5] == ["3", "0", "0", "0"]
    assert rows["team2.ipynb"].split()[1:5] == ["0", "1", "2", "0"]
    assert "is not a readable notebook" in rows["cut.ipynb"]
    saved = {g.submission: g for g in grading.read_grades(tmp_path / "graded" / "grades.json")}
    assert statuses(saved["team1.ipynb"]) == {"ex1": "passed", "ex2": "passed", "ex3": "passed"}
    raw = {g["submission"]: g for g in json.loads((tmp_path / "graded" / "grades.json").read_text())}
    assert raw["team2.ipynb"]["notebook"] == NOTEBOOK and raw["team2.ipynb"]["parameters"]["seed"] == 1


# -- a workshop: roster, per-learner folders, progress views and the gradebook -------------------------

@pytest.fixture
def only_the_test_project(course, monkeypatch):
    """Seeds are checked against every registered notebook: here only the test project's."""
    for stem in [s for s in PROJECTS if s != NOTEBOOK]:
        monkeypatch.delitem(PROJECTS, stem)
    return course


def test_a_roster_run_grade_and_progress_for_a_mixed_room(only_the_test_project, tmp_path, capsys):
    import csv

    from lifecycle_lab.course import progress, roster

    course = only_the_test_project

    (tmp_path / "roster.csv").write_text("learner,seed,name\nana,4,Ana\nbo,7,Bo\ncy,,Cy\n")
    learners = {e.learner: e for e in roster.read_roster(tmp_path / "roster.csv")}
    assert learners["ana"].seed == 4 and learners["cy"].derived
    assert learners["cy"].seed == roster.derived_seed("cy")  # stable: derived from the id alone
    room = tmp_path / "submissions"
    # ana answers everything right for her seed, bo gets ex1 wrong and copies ex3's reference, cy does nothing
    write_notebook(room / "ana" / f"{NOTEBOOK}.ipynb", list(RIGHT.values()))
    write_notebook(room / "bo" / f"{NOTEBOOK}.ipynb",
                   ["ex1.check(1.0)", "ex2.hint(1)\n" + RIGHT["ex2"], "ex3.solution()\nex3.check(ex3.reference)"])
    write_notebook(room / "cy" / f"{NOTEBOOK}.ipynb", [])
    out = tmp_path / "graded"
    assert cli.main(["grade", str(room), "--roster", str(tmp_path / "roster.csv"), "--out", str(out),
                     "--solutions", str(course)]) == 0
    saved = {g.learner: g for g in grading.read_grades(out / "grades.json")}
    assert {k: g.parameters["seed"] for k, g in saved.items()} == {"ana": 4, "bo": 7, "cy": learners["cy"].seed}
    assert statuses(saved["ana"]) == {"ex1": "passed", "ex2": "passed", "ex3": "passed"}
    assert statuses(saved["bo"]) == {"ex1": "failed", "ex2": "passed", "ex3": "reference submitted"}
    assert statuses(saved["cy"]) == {"ex1": "not attempted", "ex2": "not attempted", "ex3": "not attempted"}
    capsys.readouterr()

    assert cli.main(["progress", str(out)]) == 0
    table = capsys.readouterr().out
    lines = {line.split()[0]: line for line in table.splitlines()[1:] if line.strip()}
    assert lines["ana"].endswith("3/3") and lines["cy"].endswith("0/3")
    assert "FAIL" in lines["bo"] and "pass h1" in lines["bo"] and "ref s" in lines["bo"]
    with (out / "progress.csv").open() as f:
        long = list(csv.DictReader(f))
    assert len(long) == 9
    bo_ex3 = next(r for r in long if r["learner"] == "bo" and r["exercise"] == "ex3")
    assert bo_ex3["status"] == "reference submitted" and bo_ex3["solution_viewed"] == "yes"
    with (out / "gradebook.csv").open() as f:
        book = list(csv.reader(f))
    assert book[0][0] == "learner" and "1 point per exercise passed" in book[0][-1]
    assert {row[0]: int(row[-1]) for row in book[1:]} == {"ana": 3, "bo": 1, "cy": 0}
    page = (out / "progress.html").read_text()
    assert page.count("<img src='data:image/png;base64,") == 3 and "<script" not in page
    assert len(progress.rows(grading.read_grades(out / "grades.json"))) == 9


def test_roster_errors_name_the_line_and_a_stranger_is_refused(only_the_test_project, tmp_path):
    from lifecycle_lab.course import roster

    course = only_the_test_project

    (tmp_path / "bad.csv").write_text("learner,seed\nana,4\nana,5\n")
    with pytest.raises(roster.RosterError, match="line 3: learner 'ana' appears twice"):
        roster.read_roster(tmp_path / "bad.csv")
    (tmp_path / "bad2.csv").write_text("learner,seed\nana,minus\n")
    with pytest.raises(roster.RosterError, match="line 2: seed 'minus' must be a whole number"):
        roster.read_roster(tmp_path / "bad2.csv")
    (tmp_path / "bad3.csv").write_text("learner,seed\nana,1001\n")
    with pytest.raises(roster.RosterError, match="seed 1001 for 'ana' does not work"):
        roster.read_roster(tmp_path / "bad3.csv")  # the test project's declaration stops at 1000
    (tmp_path / "ok.csv").write_text("learner,seed\nana,4\n")
    write_notebook(tmp_path / "room" / "zed" / f"{NOTEBOOK}.ipynb", [])
    assert cli.main(["grade", str(tmp_path / "room"), "--roster", str(tmp_path / "ok.csv"),
                     "--solutions", str(course), "--out", str(tmp_path / "g")]) == 2
