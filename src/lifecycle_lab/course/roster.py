"""A workshop's roster: who the learners (or teams) are, and which scenario seed each one works on.

Why one file for it: the same mapping is used by `lifecycle-lab run --roster` (each team's scenario), by
`lifecycle-lab grade --roster` (each submission is re-judged with its owner's seed, whatever the notebook's
parameters cell says), by `lifecycle-lab progress` (rows named after learners) and by the hub (each user's
own seed). A roster is a CSV with a `learner` column (a user name or team id; the folder their submissions
sit in) and optional `seed` and `name` columns. A blank seed is derived from the learner's id, so a hub user
who is not on any roster still gets a stable scenario of their own.

Every seed must work in every notebook: a seed is checked against each notebook's parameter declaration
(its cheap feasibility check included); a derived seed that some notebook refuses moves on to the next.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.base.params import ParameterError
from lifecycle_lab.projects import PROJECTS, project_for

LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_SEED = 2**31 - 1


class RosterError(LifecycleLabError, ValueError):
    """A roster file is malformed: the message names the row and the fix."""


@dataclass(frozen=True)
class Learner:
    """One row of a roster."""

    learner: str
    seed: int
    name: str = ""
    derived: bool = False


def seed_is_usable(seed: int, notebooks: list[str] | None = None) -> str | None:
    """None when every notebook accepts `seed` at its defaults, else the first refusal's message."""
    for stem in notebooks or list(PROJECTS):
        try:
            project_for(stem).PARAMETERS.check_overrides({"seed": seed})
        except ParameterError as err:
            return f"{stem}: {err}"
    return None


def derived_seed(learner: str, notebooks: list[str] | None = None) -> int:
    """A stable seed from a learner's id (the first 31 bits of its SHA-256), moved on until every notebook
    accepts it: the same id gives the same seed on every machine, and the seed always works."""
    stems = notebooks or list(PROJECTS)
    highs = [project_for(s).PARAMETERS.params["seed"].high for s in stems]
    limit = int(min([h for h in highs if h is not None] or [MAX_SEED]))
    seed = int(hashlib.sha256(learner.encode("utf-8")).hexdigest()[:8], 16) % (limit + 1)
    for _ in range(100):
        if seed_is_usable(seed, stems) is None:
            return seed
        seed = (seed + 1) % (limit + 1)
    raise RosterError(f"no usable seed found near the one derived from {learner!r}; give it a seed in the roster")


def read_roster(path: str | Path, *, check_seeds: bool = True) -> list[Learner]:
    """The learners of a roster CSV, validated: unique ids that can be folder and user names, whole seeds."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"roster {path} does not exist: give a CSV with a 'learner' column (and optional 'seed', "
                          f"'name')")
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "learner" not in [c.strip() for c in reader.fieldnames]:
            raise RosterError(f"{path.name}: the first line must name the columns, with at least 'learner' "
                              f"(e.g. learner,seed,name)")
        rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    learners, seen = [], set()
    for number, row in enumerate(rows, start=2):
        learner = row.get("learner", "")
        if not LEARNER_ID.match(learner):
            raise RosterError(f"{path.name} line {number}: learner {learner!r} must be 1-64 letters, digits, '.', "
                              f"'_' or '-' (it names a folder and a hub user)")
        if learner in seen:
            raise RosterError(f"{path.name} line {number}: learner {learner!r} appears twice")
        seen.add(learner)
        raw = row.get("seed", "")
        if raw:
            if not raw.isdigit() or int(raw) > MAX_SEED:
                raise RosterError(f"{path.name} line {number}: seed {raw!r} must be a whole number from 0 to {MAX_SEED}")
            seed, derived = int(raw), False
            if check_seeds and (problem := seed_is_usable(seed)):
                raise RosterError(f"{path.name} line {number}: seed {seed} for {learner!r} does not work: {problem}; "
                                  f"give another seed or leave it blank to derive one")
        else:
            seed, derived = derived_seed(learner), True
        learners.append(Learner(learner, seed, row.get("name", ""), derived))
    if not learners:
        raise RosterError(f"{path.name} has no learners: add one line per learner or team")
    return learners


def seeds(learners: list[Learner]) -> dict[str, int]:
    return {entry.learner: entry.seed for entry in learners}
