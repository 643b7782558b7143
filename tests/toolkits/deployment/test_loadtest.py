"""The open-loop load test: latency counted from the due time, errors counted, order-statistic intervals.

No assertion here depends on how fast this machine is: the checks are lower bounds that sleeping guarantees
(a request cannot finish before its awaited sleeps) and properties of the pacing."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats

from lifecycle_lab.deployment import loadtest
from lifecycle_lab.deployment.loadtest import LoadTestError


def test_quantile_interval_uses_the_binomial_order_statistics():
    x = np.arange(1, 101, dtype=float)  # the k-th order statistic is k
    lo, hi = loadtest.quantile_ci(x, 0.5)
    # ranks binom.ppf(0.025, 100, 0.5) and binom.ppf(0.975, 100, 0.5) + 1 -> 40 and 61
    assert (lo, hi) == (stats.binom.ppf(0.025, 100, 0.5), stats.binom.ppf(0.975, 100, 0.5) + 1) == (40, 61)


def test_p99_interval_covers_the_true_p99_at_least_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    true_p99 = np.log(100)  # exponential(1): P(X > x) = e^-x
    hits = sum(lo <= true_p99 <= hi for lo, hi in
               (loadtest.quantile_ci(rng.exponential(size=1000), 0.99) for _ in range(400)))
    assert hits / 400 >= 0.93  # >= 0.95 in theory; 400 draws leave about +-1.1 points of noise


def test_latency_counts_from_the_due_time_so_a_queue_shows():
    # one worker, 8 ms of blocking work per request, a request due every 4 ms: request k cannot finish before
    # 8 (k + 1) ms after the start and was due at 4 k ms, so its latency is at least 4 k + 8 ms. Measuring from
    # when service started would show ~8 ms for every request instead.
    pool = ThreadPoolExecutor(1)

    async def slow(_):
        await asyncio.get_running_loop().run_in_executor(pool, time.sleep, 0.008)

    res = loadtest.run_load_test({"slow": slow}, list(range(60)), 250, warmup=0)["slow"]
    pool.shutdown()
    k = np.arange(60)
    assert res.n == 60 and res.errors == 0
    assert np.all(res.latencies_ms >= 4 * k + 8 - 0.5)
    assert res.latencies_ms[-1] > 200  # the queue grew: 59 x 4 + 8 = 244 ms at least


def test_awaited_io_is_waited_for_and_the_rate_is_not_exceeded():
    async def io(_):
        await asyncio.sleep(0.03)

    res = loadtest.run_load_test({"io": io}, list(range(80)), 400, warmup=10)["io"]
    assert res.n == 70 and res.percentile(1) >= 30 - 0.5  # nobody skips the I/O
    # the generator never sends early, so the achieved rate cannot exceed the target (open loop)
    assert res.achieved_rps <= 400


def test_errors_are_counted_not_raised():
    async def flaky(i):
        if i % 10 == 0:
            raise RuntimeError("feature store timeout")

    res = loadtest.run_load_test({"flaky": flaky}, list(range(50)), 1000, warmup=0)["flaky"]
    assert res.errors == 5 and res.n == 45 and "feature store timeout" in res.error_messages[0]


def test_bad_settings_are_refused():
    async def ok(_):
        return None

    with pytest.raises(LoadTestError, match="rate_per_s"):
        loadtest.run_load_test({"a": ok}, [1, 2, 3], 0)
    with pytest.raises(LoadTestError, match="warm-up"):
        loadtest.run_load_test({"a": ok}, [1, 2, 3], 100, warmup=5)
    with pytest.raises(LoadTestError, match="give at least warmup \\+ 2 requests"):
        loadtest.run_load_test({"a": ok}, [1, 2, 3], 100, warmup=2)
    with pytest.raises(LoadTestError, match="not callable: give an async function"):
        loadtest.run_load_test({"a": "ok"}, [1, 2, 3], 100, warmup=0)
    with pytest.raises(LoadTestError, match="handler"):
        loadtest.run_load_test({}, [1, 2, 3], 100)
    with pytest.raises(LoadTestError, match="at least two"):
        loadtest.quantile_ci([1.0], 0.99)


class _Recorder:
    """A real HTTP server on 127.0.0.1 (stdlib, one request at a time): sleeps `work_s` per request, answers
    500 to a body with "fail", and records each body with the server's monotonic arrival time."""

    def __init__(self, work_s: float):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                seen.append((time.monotonic(), body))
                time.sleep(work_s)
                code = 500 if body.get("fail") else 200
                payload = b'{"ok": true}'
                self.send_response(code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        HTTPServer.request_queue_size = 512  # an open-loop client opens many connections at once
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_http_load_test_sends_every_body_on_schedule_and_counts_errors():
    bodies = [{"i": i, "fail": i % 10 == 3} for i in range(60)]
    with _Recorder(work_s=0.002) as server:
        before = time.monotonic()  # the schedule starts after this, on the same clock as the server's
        res = loadtest.run_http_load_test({"rec": server.url}, bodies, 100, warmup=5, timeout_s=10)["rec"]
    assert sorted(b["i"] for _, b in server.seen) == list(range(60))  # every body arrived, each once
    measured_failures = sum(b["fail"] for b in bodies[5:])
    assert res.errors == measured_failures == 5 and res.n == 55 - 5
    assert "HTTP 500" in res.error_messages[0]
    assert np.all(res.latencies_ms >= 2 - 0.5)  # nobody skips the server's work
    assert res.achieved_rps <= 100
    # the schedule: request i is never sent before its due time, i / rate after the start (never early)
    arrival = {b["i"]: t for t, b in server.seen}
    offsets = np.array([arrival[i] - before for i in range(60)])
    assert np.all(offsets >= np.arange(60) / 100)


def test_http_latency_counts_the_queue_of_a_server_that_falls_behind():
    # one request at a time, 10 ms each, one due every 4 ms: request k finishes no earlier than 10 (k + 1) ms
    # after the first was due and was due at 4 k ms, so its latency is at least 6 k + 10 ms
    with _Recorder(work_s=0.010) as server:
        res = loadtest.run_http_load_test({"slow": server.url}, [{"i": i} for i in range(50)], 250, warmup=0,
                                          timeout_s=20)["slow"]
    k = np.arange(50)
    assert res.errors == 0 and res.n == 50
    assert np.all(res.latencies_ms >= 6 * k + 10 - 1.0)


def test_the_ladder_stops_a_service_at_the_first_rate_it_does_not_hold():
    # capacity 100 requests/s (10 ms each, one at a time). At 400/s for 0.5 s, 200 requests arrive; the last
    # finishes no earlier than 2.0 s after the first was due, 1.5 s after it was due itself: over the limit
    with _Recorder(work_s=0.010) as server:
        steps = loadtest.sustained_rate({"svc": server.url}, lambda n: [{"i": i} for i in range(n)], [20, 400, 800],
                                        seconds=0.5, p99_limit_ms=1000, warmup_s=0.1, timeout_s=20, pause_s=0.1)
    assert [(s.rate, s.held) for s in steps] == [(20, True), (400, False)]  # 800 never tried
    assert steps[1].result.percentile(100) >= 1500 - 1
    assert loadtest.highest_held(steps) == {"svc": 20}
    assert steps[0].result.n == 10 and steps[0].result.warmup == 2


def test_http_load_tests_stay_on_this_machine_and_bounded():
    with pytest.raises(LoadTestError, match="this machine only"):
        loadtest.run_http_load_test({"x": "http://example.org"}, [{}] * 5, 10, warmup=0)
    with pytest.raises(LoadTestError, match="this machine only"):
        loadtest.run_http_load_test({"x": "https://127.0.0.1:1"}, [{}] * 5, 10, warmup=0)
    with pytest.raises(LoadTestError, match="max_seconds"):
        loadtest.run_http_load_test({"x": "http://127.0.0.1:9"}, [{}] * 1000, 10, warmup=0, max_seconds=60)
    with pytest.raises(LoadTestError, match="ascending"):
        loadtest.sustained_rate({"x": "http://127.0.0.1:9"}, lambda n: [{}] * n, [200, 100])
    assert loadtest.check_loopback("http://localhost:8000/") == "http://localhost:8000"
