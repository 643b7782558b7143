"""The monitoring dashboard: one figure per question, each titled with labelled axes; alerts drawn where due."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from lifecycle_lab import dashboard  # noqa: E402

RUNS = pd.DataFrame({"status": ["succeeded", "succeeded", "failed", "succeeded", "interrupted", "succeeded"],
                     "rows_written": [500, 520, 0, 490, 200, 40]})


def _labelled(fig):
    (ax,) = fig.axes
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert "(" in ax.get_xlabel() + ax.get_ylabel()  # a unit or a kind of count in brackets
    return ax


def test_job_status_counts_each_outcome():
    ax = _labelled(dashboard.job_status(RUNS))
    labels = ax.get_legend_handles_labels()[1]
    assert "succeeded (4)" in labels and "failed (1)" in labels and "interrupted (1)" in labels


def test_volume_marks_exactly_the_runs_outside_the_band():
    ax = _labelled(dashboard.volume(RUNS, 400, 600))
    flagged = [c for c in ax.collections if c.get_label().startswith("alert")]
    assert len(flagged) == 1
    assert sorted(flagged[0].get_offsets()[:, 1].tolist()) == [0, 40, 200]


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
