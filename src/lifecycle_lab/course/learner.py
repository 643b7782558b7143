"""Build learner copies in notebooks/ from the solved notebooks in solutions/.

One source for every exercise (the INRIA MOOC's approach): a solution cell holds the answer between
`### BEGIN SOLUTION` and `### END SOLUTION`, and the stub a learner sees on lines starting `#> `.
The learner copy drops the answer, uncomments the stub and clears every output, so it still runs end
to end: the stub's blank answer makes the exercise's check say "not attempted yet" and the notebook
carries on with the reference result.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle_lab.base.errors import LifecycleLabError

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "#> "


class MarkerError(LifecycleLabError, ValueError):
    """A solution cell's exercise markers are unbalanced."""


def strip_solution(source: str, where: str = "cell") -> str:
    """Replace each marked answer by its stub; raise MarkerError naming the cell when markers don't pair."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{where}, line {number}: {BEGIN} inside another solution block")
            inside = True
            continue
        if stripped == END:
            if not inside:
                raise MarkerError(f"{where}, line {number}: {END} without a {BEGIN}")
            inside = False
            continue
        if inside:
            continue
        if stripped.startswith(STUB) or stripped == STUB.strip():
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + stripped[len(STUB):])
        else:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def learner_notebook(solution, notebook: str | None = None):
    """A learner copy (nbformat node) of a solution notebook node: answers stripped, outputs cleared.

    `notebook` (the solution's stem) is stamped into the copy's metadata, so the grader knows which
    notebook a renamed submission (`team7.ipynb`) is a copy of."""
    import copy

    nb = copy.deepcopy(solution)
    if notebook:
        nb.metadata["lifecycle_lab"] = {"notebook": notebook}
    for index, cell in enumerate(nb.cells):
        cell.pop("id", None)
        if cell.cell_type == "code":
            cell.source = strip_solution(cell.source, where=f"cell {index}")
            cell.outputs = []
            cell.execution_count = None
            for key in ("execution", "papermill", "collapsed", "scrolled"):
                cell.metadata.pop(key, None)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index:03d}"
    return nb


def render(solution_path: Path) -> str:
    """The learner copy of one solution notebook as the exact text written to notebooks/."""
    import nbformat

    nb = learner_notebook(nbformat.read(solution_path, as_version=4), solution_path.stem)
    return nbformat.writes(nb) + "\n"


TEXT_FOLDER = "text"
"""solutions/text/: each solution's source as a jupytext percent script, for review (a diff of .ipynb JSON
is hard to read). Generated like the learner copies, never edited: the notebook stays the single source."""


def text_twin(solution_path: Path) -> str:
    """A solution notebook's cells as a jupytext percent script (no outputs, no volatile metadata)."""
    import jupytext
    import nbformat

    nb = nbformat.read(solution_path, as_version=4)
    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {}),
                   "jupytext": {"notebook_metadata_filter": "-all", "cell_metadata_filter": "tags"}}
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
    return jupytext.writes(nb, fmt="py:percent")


def build(solutions: Path, notebooks: Path, check: bool = False) -> list[str]:
    """Write (or with check=True, compare) every learner copy and every solution's text twin
    (solutions/text/NN.py); return the names that were stale."""
    stale = []
    texts = solutions / TEXT_FOLDER
    notebooks.mkdir(parents=True, exist_ok=True)
    sources = sorted(solutions.glob("*.ipynb"))
    wanted = {p.name for p in sources}
    for path in sources:
        text = render(path)
        target = notebooks / path.name
        current = target.read_text() if target.exists() else None
        if current != text:
            stale.append(path.name)
            if not check:
                target.write_text(text)
        twin = texts / f"{path.stem}.py"
        script = text_twin(path)
        if (twin.read_text() if twin.exists() else None) != script:
            stale.append(f"{TEXT_FOLDER}/{twin.name}")
            if not check:
                texts.mkdir(parents=True, exist_ok=True)
                twin.write_text(script)
    for extra in sorted(notebooks.glob("*.ipynb")):
        if extra.name not in wanted:
            stale.append(extra.name + " (no solution)")
            if not check:
                extra.unlink()
    for extra in sorted(texts.glob("*.py")) if texts.is_dir() else []:
        if f"{extra.stem}.ipynb" not in wanted:
            stale.append(f"{TEXT_FOLDER}/{extra.name} (no solution)")
            if not check:
                extra.unlink()
    return stale
