"""Lifecycle Lab: helpers for a workbook on the ML product lifecycle.

Importing this package is cheap on purpose: the heavy libraries (scikit-learn, evidently, mlflow,
fastapi) are imported inside the functions that need them, so a notebook's first cell stays fast.
"""

__version__ = "0.1.0"
