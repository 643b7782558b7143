"""Learner copies: answers stripped, stubs kept, outputs cleared, committed copies current."""

import nbformat
import pytest

from lifecycle_lab.base import paths
from lifecycle_lab.course import learner

SOLVED = """ex = make()
### BEGIN SOLUTION
answer = 6 * 7
### END SOLUTION
#> answer = None  # your code
answer = ex.check(answer)"""


def test_strip_solution_keeps_stub_and_check():
    out = learner.strip_solution(SOLVED)
    assert out == "ex = make()\nanswer = None  # your code\nanswer = ex.check(answer)"
    assert "6 * 7" not in out


def test_stub_indentation_is_kept():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n    #> return None"
    assert learner.strip_solution(src) == "def f(x):\n    return None"


@pytest.mark.parametrize("src,msg", [
    ("### BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n### END SOLUTION", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
])
def test_unbalanced_markers_name_the_problem(src, msg):
    with pytest.raises(learner.MarkerError, match=msg):
        learner.strip_solution(src, where="cell 3")


def _solution_nb():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell(SOLVED, execution_count=4)
    code.outputs = [nbformat.v4.new_output("stream", text="all checks passed")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    return nb


def test_learner_notebook_clears_outputs():
    nb = learner.learner_notebook(_solution_nb())
    code = nb.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert "6 * 7" not in code.source


def test_build_and_check_detect_stale(tmp_path):
    sol, lrn = tmp_path / "solutions", tmp_path / "notebooks"
    sol.mkdir()
    nbformat.write(_solution_nb(), sol / "99_demo.ipynb")
    assert learner.build(sol, lrn, check=True) == ["99_demo.ipynb", "text/99_demo.py"]
    assert not (lrn / "99_demo.ipynb").exists()  # check mode writes nothing
    assert learner.build(sol, lrn) == ["99_demo.ipynb", "text/99_demo.py"]
    assert learner.build(sol, lrn, check=True) == []
    (sol / "text" / "99_demo.py").write_text("# edited by hand\n")
    assert learner.build(sol, lrn, check=True) == ["text/99_demo.py"]
    learner.build(sol, lrn)
    (lrn / "99_demo.ipynb").write_text((lrn / "99_demo.ipynb").read_text().replace("None", "42"))
    assert learner.build(sol, lrn, check=True) == ["99_demo.ipynb"]
    (lrn / "orphan.ipynb").write_text("{}")
    assert "orphan.ipynb (no solution)" in learner.build(sol, lrn, check=True)


def test_committed_learner_copies_are_current():
    stale = learner.build(paths.SOLUTIONS, paths.NOTEBOOKS, check=True)
    assert stale == [], f"stale learner copies: {stale}; run `make learner`"


def test_every_solution_has_exercises_and_parameters():
    for path in sorted(paths.SOLUTIONS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: first code cell must be tagged"
        n_ex = sum(learner.BEGIN in c.source for c in code)
        assert n_ex >= 3, f"{path.name} has {n_ex} exercises"
        assert all(c.execution_count is not None for c in code), f"{path.name}: solution outputs not stored"


def test_every_figure_of_a_solution_is_stored_as_an_image():
    """A learner reads solutions/ without running anything, and the site renders them: each cell that shows
    a figure must hold it as a PNG (a kernel under a non-inline backend, e.g. MPLBACKEND=Agg, stores none;
    notebooks therefore select the inline backend themselves)."""
    for path in sorted(paths.SOLUTIONS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        plotting = [i for i, c in enumerate(code) if "plt.show()" in c.source or "plt.subplots(" in c.source]
        assert plotting, f"{path.name} draws no figure"
        missing = [i for i in plotting if not any("image/png" in o.get("data", {}) for o in code[i].outputs)]
        assert missing == [], f"{path.name}: code cells {missing} draw a figure but store no image"
        assert any("%matplotlib inline" in c.source for c in code), f"{path.name}: select the inline backend"


def test_each_solution_has_a_text_twin_with_the_same_cells():
    """solutions/text/NN.py (jupytext percent) holds exactly the notebook's cells, for review in diffs."""
    import jupytext

    for path in sorted(paths.SOLUTIONS.glob("*.ipynb")):
        twin = paths.SOLUTIONS / "text" / f"{path.stem}.py"
        assert twin.exists(), f"{twin} is missing: run `make learner`"
        nb = nbformat.read(path, as_version=4)
        back = jupytext.reads(twin.read_text(), fmt="py:percent")
        assert [(c.cell_type, c.source) for c in back.cells] == [(c.cell_type, c.source) for c in nb.cells]
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        assert [c.metadata.get("tags", []) for c in back.cells] == tags
