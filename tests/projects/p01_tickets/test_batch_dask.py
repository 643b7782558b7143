"""The batch job's dask engine (`--engine dask --scheduler ADDRESS`) on a small dask.distributed LocalCluster.

Checked: the predictions and rejects equal those of the single-process job (the oracle: run_batch with
workers=1, itself checked against predict_proba in test_batch.py), every row is accounted for
(rows_in = written + rejected + duplicate), a re-run on the cluster is idempotent, and an unreachable
scheduler or a missing address fails the run in seconds with a message naming --scheduler and the fix,
before the model is loaded or the file read. And (marked slow) a file larger than a worker's whole memory:
a LocalCluster of two worker processes limited to 400 MiB each scores a 512 MB file with every guarantee
above, the model's own predict_proba as the oracle, while the workers stay under their limit (the kernel's
peak RSS of each), none is restarted, removed or paused (their pids, the scheduler's events), and the client
(with the scheduler, in this process) grows by far less than the file.
"""

import os

import pandas as pd
import pytest

from helpers import free_port, ticket_artifact
from lifecycle_lab.projects.p01_tickets import world as tickets
from lifecycle_lab.projects.p01_tickets import batch


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    return ticket_artifact(tmp_path_factory.mktemp("artifact") / "v1", seed=5, n_tickets=400, review_threshold=0.6)[0]


@pytest.fixture(scope="module")
def scheduler():
    from distributed import LocalCluster

    # two workers of one thread each, in this process (quick to start), talking TCP as a real cluster does
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                      host="127.0.0.1", protocol="tcp") as cluster:  # loopback TCP: the real wire, offline
        yield cluster.scheduler_address


def _ticket_file(tmp_path, n=800):
    frame = tickets.unlabelled(tickets.generate(seed=11, n_tickets=n))
    frame.loc[4, "text"] = ""
    frame.loc[70, "ticket_id"] = frame.loc[3, "ticket_id"]  # a repeat in a later chunk: the last copy wins
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("R1,only two\n")  # a ragged row
    return path


def _table(url, name, key):
    return batch.read_table(url, name).drop(columns="run_id").sort_values(key).reset_index(drop=True)


def test_dask_engine_writes_what_the_single_process_job_writes(tmp_path, artifact, scheduler):
    path = _ticket_file(tmp_path)
    oracle_db, dask_db = (f"sqlite:///{tmp_path / name}" for name in ("oracle.db", "dask.db"))
    oracle = batch.run_batch(path, oracle_db, artifact, chunk_size=50, create_db=True, workers=1)
    report = batch.run_batch(path, dask_db, artifact, chunk_size=50, create_db=True, engine="dask",
                             scheduler=scheduler)
    assert (report.status, report.engine, report.workers) == ("succeeded", "dask", 2)
    counts = ("rows_in", "rows_written", "rows_rejected", "rows_duplicate", "chunks")
    assert [getattr(report, c) for c in counts] == [getattr(oracle, c) for c in counts] == [801, 798, 2, 1, 17]
    for name, key in (("predictions", ["ticket_id"]), ("rejects", ["row_number"])):
        pd.testing.assert_frame_equal(_table(dask_db, name, key), _table(oracle_db, name, key),
                                      check_exact=False, rtol=1e-9)
    again = batch.run_batch(path, dask_db, artifact, chunk_size=73, engine="dask", scheduler=scheduler)
    assert again.rows_in == 801
    assert len(batch.read_table(dask_db, "predictions")) == 798 and len(batch.read_table(dask_db, "rejects")) == 2
    runs = batch.read_table(dask_db, "runs")
    assert runs["status"].tolist() == ["succeeded", "succeeded"]
    assert (runs["rows_in"] == runs["rows_written"] + runs["rows_rejected"] + runs["rows_duplicate"]).all()


def test_an_unreachable_scheduler_fails_fast_naming_the_option_before_any_heavy_work(tmp_path, artifact,
                                                                                    monkeypatch, capsys):
    from lifecycle_lab import cli

    def no_heavy_work(*args, **kw):
        raise AssertionError("the model was loaded although the scheduler is unreachable")

    monkeypatch.setattr(batch, "load_artifact", no_heavy_work)
    monkeypatch.setattr(batch, "file_sha256", no_heavy_work)
    path = _ticket_file(tmp_path, n=50)
    url = f"sqlite:///{tmp_path / 'b.db'}"
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(batch.BatchError, match=r"cannot reach the dask scheduler at .*--scheduler .*dask scheduler"):
        batch.run_batch(path, url, artifact, create_db=True, engine="dask", scheduler=address, scheduler_timeout=2)
    with pytest.raises(batch.BatchError, match="needs the scheduler's address: pass --scheduler"):
        batch.run_batch(path, url, artifact, engine="dask")
    runs = batch.read_table(url, "runs")  # both failures are recorded runs, with the reason
    assert runs["status"].tolist() == ["failed", "failed"] and runs["error"].str.contains("--scheduler").all()
    assert len(batch.read_table(url, "predictions")) == 0
    code = cli.main(["batch", str(path), "--db", url, "--model", str(artifact), "--engine", "dask"])
    assert code == 1 and "pass --scheduler tcp://HOST:8786" in capsys.readouterr().err


# -- a file larger than a worker's memory ---------------------------------------------------------------------

WORKER_LIMIT = 400 * 2**20
"""memory_limit of each worker process. A worker at rest already holds ~330 MB (Python, distributed, pandas,
scikit-learn, the model: measured here), so this leaves it ~70 MB for the chunks it scores; the nanny kills a
worker above 95% of it. Pausing and spilling are switched off so the limit is the only line: a worker that
crossed it would be restarted, which the test checks did not happen."""
BIG_CHARS = 64_000  # an oversized text (a pasted mail thread): read, shipped and checked by a worker, rejected


def _big_file(path, n_valid=2000, big_after_each=4):
    """Valid tickets, each followed by oversized ones (most of the bytes): (valid frame, rows of the big ones)."""
    frame = tickets.unlabelled(tickets.generate(seed=13, n_tickets=n_valid))
    frame.loc[n_valid - 1, "ticket_id"] = frame.loc[2, "ticket_id"]  # a repeat far from its first copy
    pad, big_rows, number = "x" * BIG_CHARS, [], 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        import csv

        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["ticket_id", "created_at", "text"])
        for i, row in enumerate(frame.itertuples(index=False)):
            out.writerow([row.ticket_id, row.created_at or "", row.text])
            number += 1
            for k in range(big_after_each):
                out.writerow([f"BIG-{i}-{k}", "", pad])
                number += 1
                big_rows.append(number)
    return frame, big_rows


def _peak_rss():
    """This process's peak RSS in bytes: the kernel's high-water mark of its memory map (VmHWM). Not ru_maxrss:
    a process started by fork + exec keeps the forking process's high-water mark there, so a worker spawned
    by a big test process would report that process's peak."""
    from pathlib import Path

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _removed_or_paused(dask_scheduler):
    return [(topic, msg["action"]) for topic, events in dask_scheduler.get_events().items() for _, msg in events
            if isinstance(msg, dict) and (msg.get("action") == "remove-worker"
                                          or (msg.get("action") == "worker-status-change"
                                              and msg.get("status") != "running"))]


@pytest.mark.slow
def test_a_file_larger_than_a_workers_memory_streams_through_workers_within_their_limit(tmp_path, artifact):
    import threading

    import dask
    import numpy as np
    import psutil
    from distributed import Client, LocalCluster

    from lifecycle_lab.deployment import registry

    path = tmp_path / "big.csv"
    frame, big_rows = _big_file(path)
    size = path.stat().st_size
    assert size > 1.2 * WORKER_LIMIT  # larger than a worker's whole memory, not only its headroom
    config = {"distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
              "distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": 0.95}
    url = f"sqlite:///{tmp_path / 'big.db'}"
    with dask.config.set(config), LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                               dashboard_address=None, memory_limit=WORKER_LIMIT) as cluster, \
            Client(cluster.scheduler_address, set_as_default=False) as client:
        warm = tmp_path / "warm.csv"  # the workers import the libraries and load the model once
        frame.head(20).to_csv(warm, index=False)
        batch.run_batch(warm, f"sqlite:///{tmp_path / 'warm.db'}", artifact, create_db=True, engine="dask",
                        scheduler=cluster.scheduler_address)
        pids = client.run(os.getpid)
        me, peak, stop = psutil.Process(), [0], threading.Event()
        rest = me.memory_info().rss

        def sample():  # this process: the job's client and the cluster's scheduler
            while not stop.is_set():
                peak[0] = max(peak[0], me.memory_info().rss)
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            reports = [batch.run_batch(path, url, artifact, chunk_size=100, create_db=True, engine="dask",
                                       scheduler=cluster.scheduler_address) for _ in range(2)]  # the 2nd: a re-run
        finally:
            stop.set()
            sampler.join()
        assert client.run(os.getpid) == pids  # the same two worker processes throughout: none was restarted
        assert client.run_on_scheduler(_removed_or_paused) == []
        worker_peaks = client.run(_peak_rss)
    assert len(worker_peaks) == 2 and max(worker_peaks.values()) < 0.95 * WORKER_LIMIT, worker_peaks
    assert peak[0] - rest < 0.25 * size, (peak[0] - rest, size)  # the client streamed the file, chunk by chunk

    n_valid = len(frame)
    for report in reports:
        assert report.status == "succeeded" and report.workers == 2
        assert (report.rows_in, report.rows_written, report.rows_rejected, report.rows_duplicate) == \
               (n_valid + len(big_rows), n_valid - 1, len(big_rows), 1)
    preds = batch.read_table(url, "predictions").set_index("ticket_id")
    last = frame.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
    assert preds.index.is_unique and sorted(preds.index) == sorted(last.index)  # no duplicates after the re-run
    model, _ = registry.load_artifact(artifact)  # the oracle: the model itself on every valid text
    proba = model.predict_proba(last.loc[preds.index, "text"].tolist())
    assert (preds["predicted_class"].to_numpy() == model.classes_[proba.argmax(axis=1)]).all()
    assert np.allclose(preds["confidence"].to_numpy(), proba.max(axis=1))
    assert (preds["needs_review"].to_numpy() == (proba.max(axis=1) < 0.6)).all()
    rejects = batch.read_table(url, "rejects").sort_values("row_number")
    assert rejects["row_number"].tolist() == big_rows
    assert (rejects["reason"] == f"text has {BIG_CHARS} characters, more than the limit of 2000").all()
    runs = batch.read_table(url, "runs")
    assert runs["status"].tolist() == ["succeeded", "succeeded"]
    assert (runs["rows_in"] == runs["rows_written"] + runs["rows_rejected"] + runs["rows_duplicate"]).all()
