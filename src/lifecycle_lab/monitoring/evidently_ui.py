"""Weekly Evidently snapshots in an Evidently UI workspace, a dashboard on them, and the `evidently ui` app.

Why: the weekly tables of `monitoring.weekly` are what a test asserts on; a monitoring service is what a
team looks at. Evidently's workspace is a folder of snapshots (one per scored week here) that its web app,
`evidently ui --workspace PATH`, serves on a port, with a project dashboard of time-series panels. The
dashboard shows panels only once they are added to the project through the API (`add_panel`), so
`build_workspace` adds them, one per question: did the job run and are values missing or out of range (data
quality), did the inputs move (drift), did the scores move (prediction distribution), and, once labels
land, how good were the flags (performance).

Evidently 0.7 API (measured with 0.7.23): `Workspace.create(path)`, `ws.create_project(name)`,
`ws.add_run(project.id, snapshot)`, `project.dashboard.add_panel(panel)` with panels from
`evidently.sdk.panels` over `evidently.sdk.models.PanelMetric`. Its drift score for a numeric column with
more than 1,000 reference rows is the normed Wasserstein distance (drift at >= 0.1), for a categorical one
the Jensen-Shannon distance: not the PSI of `monitoring.drift`, so its numbers differ from the PSI tables.
Each metric also renders its plotly widget for the Reports tab (that is most of the ~0.3-0.6 s a week).
Evidently is imported inside the functions (it costs ~9 s).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.monitoring.drift import MonitorInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

class EvidentlyUIError(LifecycleLabError, RuntimeError):
    """The `evidently ui` app did not start or stopped; the message says where its log is."""


@dataclass(frozen=True)
class Columns:
    """Which columns of the weekly log are what: the inputs, the score, the decision, the label and when
    the label is known (`known`: first week at which it is), plus value ranges the data must respect."""

    numerical: Sequence[str]
    categorical: Sequence[str] = ()
    score: str = "score"
    flag: str = "flag"
    label: str = "churned"
    known: str = "label_week"
    week: str = "week"
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def week_metrics(columns: Columns, labelled: bool) -> list:
    """The metrics of one week's snapshot: data quality (rows, missing values per input, values out of
    their range), drift per input and of the score, the mean score, and precision / recall when labelled."""
    from evidently.metrics import (MeanValue, MissingValueCount, OutRangeValueCount, Precision, Recall, RowCount,
                                   ValueDrift)

    inputs = [*columns.numerical, *columns.categorical]
    out = [RowCount()] + [MissingValueCount(column=c) for c in inputs]
    out += [OutRangeValueCount(column=c, left=lo, right=hi) for c, (lo, hi) in columns.ranges.items()]
    out += [ValueDrift(column=c) for c in inputs]
    out += [MeanValue(column=columns.score), ValueDrift(column=columns.score)]
    if labelled:
        out += [Precision(), Recall()]
    return out


def weekly_snapshots(reference: "pd.DataFrame", log: "pd.DataFrame", columns: Columns, *, as_of: int,
                     start: dt.datetime) -> Iterator[tuple[int, bool, object]]:
    """One Evidently snapshot per scored week up to `as_of`, against the reference (the training data).

    `start` is the moment scored week 0 begins (the caller's calendar, e.g. the world's go-live Monday):
    a week's snapshot is stamped `start` + week weeks, the dashboard's time axis (naive UTC, as
    Evidently stores it).

    A week's performance metrics are included only when its labels are known at `as_of` (its `known`
    week <= as_of), and the snapshot is tagged "labelled"; the others carry inputs and scores only.
    Yields (week, labelled, snapshot).
    """
    from evidently import BinaryClassification, DataDefinition, Dataset, Report

    if start.tzinfo is not None:
        start = start.astimezone(dt.timezone.utc).replace(tzinfo=None)
    inputs = [*columns.numerical, *columns.categorical]
    need = [*inputs, columns.score, columns.flag, columns.label, columns.known, columns.week]
    for name, frame in (("reference", reference), ("log", log)):
        missing = [c for c in (need if name == "log" else need[:-2]) if c not in frame.columns]
        if missing:
            raise MonitorInputError(f"the {name} lacks columns {missing}")
    keep = [*inputs, columns.score, columns.flag, columns.label]
    plain = DataDefinition(numerical_columns=[*columns.numerical, columns.score],
                           categorical_columns=list(columns.categorical))
    labelled_def = DataDefinition(numerical_columns=[*columns.numerical, columns.score],
                                  categorical_columns=list(columns.categorical),
                                  classification=[BinaryClassification(target=columns.label,
                                                                       prediction_labels=columns.flag)])
    for week, rows in log[log[columns.week] <= as_of].groupby(columns.week, sort=True):
        labelled = bool((rows[columns.known] <= as_of).all())
        definition = labelled_def if labelled else plain
        snap = Report(week_metrics(columns, labelled)).run(
            Dataset.from_pandas(rows[keep], data_definition=definition),
            Dataset.from_pandas(reference[keep], data_definition=definition),
            timestamp=start + dt.timedelta(weeks=int(week)), name=f"week {int(week)}",
            tags=["labelled"] if labelled else ["awaiting labels"], metadata={"week": str(int(week))})
        yield int(week), labelled, snap


def dashboard_panels(columns: Columns, title: str) -> list:
    """The dashboard, one panel per question (Evidently's panel helpers over the snapshots' metrics)."""
    from evidently.sdk.models import PanelMetric
    from evidently.sdk.panels import line_plot_panel, text_panel

    inputs = [*columns.numerical, *columns.categorical]
    panels = [
        text_panel(title=title, description="one snapshot per scored week against the training data; "
                                            "performance only for weeks whose labels have landed"),
        line_plot_panel("Data quality: rows scored per week", [PanelMetric(legend="rows", metric="RowCount")],
                        size="half"),
        line_plot_panel("Data quality: missing values per input",
                        [PanelMetric(legend=c, metric="MissingValueCount",
                                     metric_labels={"column": c, "value_type": "count"}) for c in inputs],
                        size="half"),
        line_plot_panel("Input drift (Evidently drift score per input; drift at >= 0.1)",
                        [PanelMetric(legend=c, metric="ValueDrift", metric_labels={"column": c}) for c in inputs]),
        line_plot_panel("Prediction distribution: mean churn score",
                        [PanelMetric(legend="mean score", metric="MeanValue",
                                     metric_labels={"column": columns.score})], size="half"),
        line_plot_panel("Prediction distribution: drift of the score",
                        [PanelMetric(legend="score drift", metric="ValueDrift",
                                     metric_labels={"column": columns.score})], size="half"),
        line_plot_panel("Performance once labels land: precision and recall of the flags",
                        [PanelMetric(legend="precision", metric="Precision"),
                         PanelMetric(legend="recall", metric="Recall")]),
    ]
    if columns.ranges:
        panels.insert(3, line_plot_panel(
            "Data quality: values out of range",
            [PanelMetric(legend=f"{c} outside [{lo:g}, {hi:g}]", metric="OutRangeValueCount",
                         metric_labels={"column": c, "value_type": "count"})
             for c, (lo, hi) in columns.ranges.items()]))
    return panels


@dataclass(frozen=True)
class WorkspaceInfo:
    """What `build_workspace` made: the folder, the project, its weeks and the dashboard's panel titles."""

    path: Path
    project_id: str
    project_name: str
    weeks: list[int]
    labelled_weeks: list[int]
    panels: list[str]
    seconds: float


def build_workspace(path: str | Path, reference: "pd.DataFrame", log: "pd.DataFrame", columns: Columns, *,
                    as_of: int, start: dt.datetime, project: str = "churn model",
                    title: str = "Churn model: weekly monitoring", fresh: bool = True) -> WorkspaceInfo:
    """Create an Evidently UI workspace at `path` with one project, a snapshot per scored week up to
    `as_of` (stamped from `start`, see `weekly_snapshots`), and the dashboard panels. `fresh` removes an
    earlier workspace at that path first (a re-run of the notebook does not add a second set of weeks)."""
    from evidently.ui.workspace import Workspace

    t0 = time.perf_counter()
    path = Path(path)
    if fresh and path.exists():
        shutil.rmtree(path)
    ws = Workspace.create(str(path))
    proj = ws.create_project(project)
    weeks, labelled = [], []
    for week, has_labels, snap in weekly_snapshots(reference, log, columns, as_of=as_of, start=start):
        ws.add_run(proj.id, snap)
        weeks.append(week)
        if has_labels:
            labelled.append(week)
    panels = dashboard_panels(columns, title)
    for panel in panels:
        proj.dashboard.add_panel(panel)
    proj.save()
    return WorkspaceInfo(path, str(proj.id), project, weeks, labelled, [p.title for p in panels],
                         time.perf_counter() - t0)


def ui_command(path: str | Path, port: int = 8000) -> list[str]:
    """The command that serves the workspace on 127.0.0.1 (what the learner runs in a terminal)."""
    return ["evidently", "ui", "--workspace", str(path), "--host", "127.0.0.1", "--port", str(int(port))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(path: str | Path, *, port: int | None = None, timeout: float = 120.0, log: str | Path | None = None):
    """Run the real `evidently ui` app on the workspace on 127.0.0.1 for the block; yields its base URL.

    The app is Evidently's own (its console script from this environment, telemetry off); the block waits
    until its API lists projects, and the app is stopped (terminate, then kill) on the way out.
    """
    port = free_port() if port is None else port
    exe = Path(sys.executable).with_name("evidently")
    cmd = ui_command(path, port)
    cmd[0] = str(exe) if exe.exists() else cmd[0]
    log = Path(log) if log is not None else Path(path).with_name(Path(path).name + "-ui.log")
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise EvidentlyUIError(f"`{' '.join(cmd)}` exited with code {proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{url}/api/projects", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise EvidentlyUIError(f"`evidently ui` did not answer on {url} within {timeout:g} s; see {log}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # pragma: no cover - uvicorn stops on SIGTERM
            proc.kill()
            proc.wait(5)


class BackgroundBuild:
    """`build_workspace` running in a child process (`python -m lifecycle_lab.monitoring.evidently_ui`).

    Why: a week's snapshot costs ~0.3-0.6 s (most of it Evidently rendering its plotly widgets), a year
    of weeks 15-40 s, and Evidently's import ~9 s. A monitoring job runs beside the scoring job in
    production too: the child uses the second core while the caller goes on; `result()` waits for it.
    The inputs go to the child as parquet files next to the workspace.
    """

    def __init__(self, path: str | Path, reference: "pd.DataFrame", log: "pd.DataFrame", columns: Columns, *,
                 as_of: int, start: dt.datetime, project: str = "churn model",
                 title: str = "Churn model: weekly monitoring"):
        import json
        from dataclasses import asdict

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        stem = self.path.parent / f"{self.path.name}-input"
        stem.mkdir(exist_ok=True)
        keep = [*columns.numerical, *columns.categorical, columns.score, columns.flag, columns.label]
        reference[keep].to_parquet(stem / "reference.parquet", index=False)
        log[[*keep, columns.known, columns.week]].to_parquet(stem / "log.parquet", index=False)
        spec = {"columns": {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in asdict(columns).items()},
                "as_of": int(as_of), "start": start.isoformat(), "project": project, "title": title,
                "path": str(self.path)}
        (stem / "spec.json").write_text(json.dumps(spec))
        self._result = stem / "result.json"
        self._result.unlink(missing_ok=True)
        self._log = stem / "build.log"
        with self._log.open("w") as out:
            self._proc = subprocess.Popen([sys.executable, "-m", "lifecycle_lab.monitoring.evidently_ui",
                                           str(stem / "spec.json")], stdout=out, stderr=subprocess.STDOUT,
                                          env={**os.environ, "DO_NOT_TRACK": "1"})

    def result(self, timeout: float = 600.0) -> WorkspaceInfo:
        """Wait for the child; the workspace's description, or EvidentlyUIError with the child's log."""
        import json

        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            raise EvidentlyUIError(f"the Evidently workspace build took over {timeout:g} s; see {self._log}") from None
        if code != 0 or not self._result.exists():
            tail = self._log.read_text()[-600:]
            raise EvidentlyUIError(f"the Evidently workspace build failed (exit {code}); {self._log}:\n{tail}")
        d = json.loads(self._result.read_text())
        return WorkspaceInfo(Path(d["path"]), d["project_id"], d["project_name"], d["weeks"], d["labelled_weeks"],
                             d["panels"], d["seconds"])


def _main(spec_path: str) -> None:
    import json
    from dataclasses import asdict

    import pandas as pd

    spec_file = Path(spec_path)
    spec = json.loads(spec_file.read_text())
    c = spec["columns"]
    columns = Columns(**{**c, "ranges": {k: tuple(v) for k, v in c["ranges"].items()}})
    reference = pd.read_parquet(spec_file.with_name("reference.parquet"))
    log = pd.read_parquet(spec_file.with_name("log.parquet"))
    info = build_workspace(spec["path"], reference, log, columns, as_of=spec["as_of"],
                           start=dt.datetime.fromisoformat(spec["start"]), project=spec["project"],
                           title=spec["title"])
    d = {**asdict(info), "path": str(info.path)}
    spec_file.with_name("result.json").write_text(json.dumps(d))


if __name__ == "__main__":  # pragma: no cover - run by BackgroundBuild in a child process
    _main(sys.argv[1])
