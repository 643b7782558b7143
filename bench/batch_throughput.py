"""Batch job throughput and peak memory at 10k, 100k and 1M tickets, beside a naive row-by-row loop.

    .venv/bin/python bench/batch_throughput.py [--sizes 10000 100000 1000000] [--naive-rows 10000]

Each measurement runs in its own process so its peak RSS (ru_maxrss) is its own. The chunked job is
`serve.batch.run_batch` (chunks of 2,000 rows, one transaction each, upserts) into a fresh SQLite file.
The naive loop reads the CSV with the csv module and, per row, validates, calls predict_proba on one text,
inserts and commits: what a first script usually does. It is run on `--naive-rows` rows and its rate is
extrapolated to the larger sizes (said so in the output). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def make_inputs(folder: Path, sizes: list[int]) -> tuple[Path, dict[int, Path]]:
    from lifecycle_lab import registry
    from lifecycle_lab.scenarios import tickets

    data = tickets.generate(seed=42)
    model = tickets.build_pipeline(42).fit(data["text"], data["label"])
    artifact = folder / "artifact"
    registry.save_artifact(model, artifact, name="bench", version="1", training_data_sha256=tickets.data_hash(data),
                           seed=42)
    block = tickets.unlabelled(tickets.generate(seed=7, n_tickets=min(max(sizes), 100_000), drift=0.3))
    files = {}
    for n in sizes:
        path = folder / f"tickets_{n}.csv"
        with open(path, "w", encoding="utf-8") as fh:  # repeat the block with fresh ids: generation is not the point
            written = 0
            rep = 0
            while written < n:
                part = block.head(n - written).copy()
                part["ticket_id"] = [f"B{rep}-{i}" for i in range(len(part))]
                part.to_csv(fh, index=False, header=(rep == 0), lineterminator="\n")
                written += len(part)
                rep += 1
        files[n] = path
    return artifact, files


def worker(kind: str, path: str, artifact: str, db: str, limit: int) -> None:
    # import the libraries first: the clock measures loading the artifact and scoring, not Python start-up
    import pandas  # noqa: F401
    import skops.io  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sqlalchemy  # noqa: F401

    start = time.perf_counter()
    if kind.startswith("chunked"):
        from lifecycle_lab.serve.batch import run_batch

        chunk = int(kind.split(":")[1]) if ":" in kind else 2000
        report = run_batch(path, db, artifact, chunk_size=chunk)
        rows = report.rows_in
    else:
        import csv

        from sqlalchemy import create_engine

        from lifecycle_lab.registry import load_artifact
        from lifecycle_lab.scenarios.csvload import check_row, ticket_schema
        from lifecycle_lab.serve.batch import _tables, connect

        engine = connect(db)
        _, _, predictions, rejects = _tables()
        model, meta = load_artifact(artifact)
        schema = ticket_schema(labelled=False)
        rows = 0
        with open(path, newline="", encoding="utf-8") as fh:
            for number, row in enumerate(csv.DictReader(fh), start=1):
                if rows >= limit:
                    break
                rows += 1
                reason = check_row(schema, row)
                with engine.begin() as conn:
                    if reason:
                        conn.execute(rejects.insert().values(input_sha256="naive", row_number=number,
                                                             model_version=meta.version, ticket_id=row["ticket_id"],
                                                             reason=reason, run_id="naive"))
                        continue
                    proba = model.predict_proba([row["text"]])[0]
                    best = int(proba.argmax())
                    conn.execute(predictions.insert().values(ticket_id=row["ticket_id"], model_version=meta.version,
                                                             predicted_class=str(model.classes_[best]),
                                                             confidence=float(proba[best]),
                                                             needs_review=bool(proba[best] < 0.5),
                                                             created_at=row.get("created_at"), run_id="naive"))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "rows": rows, "seconds": seconds, "peak_mb": peak_mb}))


def measure(kind: str, path: Path, artifact: Path, folder: Path, limit: int) -> dict:
    stem = kind.replace(":", "_")
    db = f"sqlite:///{folder / f'{stem}_{path.stem}.db'}"
    done = subprocess.run([sys.executable, __file__, "--worker", kind, str(path), str(artifact), db, str(limit)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-rows", type=int, default=10_000)
    parser.add_argument("--big-chunk", type=int, default=250_000,
                        help="also run the largest file with chunks this big: shows that the chunk bounds memory")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, path, artifact, db, limit = args.worker
        worker(kind, path, artifact, db, int(limit))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        artifact, files = make_inputs(folder, args.sizes)
        naive = measure("naive", files[min(args.sizes)], artifact, folder, args.naive_rows)
        naive_rate = naive["rows"] / naive["seconds"]
        print(f"naive row-by-row loop: {naive['rows']:,} rows in {naive['seconds']:.1f} s = {naive_rate:,.0f} rows/s, "
              f"peak {naive['peak_mb']:.0f} MB (larger sizes extrapolated from this rate)")
        print(f"{'tickets':>10} {'chunked rows/s':>15} {'chunked s':>10} {'peak MB':>8} {'naive rows/s':>13} "
              f"{'naive s':>9} {'speed-up':>9}")
        for n in args.sizes:
            r = measure("chunked", files[n], artifact, folder, n)
            rate = r["rows"] / r["seconds"]
            naive_s = n / naive_rate
            mark = "" if n <= naive["rows"] else " (extrapolated)"
            print(f"{n:>10,} {rate:>15,.0f} {r['seconds']:>10.1f} {r['peak_mb']:>8.0f} {naive_rate:>13,.0f} "
                  f"{naive_s:>9.0f} {rate / naive_rate:>8.1f}x{mark}")
        if args.big_chunk:
            n = max(args.sizes)
            r = measure(f"chunked:{args.big_chunk}", files[n], artifact, folder, n)
            print(f"contrast: {n:,} tickets in chunks of {args.big_chunk:,} rows: {r['rows'] / r['seconds']:,.0f} rows/s, "
                  f"peak {r['peak_mb']:.0f} MB (vs chunks of 2,000 above)")


if __name__ == "__main__":
    main()
