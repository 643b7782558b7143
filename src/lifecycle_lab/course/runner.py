"""Execute notebooks with papermill from one process: one set of imports, one Python start-up, and a
cheaper call per notebook than the papermill CLI (bench/RESULTS-foundation.md: ~1.0 s against ~1.6 s)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.course.summary import read_summary
from lifecycle_lab.projects import project_for


class NotebookFailed(LifecycleLabError, RuntimeError):
    """A notebook stopped with an error: names the notebook, the cell and the error."""


class UnknownParameter(LifecycleLabError, ValueError):
    """A parameter the notebook does not declare, or a value its declaration refuses (checked before a kernel
    starts)."""


@dataclass
class RunResult:
    notebook: str
    status: str
    seconds: float
    output: Path
    summary: dict | None = None
    error: str = ""
    parameters: dict = field(default_factory=dict)

    @property
    def headline(self) -> str:
        if self.error:
            return self.error
        return (self.summary or {}).get("headline", "(no summary printed)")


def declared_parameters(path: Path) -> dict[str, Any]:
    """The names and defaults of the notebook's `parameters` cell."""
    import papermill

    info = papermill.inspect_notebook(str(path))
    return {name: spec.get("default") for name, spec in info.items()}


def _source_cell(output: Path, executed_index: int | None) -> tuple[int | None, str]:
    """The failing cell's index in the *source* notebook, and its first line.

    papermill inserts an `injected-parameters` cell into the executed copy; counting it would make every
    later cell number one too high for a reader looking at the notebook they ran."""
    if executed_index is None or not output.exists():
        return executed_index, ""
    import nbformat

    # papermill's own error banners are added after execution; the index counts the cells as executed
    cells = [c for c in nbformat.read(output, as_version=4).cells
             if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]
    if not 0 <= executed_index < len(cells):
        return executed_index, ""
    injected = sum(1 for c in cells[:executed_index] if "injected-parameters" in c.metadata.get("tags", []))
    first = next((line.strip() for line in cells[executed_index].source.splitlines() if line.strip()), "")
    return executed_index - injected, first


def _cell_error(err, path: Path, output: Path) -> str:
    cell, first = _source_cell(output, getattr(err, "cell_index", None))
    count = getattr(err, "exec_count", None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    where = f"cell {cell}" if cell is not None else "a cell"
    if count is not None:
        where += f" (In [{count}])"
    if first:
        where += f", which starts `{first[:60]}`"
    return f"{path.name} failed at {where}: {ename}: {evalue}"


def _stopped(err: Exception, path: Path, output: Path, timeout: int) -> str:
    """A run that did not end with a cell's own error: a timeout, a dead kernel, a missing kernel."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if isinstance(err, CellTimeoutError):
        return (f"{path.name}: a cell ran longer than {timeout} s and was stopped; run it in JupyterLab to "
                f"see which, or run it with smaller sizes (`lifecycle-lab run {path.stem} --fast`, "
                f"or the parameter fast=True)")
    if isinstance(err, DeadKernelError):
        return (f"{path.name}: the kernel died (out of memory, or a crash in a library); the partial output "
                f"is in {output}: close other notebooks and run it again, or with `--fast` for smaller sizes")
    return (f"{path.name} could not be executed: {type(err).__name__}: {err}; check that `make env` completed "
            f"(it installs the python3 kernel) and that the notebook opens in JupyterLab")


def unreadable(err: Exception, path: Path) -> str:
    """A file that papermill cannot even open as a notebook (cut short, not JSON, another format)."""
    first = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
    return (f"{path.name} is not a readable notebook ({type(err).__name__}: {first[:120]}); save it "
            f"again from JupyterLab, or copy it once more if it was cut short")


def check_parameters(path: Path, parameters: Mapping[str, Any]) -> None:
    """Refuse unknown names and values the notebook's declaration refuses, before any kernel starts.

    A notebook of a practice project is checked against its declaration (`projects.pNN.PARAMETERS`:
    types, bounds, files, feasibility); any other notebook against the names of its parameters cell."""
    try:
        project = project_for(path.stem)
    except KeyError:
        return
    try:
        project.PARAMETERS.check_overrides({k: v for k, v in parameters.items()})
    except ParameterError as err:
        raise UnknownParameter(f"{path.name}: {err}") from None


def run_notebook(path: Path, out_dir: Path, parameters: dict | None = None, *, progress: bool = True,
                 timeout: int = 900, cwd: Path | None = None) -> RunResult:
    """Execute one notebook into out_dir with papermill; never raises for a notebook error, reports it.

    Parameters are checked first (`check_parameters`): a refused value raises `UnknownParameter` at once."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    parameters = dict(parameters or {})
    try:
        declared = declared_parameters(path)
    except Exception as err:  # noqa: BLE001 - not JSON, not a notebook: one bad file must not stop the others
        return RunResult(path.stem, "failed", 0.0, out_dir / path.name, None, unreadable(err, path), parameters)
    unknown = sorted(set(parameters) - set(declared))
    if not unknown:
        check_parameters(path, parameters)
    if unknown:
        raise UnknownParameter(f"{path.name} has no parameter {', '.join(unknown)}; "
                               f"it declares: {', '.join(sorted(declared)) or '(none)'}")
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / path.name
    nb_out = out_dir / path.stem
    if "output_dir" in declared and "output_dir" not in parameters:
        parameters["output_dir"] = str(nb_out.resolve())
    start = time.perf_counter()
    error = ""
    try:
        papermill.execute_notebook(str(path), str(output), parameters=parameters, kernel_name="python3",
                                   progress_bar=progress, cwd=str(cwd or path.parent), execution_timeout=timeout)
    except PapermillExecutionError as err:
        error = _cell_error(err, path, output)
    except Exception as err:  # noqa: BLE001 - one broken notebook must not hide the others' results
        error = _stopped(err, path, output, timeout)
    seconds = time.perf_counter() - start
    summary = None
    if output.exists():
        import nbformat

        summary = read_summary(nbformat.read(output, as_version=4))
    return RunResult(path.stem, "failed" if error else "ok", seconds, output, summary, error, parameters)


def format_table(results: list[RunResult]) -> str:
    """The summary table the course run prints: notebook, status, seconds, headline result."""
    rows = [("notebook", "status", "seconds", "headline result")]
    rows += [(r.notebook, r.status, f"{r.seconds:.1f}", r.headline) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) if j < 3 else cell for j, cell in enumerate(row)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 15)
    return "\n".join(lines)
