"""Batch job throughput and peak memory at 10k, 100k and 1M tickets, beside a naive row-by-row loop.

    .venv/bin/python bench/batch_throughput.py [--sizes 10000 100000 1000000] [--naive-sizes 10000 100000]
                                               [--repeats 3] [--repeat-up-to 100000]

Each measurement runs in its own process so its peak RSS (ru_maxrss) is its own. The chunked job is
`serve.batch.run_batch` (chunks of 2,000 rows, one transaction each, upserts) into a fresh SQLite file.
The naive loop reads the CSV with the csv module and, per row, validates (the same `csvload.check_row`),
calls predict_proba on one text, inserts and commits: what a first script usually does. It is measured on
the sizes in `--naive-sizes` (100k took 252 s, see RESULTS-beginner.md); larger sizes are not run and the
table says so.
Sizes up to `--repeat-up-to` are run `--repeats` times and the median is reported with the range.
Not part of the test suite.
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
    from lifecycle_lab.deployment import registry
    from lifecycle_lab.projects.p01_tickets import world as tickets

    data = tickets.generate(seed=42)
    model = tickets.build_pipeline(42).fit(data["text"], data["label"])
    artifact = folder / "artifact"
    registry.save_artifact(model, artifact, name="bench", version="1", training_data_sha256=tickets.data_hash(data),
                           seed=42, review_threshold=0.5)
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
        from lifecycle_lab.projects.p01_tickets.batch import run_batch

        chunk = int(kind.split(":")[1]) if ":" in kind else 2000
        report = run_batch(path, db, artifact, chunk_size=chunk, create_db=True)
        rows = report.rows_in
    else:
        import csv

        from sqlalchemy import create_engine

        from lifecycle_lab.deployment.registry import load_artifact
        from lifecycle_lab.projects.p01_tickets.schema import check_row, ticket_schema
        from lifecycle_lab.projects.p01_tickets.batch import _tables, connect

        engine = connect(db, create=True)
        _, _, predictions, rejects = _tables()
        model, meta = load_artifact(artifact)
        schema = ticket_schema(labelled=False)
        rows = 0
        threshold = meta.review_threshold
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
                                                             needs_review=bool(proba[best] < threshold),
                                                             created_at=row.get("created_at"), run_id="naive"))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "rows": rows, "seconds": seconds, "peak_mb": peak_mb}))


def measure(kind: str, path: Path, artifact: Path, folder: Path, limit: int, run: int = 0) -> dict:
    stem = kind.replace(":", "_")
    db = f"sqlite:///{folder / f'{stem}_{path.stem}_{run}.db'}"
    done = subprocess.run([sys.executable, __file__, "--worker", kind, str(path), str(artifact), db, str(limit)],
                          capture_output=True, text=True, check=True)
    (folder / f"{stem}_{path.stem}_{run}.db").unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def repeated(kind: str, path: Path, artifact: Path, folder: Path, n: int, repeats: int) -> dict:
    """Median rate and peak over `repeats` runs, with the range of the rates."""
    import statistics

    runs = [measure(kind, path, artifact, folder, n, run) for run in range(repeats)]
    rates = [r["rows"] / r["seconds"] for r in runs]
    return {"rows": runs[0]["rows"], "rate": statistics.median(rates), "low": min(rates), "high": max(rates),
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": statistics.median(r["peak_mb"] for r in runs), "runs": len(runs)}


def _cell(r: dict | None, width: int) -> str:
    if r is None:
        return f"{'not run':>{width}}"
    spread = f" ({r['low']:,.0f}-{r['high']:,.0f})" if r["runs"] > 1 else ""
    return f"{r['rate']:>{width},.0f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--naive-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--repeat-up-to", type=int, default=100_000, help="repeat sizes up to this; larger run once")
    parser.add_argument("--naive-repeat-up-to", type=int, default=10_000)
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
        artifact, files = make_inputs(folder, sorted(set(args.sizes) | set(args.naive_sizes)))
        rows = []
        for n in args.sizes:
            chunked = repeated("chunked", files[n], artifact, folder, n, args.repeats if n <= args.repeat_up_to else 1)
            naive = None
            if n in args.naive_sizes:
                naive = repeated("naive", files[n], artifact, folder, n,
                                 args.repeats if n <= args.naive_repeat_up_to else 1)
            rows.append((n, chunked, naive))
            print(f"{n:,}: chunked {chunked['rate']:,.0f} rows/s (median of {chunked['runs']}), peak "
                  f"{chunked['peak_mb']:.0f} MB" + (f"; naive {naive['rate']:,.0f} rows/s (median of {naive['runs']}), "
                                                     f"peak {naive['peak_mb']:.0f} MB" if naive else ""), flush=True)
        print()
        print(f"{'tickets':>10} | {'chunked rows/s (range)':>26} | {'s':>6} | {'peak MB':>7} | "
              f"{'naive rows/s (range)':>22} | {'s':>6} | {'peak MB':>7} | {'speed-up':>8}")
        for n, c, nv in rows:
            speed = f"{c['rate'] / nv['rate']:.0f}x" if nv else "-"
            naive_s = f"{nv['seconds']:.0f}" if nv else "-"
            naive_mb = f"{nv['peak_mb']:.0f}" if nv else "-"
            print(f"{n:>10,} | {_cell(c, 12):>26} | {c['seconds']:>6.1f} | {c['peak_mb']:>7.0f} | {_cell(nv, 8):>22} | "
                  f"{naive_s:>6} | {naive_mb:>7} | {speed:>8}")
        if args.big_chunk:
            n = max(args.sizes)
            r = measure(f"chunked:{args.big_chunk}", files[n], artifact, folder, n)
            print(f"contrast: {n:,} tickets in chunks of {args.big_chunk:,} rows: {r['rows'] / r['seconds']:,.0f} rows/s, "
                  f"peak {r['peak_mb']:.0f} MB (vs chunks of 2,000 above)")


if __name__ == "__main__":
    main()
