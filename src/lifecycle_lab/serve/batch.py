"""The scheduled batch job: score a ticket file into a database, safely re-runnable.

Why each rule:
- a `runs` table records every run (run_id, started, finished, status, rows_in, rows_written, rows_rejected,
  error): the monitoring dashboard reads job success and volume from it, not from logs;
- predictions are upserted on (ticket_id, model_version): a job killed half-way and re-run, or run twice by
  a scheduler, leaves no duplicates and loses no rows;
- rows that fail the ticket schema go to `rejects` with the reason, never dropped silently, so
  rows_in == rows_written + rows_rejected always holds;
- the file is read in chunks and each chunk is committed in one transaction, so memory stays bounded and
  a crash loses at most the chunk in flight (which the re-run writes).

SQLite by default; any SQLAlchemy URL (e.g. postgresql+psycopg://...) otherwise. Heavy imports inside functions.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DEFAULT_CHUNK = 2000
_TABLES = None


class BatchError(RuntimeError):
    """The batch job could not run or finish; the message says what failed and how to fix it."""


@dataclass
class RunReport:
    run_id: str
    status: str
    rows_in: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    chunks: int = 0
    model_version: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _tables():
    """The three tables, built on first use (SQLAlchemy is not imported with the module)."""
    global _TABLES
    if _TABLES is not None:
        return _TABLES
    from sqlalchemy import (Boolean, Column, DateTime, Float, Integer, MetaData, PrimaryKeyConstraint, String,
                            Table, Text)

    md = MetaData()
    runs = Table("runs", md,
                 Column("run_id", String(40), primary_key=True),
                 Column("started", DateTime(timezone=True), nullable=False),
                 Column("finished", DateTime(timezone=True)),
                 Column("status", String(20), nullable=False),  # running, succeeded, failed, interrupted
                 Column("rows_in", Integer, nullable=False, default=0),
                 Column("rows_written", Integer, nullable=False, default=0),
                 Column("rows_rejected", Integer, nullable=False, default=0),
                 Column("error", Text),
                 Column("model_version", String(64)),
                 Column("input_name", String(300)),
                 Column("input_sha256", String(64)))
    predictions = Table("predictions", md,
                        Column("ticket_id", String(200), nullable=False),
                        Column("model_version", String(64), nullable=False),
                        Column("predicted_class", String(40), nullable=False),
                        Column("confidence", Float, nullable=False),
                        Column("needs_review", Boolean, nullable=False),
                        Column("created_at", String(40)),
                        Column("run_id", String(40), nullable=False),
                        PrimaryKeyConstraint("ticket_id", "model_version", name="pk_predictions"))
    rejects = Table("rejects", md,
                    Column("input_sha256", String(64), nullable=False),
                    Column("row_number", Integer, nullable=False),
                    Column("model_version", String(64), nullable=False),
                    Column("ticket_id", String(200)),
                    Column("reason", Text, nullable=False),
                    Column("run_id", String(40), nullable=False),
                    PrimaryKeyConstraint("input_sha256", "row_number", "model_version", name="pk_rejects"))
    _TABLES = (md, runs, predictions, rejects)
    return _TABLES


def masked(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def connect(db_url: str):
    """An engine whose database is reachable and has the tables; BatchError with a clear message otherwise."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise BatchError(f"{db_url!r} is not a database URL; use e.g. sqlite:///predictions.db or "
                         f"postgresql+psycopg://user:password@host:5432/dbname") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise BatchError(f"the SQLite database folder {folder} does not exist; create it or point --db at "
                             f"an existing folder")
    try:
        kwargs = {"connect_args": {"connect_timeout": 5}} if url.get_backend_name() == "postgresql" else {}
        engine = create_engine(url, **kwargs)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except NoSuchModuleError:
        raise BatchError(f"no SQLAlchemy driver for {masked(db_url)}; install it or use sqlite:///...") from None
    except (OperationalError, SQLAlchemyError, OSError) as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err) else type(err).__name__
        raise BatchError(f"cannot reach the database {masked(db_url)}: {reason}. Check that the server runs, "
                         f"the URL (host, port, user, password, database) is right, and the database exists.") from None
    md = _tables()[0]
    try:
        md.create_all(engine)
    except SQLAlchemyError as err:
        raise BatchError(f"cannot create the tables in {masked(db_url)}: {getattr(err, 'orig', err)}; the user "
                         f"needs CREATE rights") from None
    return engine


def _upsert(conn, table, rows: list[dict], keys: list[str]) -> None:
    """Insert rows, replacing any with the same key: what makes a re-run idempotent."""
    if not rows:
        return
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(index_elements=keys,
                                          set_={c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys})
        conn.execute(stmt, rows)
        return
    from sqlalchemy import and_, or_

    # other databases: delete the keys, then insert, inside the caller's transaction
    cond = or_(*[and_(*[table.c[k] == r[k] for k in keys]) for r in rows])
    conn.execute(table.delete().where(cond))
    conn.execute(table.insert(), rows)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def validate_chunk(chunk: "Any") -> tuple["Any", list[tuple[int, Any, str]]]:
    """Split a chunk (strings) into valid rows and (row_number, ticket_id, reason) rejects, vectorised.

    The rules are the ticket schema's (scenarios.csvload.ticket_schema): non-empty id of <= 200 characters,
    non-empty text of <= MAX_TEXT_CHARS, an optional ISO timestamp. Row numbers count data rows from 1.
    """
    import numpy as np
    import pandas as pd

    from ..scenarios.csvload import ticket_schema

    schema = ticket_schema(labelled=False)
    max_chars = schema.column("text").max_chars
    reason = pd.Series("", index=chunk.index, dtype=object)
    tid = chunk["ticket_id"].fillna("").astype(str).str.strip()
    text = chunk["text"].fillna("").astype(str)
    created = chunk["created_at"].fillna("").astype(str).str.strip() if "created_at" in chunk else None

    def mark(mask, message):
        mask = mask & (reason == "")
        reason[mask] = message

    mark(tid == "", "ticket_id is empty")
    mark(tid.str.len() > 200, "ticket_id is longer than 200 characters")
    mark(text.str.strip() == "", "text is empty")
    lengths = text.str.len()
    too_long = lengths > max_chars
    if too_long.any():
        reason[too_long & (reason == "")] = [f"text has {n} characters, more than the limit of {max_chars}"
                                             for n in lengths[too_long & (reason == "")]]
    if created is not None:
        parsed = pd.to_datetime(created.where(created != ""), errors="coerce", format="ISO8601")
        bad = (created != "") & parsed.isna()
        if bad.any():
            reason[bad & (reason == "")] = [f"created_at {v!r} is not a date-time (use ISO format)"
                                            for v in created[bad & (reason == "")]]
    bad_rows = reason != ""
    rejects = [(int(n), (t or None), r) for n, t, r in zip(chunk["_row"][bad_rows], tid[bad_rows], reason[bad_rows])]
    good = chunk.loc[~bad_rows].assign(ticket_id=tid[~bad_rows])
    return good, rejects


def run_batch(input_path: str | Path, db_url: str, artifact_dir: str | Path, *, chunk_size: int = DEFAULT_CHUNK,
              review_threshold: float = 0.5, pause_after_chunk: float = 0.0,
              expected_version: str | None = None) -> RunReport:
    """Score every row of a ticket CSV into `predictions` (upsert) and `rejects`; record the run in `runs`.

    Raises BatchError (after recording a failed run, when the runs table can be written) on any failure.
    `pause_after_chunk` sleeps after each committed chunk: used to stop a run half-way in tests and demos.
    """
    from sqlalchemy import update

    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise BatchError(f"chunk_size={chunk_size!r} must be a whole number >= 1 (rows per transaction)")
    engine = connect(db_url)
    _, runs, predictions, rejects = _tables()
    input_path = Path(input_path)
    report = RunReport(run_id=uuid.uuid4().hex, status="running")
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    with engine.begin() as conn:
        conn.execute(runs.insert().values(run_id=report.run_id, started=now(), status="running", rows_in=0,
                                          rows_written=0, rows_rejected=0, input_name=input_path.name[:300]))
    try:
        from ..registry import load_artifact

        if not input_path.is_file():
            raise BatchError(f"input file {input_path} does not exist; pass a CSV with columns ticket_id, text "
                             f"(and optionally created_at)")
        digest = file_sha256(input_path)
        model, meta = load_artifact(artifact_dir, expected_version=expected_version)
        report.model_version = meta.version
        with engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.run_id == report.run_id)
                         .values(model_version=meta.version, input_sha256=digest))
            # an earlier run of the same file and model that never finished was killed: say so
            conn.execute(update(runs).where((runs.c.status == "running") & (runs.c.run_id != report.run_id)
                                            & (runs.c.input_sha256 == digest) & (runs.c.model_version == meta.version))
                         .values(status="interrupted", error="the process stopped before finishing (killed?); "
                                                             "a later run re-scored the file"))
        _score_file(engine, input_path, digest, model, meta.version, report, chunk_size, review_threshold,
                    pause_after_chunk)
        report.status = "succeeded"
        with engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.run_id == report.run_id)
                         .values(status="succeeded", finished=now(), rows_in=report.rows_in,
                                 rows_written=report.rows_written, rows_rejected=report.rows_rejected))
        return report
    except Exception as err:
        from ..registry import ArtifactError
        from ..scenarios.csvload import SchemaError

        known = isinstance(err, (BatchError, ArtifactError, SchemaError))
        report.status = "failed"
        report.error = str(err) if known else f"{type(err).__name__}: {err}"
        try:
            with engine.begin() as conn:
                conn.execute(update(runs).where(runs.c.run_id == report.run_id)
                             .values(status="failed", finished=now(), error=report.error[:4000],
                                     rows_in=report.rows_in, rows_written=report.rows_written,
                                     rows_rejected=report.rows_rejected))
        except Exception:  # the database went away mid-run: the message below still says what failed
            report.error += " (and the failed run could not be recorded)"
        raise BatchError(f"batch run {report.run_id} failed: {report.error}") from (None if known else err)


def _score_file(engine, input_path: Path, digest: str, model, version: str, report: RunReport, chunk_size: int,
                review_threshold: float, pause_after_chunk: float) -> None:
    import numpy as np
    import pandas as pd
    from sqlalchemy import update

    from ..scenarios.csvload import SchemaError, check_columns, ticket_schema

    _, runs, predictions, rejects = _tables()
    classes = np.asarray(model.classes_)
    try:
        reader = pd.read_csv(input_path, dtype=str, keep_default_na=False, chunksize=chunk_size)
        first_row = 1
        for chunk in reader:
            if report.chunks == 0:
                check_columns(ticket_schema(labelled=False), list(chunk.columns), where=input_path.name)
            chunk = chunk.assign(_row=np.arange(first_row, first_row + len(chunk)))
            first_row += len(chunk)
            good, bad = validate_chunk(chunk)
            good = good.drop_duplicates("ticket_id", keep="last")  # one row per key inside a statement
            rows = []
            if len(good):
                proba = model.predict_proba(good["text"].tolist())
                best = proba.argmax(axis=1)
                conf = proba[np.arange(len(best)), best]
                created = good["created_at"] if "created_at" in good else pd.Series([None] * len(good))
                rows = [{"ticket_id": t, "model_version": version, "predicted_class": str(c), "confidence": float(p),
                         "needs_review": bool(p < review_threshold), "created_at": (ca or None),
                         "run_id": report.run_id}
                        for t, c, p, ca in zip(good["ticket_id"], classes[best], conf, created)]
            reject_rows = [{"input_sha256": digest, "row_number": n, "model_version": version,
                            "ticket_id": (None if t is None else str(t)[:200]), "reason": r, "run_id": report.run_id}
                           for n, t, r in bad]
            report.rows_in += len(chunk)
            report.rows_written += len(chunk) - len(bad)  # duplicates within the file count as written (upserted)
            report.rows_rejected += len(bad)
            report.chunks += 1
            with engine.begin() as conn:  # one transaction per chunk: all of it or none of it
                _upsert(conn, predictions, rows, ["ticket_id", "model_version"])
                _upsert(conn, rejects, reject_rows, ["input_sha256", "row_number", "model_version"])
                conn.execute(update(runs).where(runs.c.run_id == report.run_id)
                             .values(rows_in=report.rows_in, rows_written=report.rows_written,
                                     rows_rejected=report.rows_rejected))
            if pause_after_chunk:
                time.sleep(pause_after_chunk)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise SchemaError(f"{input_path.name} could not be read as a UTF-8 CSV ({err}); save it as CSV with a "
                          f"header row ticket_id,created_at,text") from None


def read_table(db_url: str, name: str) -> "Any":
    """A table of the batch database as a DataFrame (runs, predictions or rejects), for the dashboard."""
    import pandas as pd

    if name not in ("runs", "predictions", "rejects"):
        raise BatchError(f"table {name!r}: choose runs, predictions or rejects")
    engine = connect(db_url)
    table = {t.name: t for t in _tables()[1:]}[name]
    query = table.select().order_by(table.c.started) if name == "runs" else table.select()
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def cron_line(input_path: str, db_url: str, artifact_dir: str, hour: int = 2) -> str:
    """The crontab line that runs the job every night (what `crontab -e` would hold on a server)."""
    return (f"0 {hour} * * * cd /srv/lifecycle-lab && .venv/bin/lifecycle-lab batch {input_path} "
            f"--db '{db_url}' --model {artifact_dir} >> /var/log/lifecycle-lab/batch.log 2>&1")
