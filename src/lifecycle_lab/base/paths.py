"""Where things live: the repository's folders and each notebook's output folder."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _find_root() -> Path:
    """The repository root (the folder holding solutions/), or the working directory outside a checkout."""
    env = os.environ.get("LIFECYCLE_LAB_ROOT")
    if env:
        return Path(env).resolve()
    for candidate in [PACKAGE, *PACKAGE.parents]:
        if (candidate / "solutions").is_dir() and (candidate / "pyproject.toml").is_file():
            return candidate
    return Path.cwd()


ROOT = _find_root()
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
DATASETS = ROOT / "datasets"
COURSE = ROOT / "course"
BUILD = Path(os.environ["LIFECYCLE_LAB_BUILD"]).resolve() if os.environ.get("LIFECYCLE_LAB_BUILD") else ROOT / "build"
"""Where runs write (outputs, executed copies): build/ in the repository, or LIFECYCLE_LAB_BUILD (a hub sets it
to each learner's own folder, since the repository is not theirs to write)."""


def output_dir(notebook: str, requested: str | os.PathLike | None = None) -> Path:
    """The folder a notebook writes its files to (reports, databases, memos), created if missing.

    A notebook's `output_dir` parameter wins; otherwise build/outputs/<notebook> under the repository,
    so running a notebook never litters solutions/ or notebooks/.
    """
    path = Path(requested) if requested else BUILD / "outputs" / notebook
    path.mkdir(parents=True, exist_ok=True)
    return path
