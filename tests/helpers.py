"""Helpers shared by test modules (fixtures live in conftest.py): `from helpers import outputs_text`."""

from __future__ import annotations


def outputs_text(result) -> str:
    """All text a notebook printed, to assert messages such as 'not attempted yet'."""
    import nbformat

    from lifecycle_lab.course.summary import output_text

    return output_text(nbformat.read(result.output, as_version=4))
