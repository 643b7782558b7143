"""Execute notebooks with papermill from one process (the CLI costs ~6 s a call; a call in-process ~1 s)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .summary import read_summary


class NotebookFailed(RuntimeError):
    """A notebook stopped with an error: names the notebook, the cell and the error."""


class UnknownParameter(ValueError):
    """A parameter was passed that the notebook does not declare."""


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


def _cell_error(err, path: Path) -> str:
    cell = getattr(err, "cell_index", None)
    count = getattr(err, "exec_count", None)
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    where = f"cell {cell}" if cell is not None else "a cell"
    if count is not None:
        where += f" (In [{count}])"
    return f"{path.name} failed at {where}: {ename}: {evalue}"


def run_notebook(path: Path, out_dir: Path, parameters: dict | None = None, *, progress: bool = True,
                 timeout: int = 900) -> RunResult:
    """Execute one notebook into out_dir with papermill; never raises for a notebook error, reports it."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    parameters = dict(parameters or {})
    declared = declared_parameters(path)
    unknown = sorted(set(parameters) - set(declared))
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
                                   progress_bar=progress, cwd=str(path.parent), execution_timeout=timeout)
    except PapermillExecutionError as err:
        error = _cell_error(err, path)
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
