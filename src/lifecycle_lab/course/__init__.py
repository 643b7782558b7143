"""Running the workbook: execute notebooks, build learner copies, report results."""

from .summary import summary

__all__ = ["summary"]
