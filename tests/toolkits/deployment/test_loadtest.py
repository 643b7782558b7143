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
