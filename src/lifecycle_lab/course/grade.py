"""Grade submitted learner notebooks so that nothing in a learner's kernel can forge a grade.

An instructor collects the teams' notebooks and runs `lifecycle-lab grade DIR_OR_FILES…`. For each one:

1. The notebook it is a copy of is identified (its metadata, else its file name) and its parameters are
   read from its parameters cell and validated with the notebook's declaration (a roster may fix the seed).
2. The submission is executed from scratch with those parameters. Every exercise check it runs appends the
   learner's *answer* (a serialisable record, not a verdict) to a ledger, as do hints and solution views.
3. The solution notebook is executed in a separate kernel with the same parameters; at its end the
   grader's own exercise objects, built from the same data, re-judge every recorded answer. So a ledger
   line written by hand, an `ex4.evaluate` replaced in the learner's kernel, or a verdict printed by a cell
   change nothing: only an answer that the reference checks accept passes.
4. Every exercise the notebook declares is tallied: passed, failed, not attempted (also when its cell was
   deleted), or "reference submitted" (`exN.check(exN.reference)`); with attempts, hints and whether the
   written solution was viewed.

What this cannot prevent, and says so: a learner who copies an answer from the solution notebook passes, as
a learner who copies a neighbour's would. The grade records what was checked, not who thought of it.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from lifecycle_lab.base import paths
from lifecycle_lab.course.runner import run_notebook, unreadable
from lifecycle_lab.exercises.core import CHECK_LOG_ENV, CORRECT, INCORRECT, NOT_ATTEMPTED
from lifecycle_lab.projects import PROJECTS, project_for

PASSED, FAILED, UNATTEMPTED, REFERENCE = "passed", "failed", "not attempted", "reference submitted"
STATUS = {CORRECT: PASSED, INCORRECT: FAILED, NOT_ATTEMPTED: UNATTEMPTED}
STATUSES = (PASSED, FAILED, UNATTEMPTED, REFERENCE)


@dataclass
class ExerciseGrade:
    """One exercise of one submission, as the grader judged it."""

    var: str
    title: str
    status: str = UNATTEMPTED
    attempts: int = 0
    hints: int = 0
    solution_viewed: bool = False
    detail: str = ""


@dataclass
class Grade:
    """The grade of one submitted notebook."""

    submission: str
    notebook: str = ""
    parameters: dict = field(default_factory=dict)
    exercises: dict[str, ExerciseGrade] = field(default_factory=dict)
    error: str = ""
    learner: str = ""

    def count(self, status: str) -> int:
        return sum(1 for e in self.exercises.values() if e.status == status)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["exercises"] = [asdict(e) for e in self.exercises.values()]
        return data

    @classmethod
    def from_dict(cls, data: Mapping) -> "Grade":
        exercises = {e["var"]: ExerciseGrade(**e) for e in data.get("exercises", [])}
        return cls(data["submission"], data.get("notebook", ""), dict(data.get("parameters", {})), exercises,
                   data.get("error", ""), data.get("learner", ""))


# -- which notebook, which parameters ----------------------------------------------------------------------

def identify(nb, path: Path) -> str:
    """The solution notebook a submission is a copy of: its metadata, else a file name starting `NN_`."""
    stem = (nb.metadata.get("lifecycle_lab") or {}).get("notebook")
    if stem in PROJECTS:
        return stem
    for known in PROJECTS:
        number = known.split("_", 1)[0]
        if path.stem == known or path.stem.startswith(number + "_") or path.stem.startswith(known):
            return known
    raise LookupError(f"{path.name}: cannot tell which notebook this is (no lifecycle_lab metadata and the file "
                      f"name does not start with a notebook number such as 01_); rename it e.g. "
                      f"01_{path.stem}.ipynb")


def submitted_parameters(nb, project, overrides: Mapping[str, Any] | None = None) -> dict:
    """The parameter values of a submission's parameters cell (literals only), validated with the
    notebook's declaration; `overrides` (a roster's seed) win."""
    cell = next((c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])), None)
    values: dict[str, Any] = {}
    if cell is not None:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as err:
            raise ValueError(f"the parameters cell is not valid Python ({err.msg}, line {err.lineno})") from None
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if name in project.PARAMETERS:
                    try:
                        values[name] = ast.literal_eval(node.value)
                    except ValueError:
                        raise ValueError(f"parameter {name} in the parameters cell is not a plain value "
                                         f"(write e.g. {name} = 42)") from None
    values.update(overrides or {})
    values.pop("output_dir", None)  # the grader chooses where files go
    return project.PARAMETERS.check_overrides(values).as_dict()


# -- the ledger, read and judged in the reference kernel ------------------------------------------------

def read_ledger(path: Path) -> list[dict]:
    """The events of a ledger; a malformed line (a learner's hand-written one) is skipped, not trusted."""
    events = []
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and isinstance(event.get("exercise"), str):
                events.append(event)
    return events


def judge_events(project_name: str, events: list[dict]) -> dict[str, dict]:
    """Re-judge recorded answers with the exercises built in THIS process (the grader's reference kernel)."""
    project = project_for(project_name)
    built = project.EXERCISES.built()
    result = {}
    for spec in project.EXERCISES:
        mine = [e for e in events if e["exercise"] == spec.var]
        grade = ExerciseGrade(spec.var, spec.title)
        grade.hints = max([int(e.get("n", 0)) for e in mine if e.get("event") == "hint" and
                           isinstance(e.get("n"), int)] or [0])
        grade.solution_viewed = any(e.get("event") == "solution" for e in mine)
        checks = [e for e in mine if e.get("event") == "check" and "record" in e]
        exercise = built.get(spec.var)
        if exercise is None:
            grade.detail = "the reference run did not build this exercise"
        for event in checks:
            if exercise is None:
                break
            try:
                feedback = exercise.judge(event["record"])
            except Exception as exc:  # a malformed record: the answer cannot be read, so it does not pass
                status, detail = FAILED, f"unreadable answer ({type(exc).__name__})"
            else:
                status = STATUS[feedback.status]
                detail = "; ".join(feedback.problems[:2])
            if status != UNATTEMPTED:
                grade.attempts += 1
            if status == PASSED and event.get("reference_submitted"):
                status, detail = REFERENCE, "the answer given was the exercise's own reference result"
            grade.status, grade.detail = status, detail  # the last check counts
        result[spec.var] = asdict(grade)
    return result


def judge_ledgers(project_name: str, ledgers: Mapping[str, str], out: str) -> None:
    """Run by the grader at the end of the reference notebook: judge every submission's ledger, write JSON."""
    results = {name: judge_events(project_name, read_ledger(Path(path))) for name, path in ledgers.items()}
    Path(out).write_text(json.dumps(results, indent=1), encoding="utf-8")


# -- the whole run ---------------------------------------------------------------------------------------

def _with_output(parameters: Mapping[str, Any], folder: Path) -> dict:
    params = {k: v for k, v in parameters.items() if k != "output_dir"}
    if "output_dir" in parameters:
        params["output_dir"] = str(folder.resolve())
    return params


def _with_judging_cell(solution: Path, project_name: str, ledgers: Mapping[str, str], out: Path, folder: Path):
    import nbformat

    nb = nbformat.read(solution, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from lifecycle_lab.course.grade import judge_ledgers\n"
        f"judge_ledgers({project_name!r}, {dict(ledgers)!r}, {str(out)!r})"))
    path = folder / solution.name
    nbformat.write(nb, path)
    return path


def grade(paths_: list[Path], out_dir: Path, *, overrides: Mapping[Path, Mapping[str, Any]] | None = None,
          learners: Mapping[Path, str] | None = None, solutions: Path | None = None) -> list[Grade]:
    """Grade submissions (see the module docstring). `overrides[path]` fixes parameters (a roster's seed);
    `learners[path]` names who submitted it (their folder); `solutions` is the folder of the reference
    notebooks (default the workbook's solutions/)."""
    import nbformat

    out_dir.mkdir(parents=True, exist_ok=True)
    grades: list[Grade] = []
    groups: dict[tuple[str, str], list[tuple[Grade, Path]]] = {}
    for path in paths_:
        learner = (learners or {}).get(path, "")
        g = Grade(f"{learner}/{path.name}" if learner else path.name, learner=learner)
        grades.append(g)
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # noqa: BLE001 - cut short, not JSON: that row fails, the others go on
            g.error = unreadable(err, path)
            continue
        try:
            g.notebook = identify(nb, path)
            project = project_for(g.notebook)
            g.parameters = submitted_parameters(nb, project, (overrides or {}).get(path))
        except Exception as err:  # noqa: BLE001 - one unreadable submission must not stop the others
            g.error = f"{path.name}: {err}" if not str(err).startswith(path.name) else str(err)
            continue
        g.exercises = {s.var: ExerciseGrade(s.var, s.title) for s in project.EXERCISES}
        work = out_dir / learner / path.stem if learner else out_dir / path.stem
        ledger = work / "checks.jsonl"
        ledger.parent.mkdir(parents=True, exist_ok=True)
        ledger.unlink(missing_ok=True)
        params = _with_output(g.parameters, work / "outputs")
        previous = os.environ.get(CHECK_LOG_ENV)
        os.environ[CHECK_LOG_ENV] = str(ledger.resolve())  # the learner's kernel inherits it
        try:
            run = run_notebook(path, work, params, progress=False)
        finally:
            if previous is None:
                os.environ.pop(CHECK_LOG_ENV, None)
            else:
                os.environ[CHECK_LOG_ENV] = previous
        g.error = run.error
        key = json.dumps(g.parameters, sort_keys=True, default=str)
        groups.setdefault((g.notebook, key), []).append((g, ledger))

    for (notebook, _), members in groups.items():
        project_name = project_for(notebook).__name__
        folder = Path(tempfile.mkdtemp(prefix="reference-", dir=out_dir))
        results = folder / "judged.json"
        ledgers = {g.submission: str(ledger.resolve()) for g, ledger in members}
        reference = _with_judging_cell((solutions or paths.SOLUTIONS) / f"{notebook}.ipynb", project_name, ledgers,
                                       results.resolve(), folder)
        params = _with_output(members[0][0].parameters, folder / "outputs")
        run = run_notebook(reference, folder, params, progress=False, cwd=solutions or paths.SOLUTIONS)
        judged = json.loads(results.read_text()) if results.exists() else {}
        for g, _ in members:
            if g.submission not in judged:
                g.error = (g.error + "; " if g.error else "") + (
                    f"the reference run failed, nothing could be judged: {run.error}")
                continue
            for var, data in judged[g.submission].items():
                g.exercises[var] = ExerciseGrade(**data)
    return grades


def format_grades(grades: list[Grade]) -> str:
    """A terminal table: one row per submission, counts per status, and what was not passed."""
    rows = [("submission", "passed", "failed", "not attempted", "reference", "note")]
    for g in grades:
        note = g.error or ", ".join(f"{v}: {e.status}" + (" (solution viewed)" if e.solution_viewed else "")
                                    for v, e in g.exercises.items() if e.status != PASSED)
        rows.append((g.submission, str(g.count(PASSED)), str(g.count(FAILED)), str(g.count(UNATTEMPTED)),
                     str(g.count(REFERENCE)), note))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(widths[i]) if i < 5 else c for i, c in enumerate(r)) for r in rows)


def write_grades(grades: list[Grade], path: Path) -> Path:
    """The grader's results as JSON (what `lifecycle-lab progress` and the gradebook read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([g.to_dict() for g in grades], indent=1), encoding="utf-8")
    return path


def read_grades(path: Path) -> list[Grade]:
    return [Grade.from_dict(d) for d in json.loads(Path(path).read_text(encoding="utf-8"))]
