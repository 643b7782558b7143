"""Running the workbook: execute notebooks, build learner copies, report results."""

from lifecycle_lab.course.summary import summary

__all__ = ["summary"]
