"""The prediction audit log: every scored prediction stored once, in a database table (SQLAlchemy).

Why: "which model told us to call this customer, on what inputs, and when?" is asked months later, by an
auditor or after an incident. The log keeps, per prediction: the scoring week, the entity (customer) id,
the model version, a hash of the inputs (not the inputs: the feature store keeps those, under its own
retention rules), the score and the decision. Its primary key is (week, entity_id, model_version), and rows
are inserted with "on conflict do nothing", so re-running a week's scoring (a retried job, a re-run
notebook) adds nothing: the log is append-only and idempotent. Any SQLAlchemy URL works; the workbook uses
SQLite files (`sqlite:///path`). SQLAlchemy and pandas are imported inside the functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle_lab.monitoring.drift import MonitorInputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

COLUMNS = ("week", "entity_id", "model_version", "inputs_hash", "score", "decision")
KEY = ("week", "entity_id", "model_version")


def _table(metadata):
    from sqlalchemy import Column, Float, Integer, String, Table

    return Table("predictions", metadata,
                 Column("week", Integer, primary_key=True, nullable=False),
                 Column("entity_id", String(64), primary_key=True, nullable=False),
                 Column("model_version", String(32), primary_key=True, nullable=False),
                 Column("inputs_hash", String(64), nullable=False),
                 Column("score", Float, nullable=False),
                 Column("decision", Integer, nullable=False))


class AuditLog:
    """The `predictions` table at a database URL (created if missing). `path` may be a file path for SQLite."""

    def __init__(self, url: str | Path):
        from sqlalchemy import MetaData, create_engine

        url = str(url)
        if "://" not in url:
            Path(url).parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{Path(url).resolve()}"
        self.url = url
        self.engine = create_engine(url)
        self._metadata = MetaData()
        self.table = _table(self._metadata)
        self._metadata.create_all(self.engine)

    def append(self, frame: "pd.DataFrame", *, chunk: int = 50_000) -> int:
        """Insert the predictions not yet logged; returns how many rows were new.

        `frame` has the COLUMNS (`decision` 0/1, `score` in [0, 1]); a row whose (week, entity_id,
        model_version) is already in the log is skipped, whatever its other values.
        """
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise MonitorInputError(f"the predictions lack columns {missing}; the audit log needs {list(COLUMNS)}")
        if frame.duplicated(list(KEY)).any():
            raise MonitorInputError(f"the predictions repeat a key {list(KEY)}: one row per prediction")
        score = frame["score"].to_numpy(float)
        if not ((score >= 0) & (score <= 1)).all():
            raise MonitorInputError("score must lie in [0, 1] for every prediction")
        rows = frame[list(COLUMNS)].astype({"week": int, "entity_id": str, "model_version": str, "inputs_hash": str,
                                            "score": float, "decision": int}).to_dict("records")
        stmt = self._insert_ignore()
        before = self.count()
        with self.engine.begin() as conn:
            for i in range(0, len(rows), chunk):
                conn.execute(stmt, rows[i:i + chunk])
        return self.count() - before

    def _insert_ignore(self):
        name = self.engine.dialect.name
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        elif name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:  # pragma: no cover - the workbook runs SQLite (and PostgreSQL in the batch tests)
            raise MonitorInputError(f"the audit log supports SQLite and PostgreSQL, not {name}")
        return insert(self.table).on_conflict_do_nothing(index_elements=list(KEY))

    def count(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())

    def read(self, week: int | None = None) -> "pd.DataFrame":
        """The logged predictions (of one week, or all), in key order."""
        import pandas as pd
        from sqlalchemy import select

        q = select(self.table).order_by(*[self.table.c[k] for k in KEY])
        if week is not None:
            q = q.where(self.table.c.week == int(week))
        with self.engine.connect() as conn:
            return pd.read_sql(q, conn)

    def close(self) -> None:
        self.engine.dispose()
