"""The prediction audit log is stored for real (SQLite through SQLAlchemy) and is idempotent per
(week, customer, model version): re-running a week's scoring logs nothing twice."""

import sqlite3

import pytest

from lifecycle_lab.monitoring.audit import AuditLog
from lifecycle_lab.monitoring.drift import MonitorInputError
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn import operate as op
from lifecycle_lab.projects.p04_churn.world import ChurnWorld


def test_every_prediction_is_stored_once_and_a_rerun_adds_nothing(tmp_path):
    world = ChurnWorld(n_weeks=10, launch_week=4, n_per_week=500)
    champion = churn_model.train(world.history())
    log = op.score_weeks(world, champion, range(6))
    path = tmp_path / "audit.sqlite"
    store, added = op.log_predictions(log, path)
    assert added == len(log) == 6 * 500
    assert op.log_predictions(log, path)[1] == 0  # the re-run of the same weeks: nothing new
    again = op.score_weeks(world, champion, range(4, 8))  # weeks 4-5 again, 6-7 new
    assert op.log_predictions(again, path)[1] == 2 * 500
    # a new model version scoring week 5 is a new prediction (and kept beside the old one)
    retrained = churn_model.train(world.weeks(0, 4))
    v2 = op.score_weeks(world, retrained, [5], version="2")
    assert op.log_predictions(v2, path)[1] == 500
    # read back with sqlite3 itself (an independent reader): the stored rows are the scored ones
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT week, entity_id, model_version, inputs_hash, score, decision FROM predictions "
                          "WHERE week = 5 AND model_version = '1' ORDER BY entity_id").fetchall()
        total = db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
        keys = db.execute("SELECT COUNT(DISTINCT week || entity_id || model_version) FROM predictions").fetchone()[0]
    assert total == keys == 9 * 500
    week5 = log[log.week == 5].sort_values("customer_id")
    assert [r[1] for r in rows] == week5.customer_id.tolist()
    assert [r[3] for r in rows] == week5.inputs_hash.tolist() == op.inputs_hash(world.week(5).sort_values("customer_id"))
    assert [r[4] for r in rows] == pytest.approx(week5.score.tolist(), abs=1e-12)
    assert [r[5] for r in rows] == week5.flag.tolist()
    assert store.read(week=5).model_version.value_counts().to_dict() == {"1": 500, "2": 500}
    store.close()


def test_bad_predictions_are_refused_with_the_column_named(tmp_path):
    store = AuditLog(tmp_path / "audit.sqlite")
    good = {"week": [1], "entity_id": ["c1"], "model_version": ["1"], "inputs_hash": ["ab"], "score": [0.2],
            "decision": [1]}
    import pandas as pd

    with pytest.raises(MonitorInputError, match="inputs_hash"):
        store.append(pd.DataFrame({k: v for k, v in good.items() if k != "inputs_hash"}))
    with pytest.raises(MonitorInputError, match="score"):
        store.append(pd.DataFrame({**good, "score": [1.5]}))
    with pytest.raises(MonitorInputError, match="repeat"):
        store.append(pd.concat([pd.DataFrame(good)] * 2))
    assert store.append(pd.DataFrame(good)) == 1 and store.count() == 1
