"""Sub-commands `batch` (score a ticket file into a database) and `serve` (run the REST API)."""

from __future__ import annotations

import json
import sys

from .. import paths


def register(sub) -> None:
    batch = sub.add_parser("batch", help="score a ticket CSV into a database (runs/predictions/rejects tables)")
    batch.add_argument("input", help="CSV with columns ticket_id, text (created_at optional)")
    batch.add_argument("--db", default=f"sqlite:///{paths.BUILD / 'batch' / 'predictions.db'}",
                       help="SQLAlchemy URL (default: SQLite under build/batch); e.g. postgresql+psycopg://u:p@host/db")
    batch.add_argument("--model", required=True, help="artifact folder (model.skops + model.json)")
    batch.add_argument("--chunk-size", type=int, default=2000, help="rows per transaction (bounds memory)")
    batch.add_argument("--review-threshold", type=float, default=0.5, help="confidence below which a human reviews")
    batch.add_argument("--expected-version", default=None, help="refuse an artifact of another version")
    batch.add_argument("--pause-after-chunk", type=float, default=0.0, help=argparse_hidden())
    batch.set_defaults(handler=cmd_batch)

    serve = sub.add_parser("serve", help="serve the ticket classifier over HTTP (FastAPI + uvicorn)")
    serve.add_argument("--model", required=True, help="artifact folder (model.skops + model.json)")
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log", default=str(paths.BUILD / "serve" / "predictions.jsonl"),
                       help="JSON-lines prediction log")
    serve.add_argument("--review-threshold", type=float, default=0.5)
    serve.set_defaults(handler=cmd_serve)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS  # seconds to sleep after each chunk: lets tests stop a run half-way


def cmd_batch(args) -> int:
    from ..registry import ArtifactError
    from .batch import BatchError, run_batch

    if args.db == f"sqlite:///{paths.BUILD / 'batch' / 'predictions.db'}":  # the default: create its folder
        (paths.BUILD / "batch").mkdir(parents=True, exist_ok=True)
    try:
        report = run_batch(args.input, args.db, args.model, chunk_size=args.chunk_size,
                           review_threshold=args.review_threshold, pause_after_chunk=args.pause_after_chunk,
                           expected_version=args.expected_version)
    except (BatchError, ArtifactError) as err:
        print(f"lifecycle-lab batch: {err}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_dict(), sort_keys=True))
    return 0


def cmd_serve(args) -> int:
    from ..registry import ArtifactError

    try:
        import uvicorn

        from .api import create_app

        app = create_app(args.model, log_path=args.log, review_threshold=args.review_threshold)
    except ArtifactError as err:
        print(f"lifecycle-lab serve: {err}", file=sys.stderr)
        return 1
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
