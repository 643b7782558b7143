"""What an instructor sees after grading: who is where, and where the room is stuck.

Read from the grader's own results (`grades.json`, written by `lifecycle-lab grade`), never from text a
notebook printed. Three views of the same records:

- a learner x exercise matrix (status, attempts, hints used, solution viewed) as a CSV, a terminal table
  and an HTML page with one chart per exercise (how many learners passed, failed, did not attempt it, or
  submitted the reference; mean attempts and hints);
- a gradebook CSV that common learning-management systems import (one row per learner, one column per
  exercise and a total), with the grading rule written into the column headers.
"""

from __future__ import annotations

import base64
import csv
import html
import io
from dataclasses import dataclass
from pathlib import Path

from lifecycle_lab.course.grade import FAILED, PASSED, REFERENCE, STATUSES, UNATTEMPTED, Grade, read_grades

SHORT = {PASSED: "pass", FAILED: "FAIL", UNATTEMPTED: "-", REFERENCE: "ref"}
COLOURS = {PASSED: "tab:green", FAILED: "tab:red", UNATTEMPTED: "tab:gray", REFERENCE: "tab:orange"}
POINTS = {PASSED: 1, FAILED: 0, UNATTEMPTED: 0, REFERENCE: 0}
RULE = ("1 point per exercise passed; failed, not attempted and reference submitted (the exercise's own answer "
        "handed in) score 0")


@dataclass(frozen=True)
class Row:
    """One learner's result on one exercise."""

    learner: str
    notebook: str
    exercise: str
    title: str
    status: str
    attempts: int
    hints: int
    solution_viewed: bool


def who(grade: Grade) -> str:
    """The learner a grade belongs to: the roster/folder name, else the submission file's stem."""
    return grade.learner or Path(grade.submission).stem


def rows(grades: list[Grade]) -> list[Row]:
    """Every (learner, exercise) of every submission that could be graded, in notebook and exercise order."""
    out = []
    for g in grades:
        for var, e in g.exercises.items():
            out.append(Row(who(g), g.notebook, var, e.title, e.status, e.attempts, e.hints, e.solution_viewed))
    return out


def columns(grades: list[Grade]) -> list[tuple[str, str, str]]:
    """(notebook, exercise, title) of every exercise any submission has, in order."""
    seen: dict[tuple[str, str], str] = {}
    for g in grades:
        for var, e in g.exercises.items():
            seen.setdefault((g.notebook, var), e.title)
    return [(nb, var, title) for (nb, var), title in sorted(seen.items(), key=lambda k: (k[0][0], int(k[0][1][2:])))]


def learners(grades: list[Grade]) -> list[str]:
    return sorted({who(g) for g in grades})


def write_progress_csv(grades: list[Grade], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["learner", "notebook", "exercise", "title", "status", "attempts", "hints_used",
                         "solution_viewed"])
        for r in rows(grades):
            writer.writerow([r.learner, r.notebook, r.exercise, r.title, r.status, r.attempts, r.hints,
                             "yes" if r.solution_viewed else "no"])
    return path


def _cell(rows_by_key: dict, learner: str, nb: str, var: str) -> Row | None:
    return rows_by_key.get((learner, nb, var))


def terminal_table(grades: list[Grade]) -> str:
    """The matrix as fixed-width text: one line per learner, one column per exercise (h = hints used,
    s = solution viewed), and the learner's total."""
    cols = columns(grades)
    by_key = {(r.learner, r.notebook, r.exercise): r for r in rows(grades)}
    heads = [f"{nb[:2]}.{var}" for nb, var, _ in cols]
    names = learners(grades)
    width = max([len("learner")] + [len(n) for n in names])
    lines = ["  ".join(["learner".ljust(width), *[h.ljust(8) for h in heads], "passed"])]
    for name in names:
        cells, passed = [], 0
        for nb, var, _ in cols:
            r = _cell(by_key, name, nb, var)
            if r is None:
                cells.append("".ljust(8))
                continue
            mark = SHORT[r.status] + (f" h{r.hints}" if r.hints else "") + (" s" if r.solution_viewed else "")
            cells.append(mark.ljust(8))
            passed += r.status == PASSED
        lines.append("  ".join([name.ljust(width), *cells, f"{passed}/{len(cols)}"]))
    errors = [f"{g.submission}: {g.error}" for g in grades if g.error]
    if errors:
        lines += ["", "could not be (fully) graded:"] + [f"  {e}" for e in errors]
    return "\n".join(lines)


def write_gradebook(grades: list[Grade], path: Path) -> Path:
    """One row per learner, one column per exercise (points) and a total; the rule is in the headers so the
    file explains itself once imported into an LMS gradebook."""
    cols = columns(grades)
    by_key = {(r.learner, r.notebook, r.exercise): r for r in rows(grades)}
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["learner"] + [f"{nb[:2]} {var} {title} [max 1]" for nb, var, title in cols]
                        + [f"Total [max {len(cols)}; {RULE}]"])
        for name in learners(grades):
            points = []
            for nb, var, _ in cols:
                r = _cell(by_key, name, nb, var)
                points.append(POINTS[r.status] if r is not None else 0)
            writer.writerow([name, *points, sum(points)])
    return path


def _exercise_chart(title: str, statuses: list[str], attempts: list[int], hints: list[int]) -> str:
    """One exercise's chart as an inline PNG (data URI): learners per outcome."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = [statuses.count(s) for s in STATUSES]
    fig, ax = plt.subplots(figsize=(5.2, 1.9))
    ax.barh(list(STATUSES), counts, color=[COLOURS[s] for s in STATUSES])
    ax.invert_yaxis()
    ax.set_xlabel("learners (count)")
    ax.set_title(title, fontsize=10)
    mean_attempts = sum(attempts) / len(attempts) if attempts else 0
    mean_hints = sum(hints) / len(hints) if hints else 0
    ax.text(0.99, 0.05, f"mean attempts {mean_attempts:.1f}, hints {mean_hints:.1f}", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8)
    ax.set_xlim(0, max(counts + [1]) * 1.15)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def write_html(grades: list[Grade], path: Path) -> Path:
    """The matrix and a chart per exercise in one self-contained HTML page (no script, nothing fetched)."""
    cols = columns(grades)
    all_rows = rows(grades)
    by_key = {(r.learner, r.notebook, r.exercise): r for r in all_rows}
    head = "".join(f"<th title='{html.escape(t)}'>{html.escape(nb[:2])} {html.escape(v)}</th>" for nb, v, t in cols)
    body = []
    for name in learners(grades):
        cells = []
        for nb, var, _ in cols:
            r = _cell(by_key, name, nb, var)
            if r is None:
                cells.append("<td></td>")
                continue
            note = f" (attempts {r.attempts}, hints {r.hints}{', solution viewed' if r.solution_viewed else ''})"
            cells.append(f"<td class='{r.status.replace(' ', '-')}' title='{html.escape(r.status + note)}'>"
                         f"{html.escape(SHORT[r.status])}{' h' + str(r.hints) if r.hints else ''}"
                         f"{' s' if r.solution_viewed else ''}</td>")
        body.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
    charts = []
    for nb, var, title in cols:
        mine = [r for r in all_rows if r.notebook == nb and r.exercise == var]
        src = _exercise_chart(f"{nb[:2]} {var} {title}", [r.status for r in mine], [r.attempts for r in mine],
                              [r.hints for r in mine])
        charts.append(f"<figure><img src='{src}' alt='outcomes of {html.escape(nb + ' ' + var)}'></figure>")
    errors = "".join(f"<li>{html.escape(g.submission)}: {html.escape(g.error)}</li>" for g in grades if g.error)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Workshop progress</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;
padding:2px 6px;text-align:center}}td.passed{{background:#d4f4d4}}td.failed{{background:#f8d0d0}}
td.not-attempted{{background:#eee}}td.reference-submitted{{background:#fde3c0}}figure{{display:inline-block;
margin:4px}}</style></head><body>
<h1>Workshop progress</h1>
<p>{len(learners(grades))} learners, {len(cols)} exercises. pass = passed, FAIL = failed, - = not attempted, ref =
the exercise's reference answer handed in; h<i>n</i> = hints used, s = solution viewed. Read from the grader's own
results: every answer was re-judged outside the learner's kernel.</p>
<table><tr><th>learner</th>{head}</tr>{''.join(body)}</table>
{f'<h2>Not (fully) graded</h2><ul>{errors}</ul>' if errors else ''}
<h2>Where the room is stuck</h2>
{''.join(charts)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def report(source: Path, out: Path | None = None) -> dict[str, Path]:
    """All views of a grading run: `source` is grades.json or the folder holding it."""
    path = source / "grades.json" if source.is_dir() else source
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `lifecycle-lab grade ... --out {source}` first")
    grades = read_grades(path)
    out = out or path.parent
    out.mkdir(parents=True, exist_ok=True)
    return {"csv": write_progress_csv(grades, out / "progress.csv"), "html": write_html(grades, out / "progress.html"),
            "gradebook": write_gradebook(grades, out / "gradebook.csv")}
