"""The package's shape, checked so the picture in ARCHITECTURE.md cannot rot.

- the import-linter contract in pyproject.toml (layers, independent projects, no cycles) holds;
- package-internal imports sit at module top (one inside a function needs a comment saying why);
- every error the workbook raises on purpose derives from one base class;
- every practice project declares its notebook, parameters and exercises, and its notebook agrees;
- notebooks are narrative plus short calls, and their stored outputs do not depend on the CPU.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys

import pytest

import lifecycle_lab
from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.projects import PROJECTS, project_for

PACKAGE = paths.ROOT / "src" / "lifecycle_lab"
MAX_CELL_LINES = 25


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def test_the_import_contract_holds():
    lint = paths.ROOT / ".venv" / "bin" / "lint-imports"
    done = subprocess.run([str(lint) if lint.exists() else "lint-imports"], capture_output=True, text=True,
                          cwd=paths.ROOT, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout and done.stdout.count("KEPT") >= 4


def test_package_internal_imports_are_at_module_top():
    offenders = []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                internal = (isinstance(inner, ast.ImportFrom) and (inner.level or (inner.module or "")
                                                                   .startswith("lifecycle_lab"))) or \
                           (isinstance(inner, ast.Import) and any(a.name.startswith("lifecycle_lab")
                                                                  for a in inner.names))
                if internal and "#" not in lines[inner.lineno - 1]:
                    offenders.append(f"{path.relative_to(PACKAGE)}:{inner.lineno}")
    assert not offenders, f"package-internal imports inside functions (move them up, or say why): {offenders}"


def _all_modules():
    names = ["lifecycle_lab"]
    for info in pkgutil.walk_packages(lifecycle_lab.__path__, "lifecycle_lab."):
        names.append(info.name)
    return names


def test_every_error_class_derives_from_one_base():
    strays = []
    for name in _all_modules():
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == name \
                    and not issubclass(obj, LifecycleLabError) and not obj.__name__.startswith("_"):
                strays.append(f"{name}.{obj.__name__}")
    assert not strays, f"errors outside the LifecycleLabError family: {strays}"


def test_importing_the_package_costs_little_beyond_a_bare_interpreter():
    """Not a timing: the package's import must not load a heavy library (what makes it slow)."""
    code = ("import sys, lifecycle_lab, lifecycle_lab.cli, lifecycle_lab.projects\n"
            "heavy = ['pandas', 'sklearn', 'scipy', 'evidently', 'mlflow', 'fastapi', 'matplotlib', 'prefect',\n"
            "         'dask', 'fairlearn', 'pandera', 'papermill', 'nbformat']\n"
            "print([h for h in heavy if h in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- the projects and their notebooks ----------------------------------------------------------------------

def _notebook(stem: str):
    return json.loads((paths.SOLUTIONS / f"{stem}.ipynb").read_text(encoding="utf-8"))


def _code(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("stem", sorted(PROJECTS))
def test_each_project_declares_its_notebook_parameters_and_exercises(stem):
    project = project_for(stem)
    assert project.NOTEBOOK == stem == project.PARAMETERS.notebook == project.EXERCISES.notebook
    assert len(project.EXERCISES) >= 4, "a notebook without exercises does not answer back"
    assert {"seed", "fast", "output_dir"} <= set(project.PARAMETERS.params)


@pytest.mark.parametrize("stem", sorted(PROJECTS))
def test_the_parameters_cell_matches_the_declaration_and_is_validated_by_it(stem):
    import papermill

    project = project_for(stem)
    declared = papermill.inspect_notebook(str(paths.SOLUTIONS / f"{stem}.ipynb"))
    in_cell = {name: ast.literal_eval(spec["default"]) for name, spec in declared.items()}
    assert in_cell == project.PARAMETERS.defaults(), "the parameters cell and parameters.py disagree"
    cells = [c for c in _notebook(stem)["cells"] if c["cell_type"] == "code"]
    assert "PARAMETERS.validate(globals())" in _code(cells[1]), "the cell after the parameters validates them"


@pytest.mark.parametrize("stem", sorted(PROJECTS))
def test_every_declared_exercise_is_built_and_checked_in_its_notebook(stem):
    source = "\n".join(_code(c) for c in _notebook(stem)["cells"] if c["cell_type"] == "code")
    for spec in project_for(stem).EXERCISES:
        assert re.search(rf"\b{spec.var}\s*=\s*\w+(\.\w+)*\.{spec.factory}\(", source), \
            f"{stem}: {spec.var} is not built with {spec.factory}()"
        assert f"{spec.var}.check(" in source, f"{stem}: {spec.var} is never checked"


@pytest.mark.parametrize("stem", sorted(PROJECTS))
def test_code_cells_are_short(stem):
    long = [(i, len(_code(c).splitlines())) for i, c in enumerate(_notebook(stem)["cells"])
            if c["cell_type"] == "code" and len(_code(c).splitlines()) > MAX_CELL_LINES]
    assert not long, f"{stem}: code cells over {MAX_CELL_LINES} lines (move the logic into the package): {long}"


FLOAT_TAIL = re.compile(r"(?<![\w.~])(\d+\.\d+(?:e[-+]?\d+)?)")
ADDRESS = re.compile(r" at 0x[0-9a-f]{6,}")  # a repr such as <Figure at 0x7f3a...>


def _significant(number: str) -> int:
    mantissa = number.lower().split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) if "." in number else len(mantissa)


@pytest.mark.parametrize("stem", sorted(PROJECTS))
def test_stored_outputs_do_not_depend_on_the_cpu(stem):
    """A float printed with more than 8 significant digits differs between CPUs (BLAS kernels), and so does a
    memory address; measured numbers are printed with a leading `~` (masked by the nbval sanitizer)."""
    problems = []
    for i, cell in enumerate(_notebook(stem)["cells"]):
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            for number in FLOAT_TAIL.findall(text):
                if _significant(number) > 8:
                    problems.append(f"cell {i}: {number}")
            problems += [f"cell {i}: address {a}" for a in ADDRESS.findall(text)]
    assert not problems, f"{stem}: outputs that change with the CPU (round them): {problems[:10]}"


def test_the_cpu_check_catches_the_failure_the_hardening_issue_reports():
    assert _significant("0.9446616110465419") > 8 and _significant("0.944661611045204") > 8
    assert _significant("0.9447") <= 8 and _significant("1234.5") <= 8 and _significant("1.000000") <= 8
