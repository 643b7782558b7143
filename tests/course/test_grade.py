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

from lifecycle_lab import cli
from lifecycle_lab.course import grade as grading
from lifecycle_lab.projects import PROJECTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
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


def run_grade(course, submissions: dict[str, list[str]], tmp_path, seeds=None, **kw) -> dict[str, grading.Grade]:
    paths = [write_notebook(tmp_path / "in" / name, cells, (seeds or {}).get(name, 1))
             for name, cells in submissions.items()]
    grades = grading.grade(paths, tmp_path / "graded", solutions=course, **kw)
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
