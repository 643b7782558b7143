"""The decision documents a notebook writes, declared by its project (`ARTEFACTS`), for the learner's portfolio."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Artefact:
    """A decision document a notebook writes into its output folder (a memo, a model card, a plan)."""

    title: str
    file: str
    why: str = ""
