"""Generate environment.yml (the conda route) from requirements.lock, so both give the same versions.

    python -m lifecycle_lab.envfile > environment.yml      (what `make lock` runs)

Conda supplies only Python and pip; every package comes from the same exact pins as the venv route.
A test regenerates this text and compares it with the committed file.
"""

from __future__ import annotations

import sys

from . import paths

PYTHON = "3.11"


def pins(lock_text: str) -> list[str]:
    """The `name==version` lines of the lock, in order, without comments or hashes."""
    out = []
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-") and "==" in line:
            out.append(line)
    return out


def render(lock_text: str) -> str:
    lines = [
        "# Generated from requirements.lock by `make lock`; do not edit by hand.",
        "# conda env create -f environment.yml && conda activate lifecycle-lab",
        "name: lifecycle-lab",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"    - {pin}" for pin in pins(lock_text)]
    lines.append("    - -e .")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render((paths.ROOT / "requirements.lock").read_text()))
