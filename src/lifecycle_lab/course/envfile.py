"""Generate environment.yml (the conda route) from requirements.lock, so both give the same versions.

    python -m lifecycle_lab.course.envfile > environment.yml      (what `make lock` runs)

Conda supplies only Python and pip; every package comes from the same exact pins as the venv route.
A test regenerates this text and compares it with the committed file.
"""

from __future__ import annotations

import sys

from lifecycle_lab.base import paths
from lifecycle_lab.base.env import pin_lines

PYTHON = "3.11"


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
    lines += [f"    - {pin}" for pin in pin_lines(lock_text)]
    lines.append("    - -e .")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render((paths.ROOT / "requirements.lock").read_text()))
