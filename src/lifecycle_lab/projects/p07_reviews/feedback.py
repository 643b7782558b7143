"""The feedback table: what the service predicted, joined later with what turned out to be true.

Why a table and why idempotent: a feedback loop starts when every served prediction is kept with its request id
and model version, and the true label, which arrives days later (a moderator, a return, a support contact), is
attached to it. Both feeds are re-delivered in practice (a log shipped twice, a corrections export re-run), so
loading is idempotent: predictions are keyed on `request_id` (a second copy is ignored), corrections on
`review_id` (the same correction applied twice changes nothing). Accuracy is then measured on the rows whose
label has arrived, and the corrections show which reviews the model gets wrong.

SQLite through SQLAlchemy (the upsert uses SQLite's ON CONFLICT); the table is created on first use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping

from lifecycle_lab.base.errors import LifecycleLabError

LOG_FIELDS = ("request_id", "ticket_id", "model_version", "predicted_class", "confidence")
"""What the shared service's prediction log records for each prediction (its id field is `ticket_id`)."""
LABELS = ("negative", "positive")
_TABLE = None


class FeedbackError(LifecycleLabError, ValueError):
    """A prediction log or a correction does not have what the feedback table needs; the message names it."""


def _table():
    global _TABLE
    if _TABLE is None:
        from sqlalchemy import Column, Float, Integer, MetaData, String, Table

        _TABLE = Table("feedback", MetaData(),
                       Column("request_id", String(80), primary_key=True),
                       Column("review_id", String(200), nullable=False, index=True),
                       Column("model_version", String(64), nullable=False),
                       Column("predicted_label", String(40), nullable=False),
                       Column("confidence", Float, nullable=False),
                       Column("logged_at", Float),                  # the service's timestamp (Unix seconds)
                       Column("corrected_label", String(40)),       # the truth, once it has arrived
                       Column("corrected_day", Integer))            # the day after serving it arrived
    return _TABLE


def connect(db_url: str):
    """An engine on the feedback database, with the table created when missing."""
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    _table().metadata.create_all(engine)
    return engine


def read_log(path) -> list[dict]:
    """The service's JSON-lines prediction log as records; FeedbackError naming the line and field if one lacks
    what the table needs."""
    path = Path(path)
    if not path.is_file():
        raise FeedbackError(f"no prediction log at {path}: start the service with --log {path} and send requests")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise FeedbackError(f"{path.name} line {number} is not JSON ({err.msg}); is it the service's log?") from None
        missing = [f for f in LOG_FIELDS if record.get(f) is None]
        if missing:
            raise FeedbackError(f"{path.name} line {number} lacks {missing}; each prediction needs {list(LOG_FIELDS)} "
                                f"(the review id travels in ticket_id)")
        records.append(record)
    return records


def ingest_predictions(engine, records: Iterable[Mapping]) -> int:
    """Add logged predictions; a request id already in the table is left as it is. Returns rows added."""
    from sqlalchemy import func, select
    from sqlalchemy.dialects.sqlite import insert

    table = _table()
    rows = [{"request_id": str(r["request_id"]), "review_id": str(r["ticket_id"]),
             "model_version": str(r["model_version"]), "predicted_label": str(r["predicted_class"]),
             "confidence": float(r["confidence"]), "logged_at": r.get("ts")} for r in records]
    with engine.begin() as conn:
        before = conn.execute(select(func.count()).select_from(table)).scalar_one()
        if rows:
            conn.execute(insert(table).on_conflict_do_nothing(index_elements=["request_id"]), rows)
        after = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return int(after - before)


def ingest_corrections(engine, corrections) -> dict[str, int]:
    """Attach true labels (columns review_id, corrected_label, arrives_day) to the predictions of those reviews.

    Returns {"changed": rows whose label was set or changed, "unmatched": corrections for reviews never served}.
    Applying the same corrections again changes nothing."""
    from sqlalchemy import and_, or_, select, update

    table = _table()
    changed = unmatched = 0
    with engine.begin() as conn:
        served = set(conn.execute(select(table.c.review_id)).scalars())
        for rid, label, day in zip(corrections["review_id"], corrections["corrected_label"], corrections["arrives_day"]):
            if label not in LABELS:
                raise FeedbackError(f"correction for {rid!r}: label {label!r} is not one of {list(LABELS)}")
            if str(rid) not in served:
                unmatched += 1
                continue
            done = conn.execute(update(table)
                                .where(and_(table.c.review_id == str(rid),
                                            or_(table.c.corrected_label.is_(None), table.c.corrected_label != label)))
                                .values(corrected_label=label, corrected_day=int(day)))
            changed += done.rowcount
    return {"changed": int(changed), "unmatched": int(unmatched)}


def read_feedback(engine) -> "object":
    """The feedback table as a DataFrame, ordered by request id."""
    import pandas as pd

    table = _table()
    with engine.connect() as conn:
        return pd.read_sql(table.select().order_by(table.c.request_id), conn)


def labelled_accuracy(frame) -> tuple[float, int]:
    """(accuracy, rows) over the feedback rows whose true label has arrived."""
    labelled = frame.dropna(subset=["corrected_label"])
    if labelled.empty:
        raise FeedbackError("no corrected labels in the feedback table yet: ingest some corrections first")
    return float((labelled["predicted_label"] == labelled["corrected_label"]).mean()), int(len(labelled))


def accuracy_as_labels_arrive(frame) -> "object":
    """Day by day after serving: how many feedback rows are labelled by then and the accuracy measured on them
    (a DataFrame: day, labelled, accuracy; accuracy is NaN on days before the first label)."""
    import numpy as np
    import pandas as pd

    if frame["corrected_day"].notna().sum() == 0:
        raise FeedbackError("no corrected labels in the feedback table yet: ingest some corrections first")
    right = frame["predicted_label"] == frame["corrected_label"]
    rows = []
    for day in range(1, int(frame["corrected_day"].max()) + 1):
        known = frame["corrected_day"].le(day)  # NaN (not arrived) compares False
        rows.append({"day": day, "labelled": int(known.sum()),
                     "accuracy": float(right[known].mean()) if known.any() else np.nan})
    return pd.DataFrame(rows)
