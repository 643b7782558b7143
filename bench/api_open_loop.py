"""Open-loop latency of the ticket API beside a bare FastAPI endpoint, in one run (see RESULTS-api-open-loop.md).

    .venv/bin/python bench/api_open_loop.py [--seconds 10] [--long-seconds 60] [--rates 50 100 200 ...]
                                            [--workers N] [--json bench/RESULTS-api-open-loop.json]

Both servers are real uvicorn processes on 127.0.0.1 (never another host). The load generator is
`lifecycle_lab.deployment.loadtest` (aiohttp, open loop): request i is due at start + i / rate whatever
happened to earlier ones, and its latency runs from that due time to the end of the answer, so a server
(or a generator) that falls behind shows in the numbers ("coordinated omission" is not hidden). Request
bodies are the texts of datasets/tickets.csv. Two parts:

1. A ladder of rates, `--seconds` per rung (after 1 s of unmeasured warm-up), the servers interleaved
   rate by rate so that both see the same machine; a server leaves the ladder at the first rate it does not
   hold (any error, the generator missing the rate by > 5 %, or p99 >= 200 ms, the seeds' SLA).
2. 200 requests/s for `--long-seconds` against each in turn (never two at the same time).

`--before GIT_REF` adds the ticket API of an earlier commit, `--no-batch` the current one without
micro-batching: the ratios to the bare endpoint, measured in the same run, are the before/after figures.

Tests never assert timings; this script is not part of the suite. The 1-minute load average is sampled at
every rung: the machine is shared, so compare the ratios measured side by side, not absolute figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import api_latency  # bench/ is on sys.path when a bench script runs

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

BARE = """
import sys, uvicorn
from typing import Optional, Union
from fastapi import FastAPI
from pydantic import BaseModel

class Ticket(BaseModel):
    text: str
    ticket_id: Optional[Union[str, int]] = None

app = FastAPI()

@app.post("/predict")
def predict(ticket: Ticket):
    return {"ticket_id": ticket.ticket_id, "predicted_class": "Billing", "confidence": 1.0}

@app.get("/health")
def health():
    return {"status": "ok"}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


class OldServer:
    """The ticket API of an earlier commit: its src/ exported with `git archive`, served with PYTHONPATH
    pointing there (ahead of the working tree's editable install), so before and after run side by side."""

    def __init__(self, ref: str, folder: Path, artifact: Path, log_path: Path):
        from lifecycle_lab.base import paths
        from lifecycle_lab.projects.p01_tickets.api import Server

        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(paths.ROOT), "archive", ref, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
        self.src = folder / "src"
        self.server = Server(artifact, log_path)
        self.url = self.server.url

    def __enter__(self):
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = str(self.src)
        try:
            self.server.__enter__()
        finally:
            if old is None:
                os.environ.pop("PYTHONPATH")
            else:
                os.environ["PYTHONPATH"] = old
        return self

    def __exit__(self, *exc):
        return self.server.__exit__(*exc)


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def row(r, held=None) -> dict:
    out = {"name": r.name, "rate": r.target_rps, "requests": r.n, "errors": r.errors,
           "achieved_rps": round(r.achieved_rps, 1), "p50_ms": round(r.percentile(50), 2) if r.n else None,
           "p99_ms": round(r.percentile(99), 2) if r.n else None, "max_send_lag_ms": round(r.max_send_lag_ms, 2)}
    if held is not None:
        out["held"] = held
    return out


def main() -> None:
    import pandas as pd

    from lifecycle_lab.base import paths
    from lifecycle_lab.deployment import loadtest, registry
    from lifecycle_lab.projects.p01_tickets import world as tickets
    from lifecycle_lab.projects.p01_tickets.api import Server

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per rung of the ladder")
    parser.add_argument("--long-seconds", type=float, default=60.0, help="seconds of the 200 req/s run")
    parser.add_argument("--rates", type=float, nargs="+",
                        default=[50, 100, 200, 300, 400, 600, 800, 1000, 1200, 1600, 2000])
    parser.add_argument("--before", default=None, metavar="GIT_REF",
                        help="also serve the ticket API of this commit (its src/ exported to a temporary folder) "
                             "as 'ticket-before', side by side with the working tree's")
    parser.add_argument("--no-batch", action="store_true",
                        help="also serve the working tree's API with --max-batch 1 as 'ticket-nobatch'")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    args = parser.parse_args()

    texts = pd.read_csv(paths.ROOT / "datasets" / "tickets.csv")["text"].tolist()

    def bodies(n: int) -> list[dict]:
        return [{"ticket_id": f"load-{i}", "text": texts[i % len(texts)]} for i in range(n)]

    report: dict = {"machine": machine(), "settings": vars(args)}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        data = tickets.generate(seed=42)
        model = tickets.build_pipeline(42).fit(data["text"], data["label"])
        artifact = Path(tmp) / "artifact"
        registry.save_artifact(model, artifact, name="bench", version="1", training_data_sha256="-", seed=42,
                               review_threshold=0.5)
        servers = {"bare": api_latency.BareServer(BARE), "ticket": Server(artifact, Path(tmp) / "log.jsonl")}
        if args.no_batch:
            servers["ticket-nobatch"] = Server(artifact, Path(tmp) / "log-nobatch.jsonl", max_batch=1)
        if args.before:
            servers["ticket-before"] = OldServer(args.before, Path(tmp) / "before", artifact,
                                                 Path(tmp) / "log-before.jsonl")
        with contextlib.ExitStack() as stack:
            targets = {name: stack.enter_context(server).url for name, server in servers.items()}
            loadtest.run_http_load_test(targets, bodies(300), 100, warmup=290)  # warm both (imports, pools)
            steps = loadtest.sustained_rate(targets, bodies, args.rates, seconds=args.seconds,
                                            max_seconds=max(60.0, args.seconds))
            report["ladder"] = [{**row(s.result, s.held), "load_average": round(s.load_average, 2)} for s in steps]
            report["highest_rate_held_p99_under_200ms"] = loadtest.highest_held(steps)
            loads += [s.load_average for s in steps]
            long = {}
            for name in targets:
                n = int(200 * args.long_seconds) + 200
                result = loadtest.run_http_load_test({name: targets[name]}, bodies(n), 200, warmup=200,
                                                     max_seconds=args.long_seconds + 5)[name]
                long[name] = {**row(result), "load_average": round(os.getloadavg()[0], 2)}
                loads.append(os.getloadavg()[0])
                time.sleep(1)
            report["at_200_rps"] = long
    report["machine"]["load_average_during_run"] = {"min": round(min(loads), 2), "max": round(max(loads), 2)}
    best = report["highest_rate_held_p99_under_200ms"]
    ratio = {}
    for name in targets:
        if name != "bare":
            ratio[name] = {"sustained_rate_over_bare": round(best[name] / best["bare"], 3) if best["bare"] else None,
                           "p50_at_200_over_bare": round(long[name]["p50_ms"] / long["bare"]["p50_ms"], 2)
                           if long[name]["p50_ms"] and long["bare"]["p50_ms"] else None,
                           "p99_at_200_over_bare": round(long[name]["p99_ms"] / long["bare"]["p99_ms"], 2)
                           if long[name]["p99_ms"] and long["bare"]["p99_ms"] else None}
    report["ratios"] = ratio

    print(f"machine: {report['machine']}")
    print(f"{'server':14} {'rate':>6} {'reqs':>6} {'err':>4} {'achieved':>8} {'p50 ms':>8} {'p99 ms':>9} {'held':>5} "
          f"{'load':>5}")
    for r in report["ladder"]:
        print(f"{r['name']:14} {r['rate']:>6.0f} {r['requests']:>6} {r['errors']:>4} {r['achieved_rps']:>8.1f} "
              f"{r['p50_ms'] if r['p50_ms'] is not None else float('nan'):>8.2f} "
              f"{r['p99_ms'] if r['p99_ms'] is not None else float('nan'):>9.2f} "
              f"{str(r['held']):>5} {r['load_average']:>5.2f}")
    print("highest rate held with p99 < 200 ms:", best)
    for name, r in long.items():
        print(f"200 req/s for {args.long_seconds:.0f} s, {name}: {r}")
    print("ratios:", ratio)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
