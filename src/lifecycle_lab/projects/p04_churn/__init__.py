"""Practice project 04: operate a live churn model (monitor, diagnose, remediate, retrain automatically).

The world (`world`), the model (`model`), remediation and retraining policies (`policies`) and the Prefect
pipeline (`pipeline`). Not yet a notebook: the package and its tests come first (issue 11).
"""
