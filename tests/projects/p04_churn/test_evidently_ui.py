"""The Evidently UI workspace of the churn model: one snapshot per week whose values agree with independent
computations, and the real `evidently ui` app serving the project's dashboard panels in headless Chromium."""

from __future__ import annotations

import html as htmllib
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from lifecycle_lab.monitoring import evidently_ui as eu
from lifecycle_lab.projects.p04_churn import operate as op
from lifecycle_lab.projects.p04_churn.world import ChurnWorld

N_WEEKS, BUG_WEEK = 12, 7


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    world = ChurnWorld(n_weeks=N_WEEKS, n_per_week=1000, concept_drift=False, data_bug=True, bug_week=BUG_WEEK)
    report = op.operate(world)
    path = tmp_path_factory.mktemp("evidently") / "workspace"
    info = op.evidently_workspace(world, report, path).result()  # in a child process, as the notebook does
    return world, report, info


def _values(info):
    """Every snapshot's metric values, read back from the workspace folder through Evidently's own API."""
    from evidently.core.report import Snapshot
    from evidently.ui.workspace import Workspace

    ws = Workspace(str(info.path))
    out = {}
    for snapshot_id in ws.list_runs(info.project_id):
        model = ws.get_run(info.project_id, snapshot_id)
        d = Snapshot.load_model(model).dict()
        out[int(model.metadata["week"])] = {m["metric_name"]: m["value"] for m in d["metrics"]}
    return out


def test_one_snapshot_per_week_and_performance_only_where_labels_landed(built):
    world, report, info = built
    assert info.weeks == list(range(N_WEEKS))
    assert info.labelled_weeks == [w for w in range(N_WEEKS) if w + world.label_delay_weeks <= N_WEEKS - 1]
    assert len(info.panels) == 8 and any("Performance" in p for p in info.panels)


def test_the_snapshots_sit_on_the_worlds_calendar(built):
    """One calendar: week w's snapshot is stamped Monday 2026-01-05 + w weeks, and the pipeline's cron runs
    count weeks from the same Monday."""
    import datetime as dt

    from evidently.ui.workspace import Workspace

    from lifecycle_lab.projects.p04_churn import pipeline as pl

    world, report, info = built
    ws = Workspace(str(info.path))
    runs = [ws.get_run(info.project_id, i) for i in ws.list_runs(info.project_id)]
    stamps = {int(m.metadata["week"]): m.timestamp for m in runs}
    assert stamps == {w: dt.datetime(2026, 1, 5) + dt.timedelta(weeks=w) for w in info.weeks}
    monday_six = dt.datetime(2026, 1, 5, 6, tzinfo=dt.timezone.utc) + dt.timedelta(weeks=BUG_WEEK)
    assert pl.scheduled_week(monday_six) == BUG_WEEK and pl.scheduled_week(monday_six, monday_six) == 0


def test_the_snapshots_values_agree_with_the_log(built):
    from scipy.stats import wasserstein_distance
    from sklearn.metrics import precision_score, recall_score

    world, report, info = built
    values = _values(info)
    assert sorted(values) == info.weeks
    for week, v in values.items():
        rows = report.log[report.log.week == week]
        assert v["RowCount()"] == len(rows)
        out_of_range = next(val for name, val in v.items() if name.startswith("OutRangeValueCount(column=usage_hours"))
        assert out_of_range["count"] == int(((rows.usage_hours < 0) | (rows.usage_hours > 168)).sum())
        assert v["MeanValue(column=score)"] == pytest.approx(rows.score.mean(), rel=1e-9)
        precision = [val for name, val in v.items() if name.startswith("Precision")]
        if week in info.labelled_weeks:
            assert precision[0] == pytest.approx(precision_score(rows.churned, rows.flag), abs=1e-9)
            recall = next(val for name, val in v.items() if name.startswith("Recall"))
            assert recall == pytest.approx(recall_score(rows.churned, rows.flag), abs=1e-9)
        else:
            assert precision == []
    # the unit bug (usage in minutes from BUG_WEEK) is a jump of Evidently's drift score on usage_hours only
    drift = {w: next(val for n, val in v.items() if n.startswith("ValueDrift(column=usage_hours")) for w, v in values.items()}
    assert max(drift[w] for w in range(BUG_WEEK)) < 0.1 < min(drift[w] for w in range(BUG_WEEK, N_WEEKS))
    reference = world.history().usage_hours.to_numpy(float)  # the oracle: scipy's distance over the reference sd
    for week, value in drift.items():
        current = report.log[report.log.week == week].usage_hours.to_numpy(float)
        assert value == pytest.approx(wasserstein_distance(reference, current) / np.std(reference), rel=1e-6)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _page_text(browser, url, profile) -> str:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=110)
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", proc.stdout, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", dom)))


def test_the_evidently_ui_serves_the_project_and_its_dashboard_panels(built, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") or os.environ.get("LIFECYCLE_LAB_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed; CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); the browser test runs in CI")
    world, report, info = built
    with eu.serve(info.path) as url:
        dashboard = _page_text(browser, f"{url}/projects/{info.project_id}", tmp_path / "profile")
    assert f"Projects / {info.project_name} / Dashboard" in dashboard  # the project's page, its dashboard tab
    for title in info.panels:  # every panel added through the API is drawn
        assert htmllib.unescape(title) in dashboard, title
    for legend in ("usage_hours", "support_tickets", "mean score", "precision", "recall", "rows"):
        assert legend in dashboard, legend
    assert "2026-01-05" in dashboard  # the time axis starts at week 0's timestamp: the weeks are plotted
    assert "no value" not in dashboard.lower()
