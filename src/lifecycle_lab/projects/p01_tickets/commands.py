"""Sub-commands `batch` (score a ticket file into a database), `serve` (run the REST API) and
`export-model` (write the registry's @champion as the artifact folder both of them load)."""

from __future__ import annotations

import json
import logging
import sys

from lifecycle_lab.base import paths
from lifecycle_lab.deployment.batching import BatchingError
from lifecycle_lab.deployment.registry import ArtifactError, export_artifact
from lifecycle_lab.monitoring.prometheus import PUSHGATEWAY_ENV, PrometheusError, gateway_from_env, push_run
from lifecycle_lab.projects.p01_tickets.api import MODEL_BATCH, MODEL_WAIT_MS, create_app
from lifecycle_lab.projects.p01_tickets.batch import BatchError, run_batch, usable_cores

DEFAULT_DB = f"sqlite:///{paths.BUILD / 'batch' / 'predictions.db'}"
DEFAULT_LEDGER = paths.BUILD / "batch" / "runs_failed.jsonl"


def register(sub) -> None:
    batch = sub.add_parser("batch", help="score a ticket CSV into a database (runs/predictions/rejects tables)")
    batch.add_argument("input", help="CSV with columns ticket_id, text (created_at optional)")
    batch.add_argument("--db", default=DEFAULT_DB,
                       help="SQLAlchemy URL (default: SQLite under build/batch); e.g. postgresql+psycopg://u:p@host/db")
    batch.add_argument("--create-db", action="store_true",
                       help="create the SQLite file if it does not exist (without it a missing file is an error, "
                            "so a mistyped path never becomes a new empty database)")
    batch.add_argument("--model", required=True, help="artifact folder (model.skops + model.json)")
    batch.add_argument("--chunk-size", type=int, default=2000, help="rows per transaction (bounds memory)")
    batch.add_argument("--review-threshold", type=float, default=None,
                       help="confidence below which a human reviews (default: the one recorded in the artifact)")
    batch.add_argument("--expected-version", default=None, help="refuse an artifact of another version")
    batch.add_argument("--runs-ledger", default=str(DEFAULT_LEDGER),
                       help="JSON-lines file where a failed run is recorded when the database cannot be "
                            "(unreachable, missing); default: %(default)s")
    batch.add_argument("--engine", choices=("processes", "dask"), default="processes",
                       help="where chunks are scored: processes on this machine (default) or a dask.distributed "
                            "cluster (with --scheduler); this process reads the file and writes every chunk")
    batch.add_argument("--workers", type=int, default=None,
                       help="scoring processes for --engine processes (default: the usable cores, here "
                            f"{usable_cores()}; 1 scores in this process)")
    batch.add_argument("--scheduler", default=None,
                       help="address of the dask scheduler for --engine dask, e.g. tcp://10.0.0.5:8786")
    batch.add_argument("--pushgateway", default=None,
                       help="Prometheus Pushgateway URL to push the run's outcome and volume to at its end "
                            f"(default: ${PUSHGATEWAY_ENV} if set, else no push)")
    batch.add_argument("--pause-after-chunk", type=float, default=0.0, help=argparse_hidden())
    batch.set_defaults(handler=cmd_batch)

    serve = sub.add_parser("serve", help="serve the ticket classifier over HTTP (FastAPI + uvicorn)")
    serve.add_argument("--model", required=True, help="artifact folder (model.skops + model.json)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log", default=str(paths.BUILD / "serve" / "predictions.jsonl"),
                       help="JSON-lines prediction log")
    serve.add_argument("--review-threshold", type=float, default=None,
                       help="confidence below which a human reviews (default: the one recorded in the artifact)")
    serve.add_argument("--max-batch", type=int, default=MODEL_BATCH,
                       help="texts per micro-batched model call (default: %(default)s; 1 = one call per request)")
    serve.add_argument("--batch-wait-ms", type=float, default=MODEL_WAIT_MS,
                       help="how long a lone request waits for others to share its model call "
                            "(default: %(default)s ms)")
    serve.set_defaults(handler=cmd_serve)

    export = sub.add_parser("export-model", help="write the model an MLflow registry alias points to (e.g. "
                                                 "champion) as a verified artifact folder for batch and serve")
    export.add_argument("--registry", required=True, help="MLflow tracking URI, e.g. sqlite:///build/mlflow.db")
    export.add_argument("--name", default="ticket-classifier", help="registered model name")
    export.add_argument("--alias", default="champion", help="alias to export (champion, challenger, ...)")
    export.add_argument("--to", required=True, help="artifact folder to write")
    export.set_defaults(handler=cmd_export)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS  # seconds to sleep after each chunk: lets tests stop a run half-way


def _log_to_stderr() -> None:
    """Progress and failures as timestamped lines on stderr (a cron line's `2>&1` keeps them)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("lifecycle_lab")
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def cmd_batch(args) -> int:
    _log_to_stderr()
    if args.engine != "dask" and args.scheduler:
        print("lifecycle-lab batch: --scheduler is the dask scheduler's address; add --engine dask to use it",
              file=sys.stderr)
        return 2
    if args.db == DEFAULT_DB and args.create_db:  # the default database: create its folder too
        (paths.BUILD / "batch").mkdir(parents=True, exist_ok=True)
    try:
        report = run_batch(args.input, args.db, args.model, chunk_size=args.chunk_size,
                           review_threshold=args.review_threshold, pause_after_chunk=args.pause_after_chunk,
                           expected_version=args.expected_version, create_db=args.create_db,
                           ledger=args.runs_ledger, workers=args.workers, engine=args.engine,
                           scheduler=args.scheduler)
    except (BatchError, ArtifactError) as err:
        failed = getattr(err, "report", None)
        if failed is not None:  # the failed run, as the one JSON line on stdout a scheduler can parse
            print(json.dumps(failed.as_dict(), sort_keys=True))
            _push(args, failed.as_dict())
        print(f"lifecycle-lab batch: {err}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_dict(), sort_keys=True))
    _push(args, report.as_dict())
    return 0


def _push(args, report: dict) -> bool:
    """Push the run's outcome to the Pushgateway when one is given. A failed push is reported on stderr but
    does not fail a run whose rows are written (the data is right; a missing push shows as a stale
    batch_last_run_timestamp_seconds in monitoring). Returns whether the metrics reached the gateway."""
    gateway = gateway_from_env(args.pushgateway)
    if not gateway:
        return True
    try:
        push_run(gateway, report)
    except PrometheusError as err:
        print(f"lifecycle-lab batch: {err}", file=sys.stderr)
        return False
    return True


def cmd_serve(args) -> int:
    _log_to_stderr()
    try:
        import uvicorn

        app = create_app(args.model, log_path=args.log, review_threshold=args.review_threshold,
                         max_batch=args.max_batch, max_wait_ms=args.batch_wait_ms)
    except (ArtifactError, BatchingError) as err:
        print(f"lifecycle-lab serve: {err}", file=sys.stderr)
        return 1
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def cmd_export(args) -> int:
    try:
        meta = export_artifact(args.registry, args.name, args.alias, args.to)
    except ArtifactError as err:
        print(f"lifecycle-lab export-model: {err}", file=sys.stderr)
        return 1
    print(json.dumps({"folder": args.to, "name": meta.name, "version": meta.version, "sha256": meta.sha256,
                      "review_threshold": meta.review_threshold, "source": meta.source}, sort_keys=True))
    return 0
