"""Early warning for maintainers: would the newest allowed library releases break the course?

`make test-latest` runs this. The lock file protects learners; before a maintainer moves it, this resolves
the newest versions `pyproject.toml`'s ranges allow (from the package registry, ignoring the lock), installs
them into a separate venv (build/latest/.venv), runs the test suite there (notebooks included), and writes a
short report (build/latest/REPORT.md): which packages moved from the lock, and which tests or notebook cells
broke. Exit status: 0 when everything passed, 1 otherwise (the report says what).

    python tools/test_latest.py [--pytest-args "-m 'not notebook'"]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "latest"
UV = ROOT / ".tools" / "bin" / "uv"
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)(?:\s*;\s*(.*))?$")


def pins(path: Path) -> dict[str, str]:
    """name -> version of a pip-compile output (markers for other Pythons dropped: we run 3.11)."""
    found = {}
    for line in path.read_text().splitlines():
        m = PIN.match(line.strip())
        if m and (not m.group(3) or "3.12" not in m.group(3)):
            found[m.group(1).lower().split("[")[0]] = m.group(2)
    return found


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("+", " ".join(shlex.quote(c) for c in cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kw)


def moved(locked: dict[str, str], latest: dict[str, str]) -> list[tuple[str, str, str]]:
    names = sorted(set(locked) | set(latest))
    return [(n, locked.get(n, "-"), latest.get(n, "-")) for n in names if locked.get(n) != latest.get(n)]


def failures(junit: Path) -> list[str]:
    """The failed or errored test ids of a JUnit XML report, with the first line of their message."""
    if not junit.exists():
        return ["(no test report: pytest did not run)"]
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is not None:
                message = (node.get("message") or "").strip().splitlines()
                out.append(f"{case.get('classname')}::{case.get('name')} ({kind}): "
                           f"{message[0][:200] if message else ''}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. \"-m 'not notebook'\"")
    args = parser.parse_args(argv)
    if not UV.exists():
        print("uv is missing: run `make env` first (it installs .tools/bin/uv)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    latest_txt = OUT / "requirements-latest.txt"
    resolved = run([str(UV), "pip", "compile", "-q", "pyproject.toml", "--extra", "dev", "--python-version", "3.11",
                    "--no-emit-package", "rfc3987-syntax", "--no-emit-package", "lark", "--upgrade",
                    "-o", str(latest_txt)])
    if resolved.returncode:
        print("could not resolve the newest versions within pyproject.toml's ranges", file=sys.stderr)
        return 2
    venv = OUT / ".venv"
    py = venv / "bin" / "python"
    if not py.exists():
        run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    run([str(UV), "pip", "sync", "-q", "--compile-bytecode", "--python", str(py), str(latest_txt)], check=True)
    run([str(UV), "pip", "install", "-q", "--python", str(py), "--no-deps", "-e", "."], check=True)
    run([str(py), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], check=True,
        stdout=subprocess.DEVNULL)
    env = dict(os.environ, LIFECYCLE_LAB_OFFLINE="1", MPLBACKEND="Agg", MLFLOW_DISABLE_TELEMETRY="true",
               DO_NOT_TRACK="1", PYTHONDONTWRITEBYTECODE="1", PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    junit, junit_nb = OUT / "pytest.xml", OUT / "nbval.xml"
    extra = shlex.split(args.pytest_args)
    unit = run([str(py), "-m", "pytest", "-q", "tests", f"--junitxml={junit}", *extra], env=env)
    nbval = run([str(py), "-m", "pytest", "-q", "--nbval", "solutions/", "--nbval-sanitize-with",
                 "tests/nbval_sanitize.cfg", f"--junitxml={junit_nb}"], env=env)
    changes = moved(pins(ROOT / "requirements.lock"), pins(latest_txt))
    broken = failures(junit) + failures(junit_nb)
    lines = ["# Newest allowed versions vs the lock", "",
             f"Resolved from pyproject.toml's ranges with `uv pip compile --upgrade`; {len(changes)} packages differ "
             f"from requirements.lock.", "", "| package | lock | newest allowed |", "|---|---|---|"]
    lines += [f"| {n} | {a} | {b} |" for n, a, b in changes]
    lines += ["", f"## Tests and notebook cells that broke ({len(broken)})", ""]
    lines += [f"- {b}" for b in broken] or ["- none: the suite passed on the newest allowed versions"]
    (OUT / "REPORT.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nreport: {OUT / 'REPORT.md'}")
    return 0 if unit.returncode == 0 and nbval.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
