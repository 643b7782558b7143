"""The learner's portfolio: their documents and the numbers their own runs printed, nothing invented."""

from __future__ import annotations

import json

import nbformat
import pytest
from helpers import FIXTURES
from helpers import GRADETEST_NOTEBOOK as NOTEBOOK

from lifecycle_lab.cli import main
from lifecycle_lab.course import portfolio
from lifecycle_lab.projects import PROJECTS


@pytest.fixture
def one_project(monkeypatch):
    for stem in list(PROJECTS):
        monkeypatch.delitem(PROJECTS, stem)
    monkeypatch.setitem(PROJECTS, NOTEBOOK, "gradetest.project")
    monkeypatch.setitem(PROJECTS, "91_not_run", "gradetest.project")
    monkeypatch.syspath_prepend(str(FIXTURES))


def test_the_portfolio_collects_what_the_runs_wrote_and_says_what_is_missing(one_project, tmp_path, capsys):
    outputs, notebooks, out = tmp_path / "outputs", tmp_path / "notebooks", tmp_path / "portfolio"
    (outputs / NOTEBOOK).mkdir(parents=True)
    (outputs / NOTEBOOK / "memo.md").write_text("# Decision: retrain\n\nNPV 1.2 M EUR beats sunset (0.9 M).\n")
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("summary(...)")
    cell.outputs = [nbformat.v4.new_output("stream", text='SUMMARY {"headline": "retrain wins", "npv_meur": 1.2}\n')]
    nb.cells = [cell]
    nbformat.write(nb, notebooks / f"{NOTEBOOK}.ipynb")
    assert main(["portfolio", "--outputs", str(outputs), "--notebooks", str(notebooks), "--out", str(out)]) == 0
    index = (out / "README.md").read_text()
    assert "**Result:** retrain wins" in index and "| npv meur | 1.2 |" in index
    assert f"[Decision memo]({NOTEBOOK}/memo.md): what I decided and why" in index
    assert "Risk sheet: not written yet" in index
    assert "## 91_not_run\n\n*Not run yet.*" in index
    assert (out / NOTEBOOK / "memo.md").read_text().startswith("# Decision: retrain")
    page = (out / "index.html").read_text()
    assert "<h1>Decision: retrain</h1>" in page and "<script" not in page


def test_a_notebook_saved_without_running_to_the_end_has_no_summary(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert portfolio.saved_summary(path) is None and portfolio.saved_summary(tmp_path / "missing.ipynb") is None
