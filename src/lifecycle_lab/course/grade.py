"""Grade submitted learner notebooks: execute each one and tally its exercise checks.

An instructor collects the teams' notebooks and runs `lifecycle-lab grade DIR_OR_FILES…`. Each notebook
is executed from scratch (so a stale output cannot pass), then every feedback line its checks printed is
read back: passed, failed, or not attempted, per exercise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FEEDBACK = re.compile(r"^\[(?P<name>[^\]]+)\] (?P<status>all checks passed|not attempted yet|not yet:)")
STATUS = {"all checks passed": "passed", "not attempted yet": "not attempted", "not yet:": "failed"}


@dataclass
class Grade:
    notebook: str
    exercises: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def count(self, status: str) -> int:
        return sum(1 for s in self.exercises.values() if s == status)


def feedback_statuses(notebook) -> dict[str, str]:
    """Exercise name -> passed / failed / not attempted, from an executed notebook's outputs (last wins)."""
    found: dict[str, str] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                match = FEEDBACK.match(line)
                if match:
                    found[match.group("name")] = STATUS[match.group("status")]
    return found


def grade(paths: list[Path], out_dir: Path) -> list[Grade]:
    import nbformat

    from .runner import run_notebook

    grades = []
    for path in paths:
        result = run_notebook(path, out_dir / path.stem, {}, progress=False)
        statuses = feedback_statuses(nbformat.read(result.output, as_version=4)) if result.output.exists() else {}
        grades.append(Grade(path.name, statuses, result.error))
    return grades


def format_grades(grades: list[Grade]) -> str:
    rows = [("notebook", "passed", "failed", "not attempted", "note")]
    for g in grades:
        rows.append((g.notebook, str(g.count("passed")), str(g.count("failed")), str(g.count("not attempted")),
                     g.error or ", ".join(f"{n}: {s}" for n, s in g.exercises.items() if s != "passed")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(widths[i]) if i < 4 else c for i, c in enumerate(r)) for r in rows)
