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


def test_without_prometheus_the_dashboard_draws_the_jobs_own_records(monkeypatch):
    monkeypatch.delenv("LIFECYCLE_LAB_PROMETHEUS_URL", raising=False)
    source, runs = dashboard.runs_source(RUNS)
    assert source == "records" and runs is RUNS
    with pytest.raises(ValueError, match="no Prometheus configured"):
        dashboard.runs_source(None)


def test_with_prometheus_the_runs_are_rebuilt_from_its_http_api(monkeypatch):
    """A stand-in Prometheus HTTP API (a real HTTP server answering /api/v1/query_range as Prometheus does)
    holding three runs scraped every 15 s: each run is one row, at its first sample, oldest first."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qs, urlsplit

    runs = [(1000.0, 1, 500, 510, 10), (2000.0, 0, 0, 0, 0), (3000.0, 1, 40, 40, 0)]  # finished, ok, rows...
    fields = ["batch_last_run_timestamp_seconds", "batch_run_success", "batch_rows_written", "batch_rows_read",
              "batch_rows_rejected"]
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            q = parse_qs(urlsplit(self.path).query)
            seen.append(q["query"][0])
            name = q["query"][0].split("{")[0]
            values = []
            for t in range(1000, 3600, 15):  # each run's values stay until the next push replaces them
                current = [r for r in runs if r[0] <= t][-1]
                values.append([t, str(current[fields.index(name)])])
            body = json.dumps({"status": "success", "data": {"resultType": "matrix", "result": [
                {"metric": {"__name__": name, "job": "tickets_batch", "model_version": "3"}, "values": values}]}})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("LIFECYCLE_LAB_PROMETHEUS_URL", f"http://127.0.0.1:{server.server_address[1]}")
        source, got = dashboard.runs_source(RUNS)  # the records are not used when Prometheus is configured
    finally:
        server.shutdown()
        server.server_close()
    assert source == "prometheus"
    assert got["finished"].tolist() == [1000.0, 2000.0, 3000.0]
    assert got["status"].tolist() == ["succeeded", "failed", "succeeded"]
    assert got["rows_written"].tolist() == [500, 0, 40] and got["rows_in"].tolist() == [510, 0, 40]
    assert all('job="tickets_batch"' in q for q in seen)
    assert dashboard.volume_runs(got).index.tolist() == [0, 2]  # the failed run is not volume
