"""Grade submitted learner notebooks: execute each one and tally its exercise checks.

An instructor collects the teams' notebooks and runs `lifecycle-lab grade DIR_OR_FILES…`. Each notebook
is executed from scratch (so a stale output cannot pass). Every exercise check run during that execution
writes its outcome to a ledger (see `exercises.core.CHECK_LOG_ENV`); the grade is read from the ledger,
so a cell that merely prints "all checks passed" earns nothing. Per exercise: passed, failed, or not
attempted (the last outcome of a check run twice counts).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle_lab.course.runner import run_notebook
from lifecycle_lab.exercises.core import CHECK_LOG_ENV, CORRECT, INCORRECT, NOT_ATTEMPTED

STATUS = {CORRECT: "passed", INCORRECT: "failed", NOT_ATTEMPTED: "not attempted"}


@dataclass
class Grade:
    notebook: str
    exercises: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def count(self, status: str) -> int:
        return sum(1 for s in self.exercises.values() if s == status)


def read_ledger(path: Path) -> dict[str, str]:
    """Exercise name -> passed / failed / not attempted, from a check ledger (last outcome wins)."""
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            found[record["exercise"]] = STATUS[record["status"]]
    return found


def grade(paths: list[Path], out_dir: Path) -> list[Grade]:

    grades = []
    for path in paths:
        ledger = out_dir / path.stem / "checks.jsonl"
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.unlink(missing_ok=True)
        previous = os.environ.get(CHECK_LOG_ENV)
        os.environ[CHECK_LOG_ENV] = str(ledger.resolve())  # the kernel inherits it
        try:
            result = run_notebook(path, out_dir / path.stem, {}, progress=False)
        finally:
            if previous is None:
                os.environ.pop(CHECK_LOG_ENV, None)
            else:
                os.environ[CHECK_LOG_ENV] = previous
        grades.append(Grade(path.name, read_ledger(ledger), result.error))
    return grades


def format_grades(grades: list[Grade]) -> str:
    rows = [("notebook", "passed", "failed", "not attempted", "note")]
    for g in grades:
        rows.append((g.notebook, str(g.count("passed")), str(g.count("failed")), str(g.count("not attempted")),
                     g.error or ", ".join(f"{n}: {s}" for n, s in g.exercises.items() if s != "passed")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(widths[i]) if i < 4 else c for i, c in enumerate(r)) for r in rows)
