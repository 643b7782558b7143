"""The monitoring dashboard: one figure per question, each titled with labelled axes; alerts drawn where due:
volume alerts only on succeeded runs (each input file once), failed runs marked apart."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lifecycle_lab.monitoring import dashboard  # noqa: E402

RUNS = pd.DataFrame({"status": ["succeeded", "succeeded", "failed", "succeeded", "interrupted", "succeeded",
                                "succeeded"],
                     "rows_written": [500, 520, 0, 490, 200, 40, 500],
                     "input_sha256": ["a", "b", "c", "d", "e", "f", "a"]})  # the last run retries file "a"


def _labelled(fig):
    (ax,) = fig.axes
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert "(" in ax.get_xlabel() + ax.get_ylabel()  # a unit or a kind of count in brackets
    return ax


def test_job_status_counts_each_outcome():
    ax = _labelled(dashboard.job_status(RUNS))
    labels = ax.get_legend_handles_labels()[1]
    assert "succeeded (5)" in labels and "failed (1)" in labels and "interrupted (1)" in labels


def test_volume_counts_succeeded_runs_once_per_file():
    counted = dashboard.volume_runs(RUNS)
    assert counted.index.tolist() == [0, 1, 3, 5]  # no failed/interrupted run, no retry of file "a"


def test_volume_marks_exactly_the_runs_outside_the_band():
    ax = _labelled(dashboard.volume(RUNS, 400, 600))
    flagged = [c for c in ax.collections if c.get_label().startswith("alert")]
    assert len(flagged) == 1
    assert flagged[0].get_offsets().tolist() == [[6, 40]]  # run 6 (40 rows); the failed run is not a volume alert
    broken = [c for c in ax.collections if c.get_label().startswith("failed or interrupted")]
    assert broken[0].get_offsets().tolist() == [[3, 0], [5, 0]]
    (line,) = ax.get_lines()
    assert line.get_xdata().tolist() == [1, 2, 4, 6] and line.get_ydata().tolist() == [500, 520, 490, 40]


def test_volume_outliers_use_the_alert_band():
    from lifecycle_lab.monitoring import drift as monitor

    history = [500, 520, 490, 510]  # mean 505, sd 12.91: band 466.3 to 543.7 at k = 3
    alert = monitor.volume_alert(history, 505)
    assert (round(alert.lower), round(alert.upper)) == (466, 544)
    assert monitor.volume_outliers(history, [505, 40, 544, 467, 900]) == [1, 2, 4]  # 466.3 <= 467; 544 > 543.7


def test_confidence_reports_the_share_below_the_threshold():
    conf = np.array([0.2, 0.4, 0.6, 0.8, 0.95])
    ax = _labelled(dashboard.confidence(conf, 0.5))
    assert any("40.0% of predictions below" in t for t in ax.get_legend_handles_labels()[1])


def test_class_shares_and_latency_figures():
    ax = _labelled(dashboard.class_shares(["a", "a", "b"], ["b", "b", "b", "a"], ["a", "b"], verdict="drift detected"))
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([2 / 3, 1 / 3, 1 / 4, 3 / 4])
    assert ax.get_title().endswith("drift detected")
    _labelled(dashboard.latency(np.random.default_rng(0).gamma(2, 3, 200), 200))
