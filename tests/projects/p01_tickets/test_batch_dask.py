"""The batch job's dask engine (`--engine dask --scheduler ADDRESS`) on a small dask.distributed LocalCluster.

Checked: the predictions and rejects equal those of the single-process job (the oracle: run_batch with
workers=1, itself checked against predict_proba in test_batch.py), every row is accounted for
(rows_in = written + rejected + duplicate), a re-run on the cluster is idempotent, and an unreachable
scheduler or a missing address fails the run in seconds with a message naming --scheduler and the fix,
before the model is loaded or the file read.
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
