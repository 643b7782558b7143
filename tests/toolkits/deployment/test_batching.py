"""The micro-batcher: every request gets its own results in order, concurrent requests share calls, a lone
request is not held longer than the wait, big requests run alone, errors reach every request of the batch.

Batch composition is forced with an event the model function waits on (not with timing), so the checks
hold on a loaded machine."""

import asyncio
import threading

import pytest

from lifecycle_lab.deployment.batching import BatchingError, MicroBatcher


def square_all(calls, gate=None):
    def fn(items):
        if gate is not None:
            gate.wait(10)
        calls.append(list(items))
        return [x * x for x in items]
    return fn


def test_concurrent_requests_share_one_call_and_get_their_own_slices():
    calls = []
    gate = threading.Event()
    batcher = MicroBatcher(square_all(calls, gate), max_batch=100, max_wait_s=0)

    async def main():
        first = asyncio.create_task(batcher.submit([1]))  # starts a call that blocks on the gate
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batcher.submit([10 * k, 10 * k + 1])) for k in range(1, 6)]
        await asyncio.sleep(0.05)
        gate.set()  # the first call ends; the five queued requests form the next call
        out = await asyncio.gather(first, *rest)
        await batcher.stop()
        return out

    out = asyncio.run(main())
    assert out[0][0] == [1] and out[0][1].size == 1
    for k, (results, info) in enumerate(out[1:], start=1):
        assert list(results) == [(10 * k) ** 2, (10 * k + 1) ** 2]
        assert info.size == 10 and info.model_s >= 0 and info.queued_s >= 0
    assert calls == [[1], [10, 11, 20, 21, 30, 31, 40, 41, 50, 51]]
    assert (batcher.calls, batcher.items) == (2, 11)


def test_max_batch_splits_the_queue_and_a_big_request_runs_alone():
    calls = []
    gate = threading.Event()
    batcher = MicroBatcher(square_all(calls, gate), max_batch=4, max_wait_s=0)

    async def main():
        blocker = asyncio.create_task(batcher.submit([0]))
        await asyncio.sleep(0.05)
        queued = [asyncio.create_task(batcher.submit(items)) for items in ([1, 2], [3, 4], [5], [6, 7, 8, 9, 10, 11])]
        await asyncio.sleep(0.05)
        gate.set()
        out = await asyncio.gather(blocker, *queued)
        await batcher.stop()
        return out

    out = asyncio.run(main())
    assert calls == [[0], [1, 2, 3, 4], [5], [6, 7, 8, 9, 10, 11]]
    assert [list(r) for r, _ in out] == [[0], [1, 4], [9, 16], [25], [36, 49, 64, 81, 100, 121]]


def test_a_lone_request_waits_at_most_max_wait_and_then_runs():
    calls = []
    batcher = MicroBatcher(square_all(calls), max_batch=8, max_wait_s=0.02)

    async def main():
        out = await batcher.submit([3])
        await batcher.stop()
        return out

    (results, info) = asyncio.run(main())
    assert list(results) == [9] and info.size == 1 and calls == [[3]]


def test_an_error_reaches_every_request_of_its_batch_and_the_batcher_goes_on():
    gate = threading.Event()

    def fn(items):
        gate.wait(10)
        if "bad" in items:
            raise RuntimeError("model crashed")
        return [len(x) for x in items]

    batcher = MicroBatcher(fn, max_batch=10, max_wait_s=0)

    async def main():
        first = asyncio.create_task(batcher.submit(["ok"]))
        await asyncio.sleep(0.05)
        doomed = [asyncio.create_task(batcher.submit([x])) for x in ("a", "bad", "ccc")]
        await asyncio.sleep(0.05)
        gate.set()
        out = await asyncio.gather(first, *doomed, return_exceptions=True)
        after = await batcher.submit(["four"])
        await batcher.stop()
        return out, after

    out, after = asyncio.run(main())
    assert list(out[0][0]) == [2]
    assert all(isinstance(o, RuntimeError) and "model crashed" in str(o) for o in out[1:])
    assert list(after[0]) == [4]


def test_a_batch_function_returning_the_wrong_count_is_an_error():
    batcher = MicroBatcher(lambda items: items[:-1], max_batch=4, max_wait_s=0)

    async def main():
        try:
            return await batcher.submit([1, 2])
        finally:
            await batcher.stop()

    with pytest.raises(RuntimeError, match="1 results for 2 items"):
        asyncio.run(main())


def test_bad_settings_are_refused():
    with pytest.raises(BatchingError, match="max_batch"):
        MicroBatcher(len, max_batch=0)
    with pytest.raises(BatchingError, match="max_wait_s"):
        MicroBatcher(len, max_wait_s=5)
