"""The environment: one lock, the conda file in sync, cheap imports, the offline guard, the Makefile."""

import os
import socket
import subprocess
import sys
import tomllib

import pytest

from helpers import outputs_text
from lifecycle_lab.base import env
from lifecycle_lab.course import envfile
from lifecycle_lab.base import paths

ROOT = paths.ROOT


def test_environment_yml_is_generated_from_the_lock():
    lock = (ROOT / "requirements.lock").read_text()
    assert (ROOT / "environment.yml").read_text() == envfile.render(lock), \
        "environment.yml is out of date: run `make lock` (it regenerates both files)"


def test_conda_and_venv_routes_pin_the_same_versions():
    import yaml

    conda = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d for d in conda["dependencies"] if isinstance(d, dict))["pip"]
    conda_pins = env.locked_versions("\n".join(pip_section))
    assert conda_pins == env.locked_versions((ROOT / "requirements.lock").read_text())
    py = next(d for d in conda["dependencies"] if isinstance(d, str) and d.startswith("python="))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert py == "python=3.11" and "<3.12" in requires and ">=3.11" in requires


def test_installed_versions_match_the_lock():
    locked = env.locked_versions((ROOT / "requirements.lock").read_text())
    installed = env.versions()
    assert all(v != "missing" for v in installed.values()), installed
    assert {k: v for k, v in installed.items() if locked[env.normalise(k)] != v} == {}


def test_lock_pins_pandas_below_3_for_evidently():
    assert int(env.locked_versions((ROOT / "requirements.lock").read_text())["pandas"].split(".")[0]) < 3


HEAVY = ["sklearn", "pandas", "scipy", "evidently", "mlflow", "fastapi", "fairlearn", "matplotlib", "sqlalchemy",
         "papermill", "nbformat"]


def _package_modules():
    names = []
    for path in sorted((ROOT / "src" / "lifecycle_lab").rglob("*.py")):
        rel = path.relative_to(ROOT / "src").with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_importing_the_package_loads_no_heavy_library():
    """`import lifecycle_lab.<any module>` must stay cheap: heavy libraries are imported lazily."""
    code = ("import sys, importlib\n"
            f"for m in {_package_modules()!r}: importlib.import_module(m)\n"
            f"print(sorted(h for h in {HEAVY!r} if h in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"modules imported eagerly: {out}"


def test_offline_guard_refuses_non_loopback_and_allows_loopback():
    code = ("import socket\nfrom lifecycle_lab.base import env\nenv.forbid_network()\n"
            "s = socket.socket(); s.settimeout(1)\n"
            "try:\n    s.connect(('0.0.0.0', 9))\nexcept env.OfflineViolation as e:\n    print('refused', e)\n"
            "try:\n    socket.getaddrinfo('pypi.invalid', 443)\nexcept env.OfflineViolation:\n    print('lookup refused')\n"
            "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)\n"
            "c = socket.create_connection(srv.getsockname(), timeout=1); print('loopback ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "refused" in out and "lookup refused" in out and "loopback ok" in out


def test_make_does_not_reinstall_a_current_venv():
    stamp = ".venv/.lock-installed"
    if not (ROOT / stamp).exists():
        pytest.skip("no .venv built by the Makefile here")
    current = subprocess.run(["make", "-q", stamp], cwd=ROOT)
    assert current.returncode == 0, "make would reinstall although nothing changed"
    stale = subprocess.run(["make", "-q", "-W", "requirements.lock", stamp], cwd=ROOT)
    assert stale.returncode == 1, "a changed lock file must trigger a reinstall"


def _commands(text: str) -> list[str]:
    """The lines of a shell script that run something (no comments, no blank lines)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_readme_first_screen_gives_the_two_commands_and_ci_uses_the_test_one():
    readme = (ROOT / "README.md").read_text().splitlines()[:40]
    fenced = [line.split("#", 1)[0].strip() for line in readme[readme.index("```bash") + 1:]]
    first_block = fenced[:fenced.index("```")]
    assert first_block == ["make course", "make test"], first_block  # exactly two commands, course then test
    # CI runs the README's test command itself, as its last step (after preparing system services)
    assert _commands((ROOT / ".ci" / "run").read_text())[-1] == "make test"
    workflow = (ROOT / ".github" / "workflows" / "tests.yml").read_text()
    assert "bash .ci/run" in workflow


def test_the_lock_satisfies_every_range_of_pyproject():
    """A dependency added to pyproject.toml without `make lock` would install the old lock silently."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = env.locked_versions((ROOT / "requirements.lock").read_text())
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    problems = []
    for spec in wanted:
        req = Requirement(spec)
        version = locked.get(env.normalise(req.name))
        if version is None:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name}=={version} is outside {req.specifier}")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_a_notebook_kernel_run_by_the_tests_is_offline_too(tmp_path):
    """The guard reaches the kernels papermill starts, not only the pytest process."""
    import nbformat

    from lifecycle_lab.course.runner import run_notebook

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import socket\nimport lifecycle_lab\nfrom lifecycle_lab.base import env\n"
        "try:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\n"
        "except env.OfflineViolation:\n    print('kernel refused the connection')\n")]
    nbformat.write(nb, tmp_path / "net.ipynb")
    assert os.environ.get("LIFECYCLE_LAB_OFFLINE") == "1"  # set by conftest for every child process
    result = run_notebook(tmp_path / "net.ipynb", tmp_path / "out", progress=False)
    assert result.status == "ok", result.error
    assert "kernel refused the connection" in outputs_text(result)


@pytest.mark.parametrize("dockerfile", sorted((ROOT / "docker").glob("*Dockerfile")), ids=lambda p: p.name)
def test_dockerfiles_lint_clean_and_install_from_the_lock(dockerfile):
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    result = subprocess.run([str(hadolint), str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    runs = [line for line in _commands(dockerfile.read_text().replace("\\\n", " ")) if line.startswith("RUN ")]
    installs = [line for line in runs if "pip install" in line]
    # the exact versions of the lock, and nothing resolved anew inside the image
    assert any("--no-deps -r requirements" in line and ".lock" in line for line in installs), installs
    assert all("--no-deps" in line for line in installs), installs
