"""runs_from_prometheus rebuilds one row per pushed run, from range queries (faked here, so the overlap of two
pushes with different labels can be set up exactly; the real stack is tested in
tests/projects/p01_tickets/test_prometheus_stack.py)."""

from lifecycle_lab.monitoring import prometheus

# two pushes: a good run (model 5) then a failed one whose report had no model (model_version "unknown")
GOOD = {"batch_run_success": 1.0, "batch_rows_read": 120.0, "batch_rows_written": 120.0,
        "batch_rows_rejected": 0.0, "batch_last_run_timestamp_seconds": 1000.0}
FAILED = {"batch_run_success": 0.0, "batch_rows_read": 120.0, "batch_rows_written": 0.0,
          "batch_rows_rejected": 0.0, "batch_last_run_timestamp_seconds": 1010.0}


def _fake_range(monkeypatch, overlap: bool):
    # the good push is visible at steps 1000-1015; the failed one from 1010 on. With `overlap`, Prometheus'
    # look-back still returns the good push's series at 1010 and 1015 (as it does until a staleness marker).
    good_steps = [1000.0, 1005.0, 1010.0, 1015.0] if overlap else [1000.0, 1005.0]
    failed_steps = [1010.0, 1015.0, 1020.0]

    def query_range(url, expr, start, end, step):
        name = expr.split("{", 1)[0]
        result = [{"metric": {"model_version": "5"}, "values": [(t, GOOD[name]) for t in good_steps]},
                  {"metric": {"model_version": "unknown"}, "values": [(t, FAILED[name]) for t in failed_steps]}]
        # Prometheus does not promise an order of the series in a result: it may differ from query to query
        return result[::-1] if name == "batch_run_success" else result

    monkeypatch.setattr(prometheus, "query_range", query_range)


def test_each_push_is_one_run_even_where_two_pushes_overlap(monkeypatch):
    for overlap in (False, True):
        _fake_range(monkeypatch, overlap)
        runs = prometheus.runs_from_prometheus("http://127.0.0.1:9", hours=1, step=5, now=2000)
        assert runs["status"].tolist() == ["succeeded", "failed"], overlap
        assert runs["rows_written"].tolist() == [120, 0]
        assert runs["model_version"].tolist() == ["5", "unknown"]
        assert runs["finished"].tolist() == [1000.0, 1010.0]
