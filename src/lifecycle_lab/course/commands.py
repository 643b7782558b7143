"""Sub-commands that run the workbook: run, learner, refresh."""

from __future__ import annotations

import sys
from pathlib import Path

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import UsageError
from lifecycle_lab.course.grade import format_grades, grade, read_grades, write_grades
from lifecycle_lab.course.learner import MarkerError, build
from lifecycle_lab.course.progress import report as progress_report
from lifecycle_lab.course.progress import terminal_table
from lifecycle_lab.course.roster import RosterError, read_roster
from lifecycle_lab.course.runner import UnknownParameter, format_table, run_notebook


def register(sub) -> None:
    run = sub.add_parser("run", help="execute notebooks with papermill and print a summary table")
    run.add_argument("names", nargs="*", help="notebook names or prefixes, e.g. 00 or 01_beginner_ticket_classifier")
    run.add_argument("--all", action="store_true", help="run every notebook")
    run.add_argument("--learner", action="store_true", help="run the learner copies in notebooks/ instead of solutions/")
    run.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                     help="set a notebook parameter (YAML value: 3, 0.5, true, text); repeatable")
    run.add_argument("--seed", type=int, help="shorthand for -p seed=N")
    run.add_argument("--fast", action="store_true", help="shorthand for -p fast=true (small sizes)")
    run.add_argument("--out", default=str(paths.BUILD / "course"), help="output folder (default build/course)")
    run.add_argument("--no-progress", action="store_true", help="hide the per-cell progress bar")
    run.add_argument("--roster", metavar="CSV", help="run for every learner of a roster, each with their own "
                     "seed, into OUT/<learner>/")
    run.set_defaults(handler=cmd_run)

    learner = sub.add_parser("learner", help="build the learner copies in notebooks/ from solutions/")
    learner.add_argument("--check", action="store_true", help="fail if the committed copies are stale")
    learner.set_defaults(handler=cmd_learner)

    refresh = sub.add_parser("refresh", help="re-execute solution notebooks in place (updates committed outputs)")
    refresh.add_argument("names", nargs="*", help="notebook names or prefixes (default: all)")
    refresh.set_defaults(handler=cmd_refresh)

    grade = sub.add_parser("grade", help="execute submitted learner notebooks and tally their exercise checks")
    grade.add_argument("paths", nargs="+", help="notebook files, or folders holding them (a sub-folder per "
                       "learner: DIR/<learner>/*.ipynb)")
    grade.add_argument("--roster", metavar="CSV", help="learners and their seeds: each submission is judged with "
                       "its learner's seed")
    grade.add_argument("--out", default=str(paths.BUILD / "grading"),
                       help="where executed copies and the results (grades.json) go")
    grade.add_argument("--solutions", default=str(paths.SOLUTIONS),
                       help="folder of the reference notebooks (default: the workbook's solutions/)")
    grade.set_defaults(handler=cmd_grade)

    progress = sub.add_parser("progress", help="the instructor's views of a grading run: learner x exercise "
                              "matrix (CSV, table, HTML with a chart per exercise) and an LMS gradebook CSV")
    progress.add_argument("source", help="the --out folder of `lifecycle-lab grade` (or its grades.json)")
    progress.add_argument("--out", help="where to write progress.csv, progress.html, gradebook.csv "
                          "(default: next to grades.json)")
    progress.set_defaults(handler=cmd_progress)


def parse_params(pairs: list[str]) -> dict:
    """`key=value` strings to a dict, values read as YAML scalars (papermill's -y convention)."""
    import yaml

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"parameter {pair!r} must look like key=value, e.g. -p seed=7")
        try:
            params[key.strip()] = yaml.safe_load(value) if value != "" else ""
        except yaml.YAMLError:
            params[key.strip()] = value
    return params


def select(folder: Path, names: list[str], everything: bool) -> list[Path]:
    available = sorted(folder.glob("*.ipynb"))
    if everything or not names:
        if not everything:
            raise UsageError("name a notebook (e.g. `run 00`) or pass --all; available: "
                             + ", ".join(p.stem for p in available))
        return available
    chosen = []
    for name in names:
        hits = [p for p in available if p.stem == name or p.stem.startswith(name)]
        if not hits:
            raise UsageError(f"no notebook matches {name!r} in {folder}; available: "
                             + ", ".join(p.stem for p in available))
        chosen += [h for h in hits if h not in chosen]
    return chosen


def cmd_run(args) -> int:
    params = parse_params(args.param)
    if args.seed is not None:
        params["seed"] = args.seed
    if args.fast:
        params["fast"] = True
    folder = paths.NOTEBOOKS if args.learner else paths.SOLUTIONS
    notebooks = select(folder, args.names, args.all)
    out = Path(args.out)
    runs = [(out, params, "")]
    if args.roster:
        if "seed" in params:
            raise UsageError("--roster gives every learner their own seed: drop --seed / -p seed=")
        try:
            runs = [(out / entry.learner, {**params, "seed": entry.seed}, f"{entry.learner} (seed {entry.seed}) ")
                    for entry in read_roster(args.roster)]
        except RosterError as err:
            raise UsageError(str(err)) from None
    results = []
    total = len(runs) * len(notebooks)
    for target, values, who in runs:
        for path in notebooks:
            print(f"[{len(results) + 1}/{total}] {who}{path.stem}", flush=True)
            try:
                result = run_notebook(path, target, values, progress=not args.no_progress)
            except UnknownParameter as err:
                raise UsageError(str(err)) from None
            if result.error:
                copy = f"\n  executed copy with the error: {result.output}" if result.output.exists() else ""
                print(f"  FAILED: {result.error}{copy}", file=sys.stderr)
            if who:
                result.notebook = f"{who.split()[0]}/{result.notebook}"
            results.append(result)
    print()
    print(format_table(results))
    print(f"\nexecuted notebooks and their outputs: {out}")
    return 1 if any(r.status != "ok" for r in results) else 0


def cmd_learner(args) -> int:
    try:
        stale = build(paths.SOLUTIONS, paths.NOTEBOOKS, check=args.check)
    except MarkerError as err:
        print(f"lifecycle-lab learner: {err}", file=sys.stderr)
        return 1
    if args.check:
        if stale:
            print("stale learner copies (run `make learner` and commit notebooks/): " + ", ".join(stale),
                  file=sys.stderr)
            return 1
        print("learner copies are up to date")
        return 0
    print("rebuilt: " + (", ".join(stale) if stale else "nothing (all up to date)"))
    return 0


def cmd_refresh(args) -> int:
    """Execute solutions in place with nbclient, so their committed outputs match the code."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    notebooks = select(paths.SOLUTIONS, args.names, not args.names)
    failed = 0
    for path in notebooks:
        print(f"refreshing {path.name} ...", flush=True)
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            print(f"  FAILED {path.name}: {str(err).strip().splitlines()[-1] if str(err).strip() else err}; "
                  f"the committed notebook is left as it was", file=sys.stderr)
            failed += 1
            continue
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nbformat.write(nb, path)
    return 1 if failed else 0


def submissions(names: list[str]) -> dict[Path, str]:
    """Notebook files named or found in folders, each with its learner: the sub-folder it sits in
    (DIR/<learner>/*.ipynb), or no one for a file given directly or lying in DIR itself."""
    found: dict[Path, str] = {}
    for name in names:
        path = Path(name)
        if path.is_dir():
            for file in sorted(path.glob("*.ipynb")):
                found[file] = ""
            for file in sorted(path.glob("*/*.ipynb")):
                if not file.parent.name.startswith("."):
                    found[file] = file.parent.name
        elif path.suffix == ".ipynb" and path.exists():
            found[path] = ""
        else:
            raise UsageError(f"{name} is neither a notebook (.ipynb) nor a folder of notebooks")
    if not found:
        raise UsageError("no notebooks found in " + ", ".join(names))
    return found


def cmd_grade(args) -> int:
    files = submissions(args.paths)
    overrides: dict[Path, dict] = {}
    if args.roster:
        try:
            roster = {entry.learner: entry.seed for entry in read_roster(args.roster)}
        except RosterError as err:
            raise UsageError(str(err)) from None
        strangers = sorted({who or "(no learner folder)" for who in files.values() if who not in roster})
        if strangers:
            raise UsageError(f"submissions from learners not on the roster: {', '.join(strangers)}; put each "
                             f"learner's notebooks in DIR/<learner>/ and list the learner in {args.roster}")
        overrides = {path: {"seed": roster[who]} for path, who in files.items()}
    out = Path(args.out)
    grades = grade(list(files), out, overrides=overrides, learners=files, solutions=Path(args.solutions))
    print(format_grades(grades))
    print(f"\nresults: {write_grades(grades, out / 'grades.json')}")
    return 1 if any(g.error for g in grades) else 0


def cmd_progress(args) -> int:
    source = Path(args.source)
    try:
        written = progress_report(source, Path(args.out) if args.out else None)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    path = source / "grades.json" if source.is_dir() else source
    print(terminal_table(read_grades(path)))
    print()
    for kind, file in written.items():
        print(f"{kind}: {file}")
    return 0
