"""One root for every error the workbook raises on purpose.

Why: a notebook, the command line or a grader can catch `LifecycleLabError` to tell "the workbook refused
this input, and says what to do" from a bug. Each module's error also keeps its familiar built-in base
(`ValueError` for bad input, `RuntimeError` for a job that could not finish), so existing `except
ValueError` code keeps working.
"""

from __future__ import annotations


class LifecycleLabError(Exception):
    """Any error raised on purpose by the workbook; its message says what was wrong and what to do."""


class UsageError(LifecycleLabError):
    """A command was called wrongly; the message says how to call it."""
