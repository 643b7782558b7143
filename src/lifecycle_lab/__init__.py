"""Lifecycle Lab: helpers for a workbook on the ML product lifecycle.

Importing this package is cheap on purpose: the heavy libraries (scikit-learn, evidently, mlflow,
fastapi) are imported inside the functions that need them, so a notebook's first cell stays fast.
"""

__version__ = "0.1.0"

import os as _os

if _os.environ.get("LIFECYCLE_LAB_OFFLINE") == "1":
    # Set by the test run (tests/run.sh): every process that imports the package, notebook kernels and
    # the API server included, refuses connections outside this machine, so "offline" is checked, not hoped.
    from lifecycle_lab.base import env as _env

    _env.forbid_network()
