"""Operating the churn model for a year: weekly scoring with an audit log, monitoring, alerts, diagnosis.

Why in the project: the toolkits (`monitoring.weekly`, `monitoring.diagnosis`) know nothing about churn;
this module wires them to the world and the model: the reference is the champion's training data, the
design matrix of the change test is the champion's own transformed inputs, the baseline precision is the
champion's precision on the last labelled weeks before it went live.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lifecycle_lab.monitoring import diagnosis as dx
from lifecycle_lab.monitoring import evidently_ui, weekly
from lifecycle_lab.monitoring.audit import AuditLog
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn.world import CATEGORICAL, FEATURES, GO_LIVE, NUMERIC, ChurnWorld

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def inputs_hash(frame: "pd.DataFrame") -> list[str]:
    """A 64-bit hash of each row's model inputs (pandas' `hash_pandas_object`, hex): what the audit log
    keeps instead of the raw inputs; the same inputs always give the same hash."""
    import pandas as pd

    return [f"{h:016x}" for h in pd.util.hash_pandas_object(frame[list(FEATURES)], index=False).to_numpy()]


def score_weeks(world: ChurnWorld, model, weeks, *, version: str = "1") -> "pd.DataFrame":
    """Score the weeks with one model: the rows, the score, the decision and the audit columns."""
    import pandas as pd

    frames = []
    for w in weeks:
        f = world.week(w)
        f["score"] = churn_model.score(model, f)
        f["flag"] = (f["score"] >= churn_model.THRESHOLD).astype(int)
        f["model_version"] = version
        f["inputs_hash"] = inputs_hash(f)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def audit_columns(log: "pd.DataFrame") -> "pd.DataFrame":
    """The prediction log for audit: who was scored, by which model, on which inputs, with what result."""
    return log[["week", "customer_id", "model_version", "inputs_hash", "score", "flag"]]


def log_predictions(log: "pd.DataFrame", path) -> tuple[AuditLog, int]:
    """Store the audit columns in the audit log at `path` (a SQLite file or a SQLAlchemy URL), once per
    (week, customer, model version): returns the log and how many rows were new."""
    store = AuditLog(path)
    rows = audit_columns(log).rename(columns={"customer_id": "entity_id", "flag": "decision"})
    return store, store.append(rows)


@dataclass
class YearReport:
    """What a year of operating one champion produced."""

    log: "pd.DataFrame"
    drift: "pd.DataFrame"
    performance: "pd.DataFrame"
    timeline: "pd.DataFrame"
    diagnosis: "pd.DataFrame"
    baseline_precision: float
    baseline_base_rate: float
    model: object = None
    """The champion that scored the year."""


def operate(world: ChurnWorld, model=None, *, rule: weekly.AlertRule = weekly.AlertRule(),
            settings: dx.DiagnosisSettings = dx.DiagnosisSettings(), as_of: int | None = None) -> YearReport:
    """Score every week with the champion trained on the history, monitor, alert and diagnose.

    The baseline precision and base rate are the champion's on the last 4 history weeks (labelled before
    go-live); `as_of` (default: the last week) is the week at which the diagnosis is made.
    """
    import pandas as pd

    history = world.history()
    if model is None:
        model = churn_model.train(history)
    n = world.scenario.n_weeks
    as_of = n - 1 if as_of is None else as_of
    log = score_weeks(world, model, range(n))
    recent = history[history["week"] >= -4]
    flag = churn_model.score(model, recent) >= churn_model.THRESHOLD
    baseline = float(recent["churned"].to_numpy()[flag].mean())
    base_rate = float(recent["churned"].mean())
    drift = weekly.weekly_drift(history, log, NUMERIC, CATEGORICAL)
    perf = weekly.weekly_performance(log, threshold=churn_model.THRESHOLD)
    delay = world.label_delay_weeks
    timeline = weekly.alert_timeline(drift, perf, rule, baseline_precision=baseline, label_delay=delay,
                                     baseline_base_rate=base_rate)
    timeline = timeline[timeline["week"] <= as_of].reset_index(drop=True)
    design = churn_model.design
    full = pd.concat([history.assign(score=churn_model.score(model, history)), log], ignore_index=True)
    diagnosis = dx.diagnose(full, drift, timeline, design=design, as_of=as_of, baseline_precision=baseline,
                            threshold=churn_model.THRESHOLD, consecutive=rule.consecutive, label_delay=delay,
                            window=rule.window,
                            calendar=world.calendar(), settings=settings)
    return YearReport(log, drift, perf, timeline, diagnosis, baseline, base_rate, model)


def quiet_weeks(world: ChurnWorld) -> list[int]:
    """Weeks in which no change of the world is in effect (for the false-alarm rate)."""
    return [w for w in range(world.scenario.n_weeks) if not world.active(w)]


EVIDENTLY_COLUMNS = evidently_ui.Columns(NUMERIC, CATEGORICAL, ranges={"usage_hours": (0.0, 168.0)})
"""The log's columns for Evidently: the inputs, score, flag, label; usage above 168 h a week is impossible."""


def evidently_workspace(world: ChurnWorld, report: YearReport, path, *, as_of: int | None = None,
                        background: bool = True):
    """The year's weekly Evidently snapshots (reference: the champion's training data, scored by it) in an
    Evidently UI workspace at `path`, with the dashboard. `background=True` builds it in a child process
    and returns a `BackgroundBuild` (call `.result()`); otherwise builds it here and returns its info."""
    history = world.history()
    model = report.model if report.model is not None else churn_model.train(history)
    reference = history.assign(score=churn_model.score(model, history))
    reference["flag"] = (reference["score"] >= churn_model.THRESHOLD).astype(int)
    as_of = world.scenario.n_weeks - 1 if as_of is None else as_of
    log = report.log
    make = evidently_ui.BackgroundBuild if background else evidently_ui.build_workspace
    return make(path, reference, log, EVIDENTLY_COLUMNS, as_of=as_of, start=GO_LIVE)  # the world's calendar
