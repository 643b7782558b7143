"""REST API latency and throughput on localhost, beside a bare FastAPI endpoint that does no work.

    .venv/bin/python bench/api_latency.py [--requests 2000] [--threads 1 4]

Both servers are real uvicorn processes on 127.0.0.1 (never another host). The load generator runs in a
process of its own (so it does not share the benchmark script's interpreter or GIL): `threads` workers
each with its own httpx.Client, sending requests back to back (closed loop), after 100 warm-up requests.
Latency is measured on the client; throughput is requests / wall time. The ratio to the bare endpoint
shows what the model, validation and logging cost on top of HTTP + JSON. Client and server still share
the machine's cores: the results say how many. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

BARE = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.post("/predict")
def predict(body: dict):
    return {"ok": True}
@app.get("/health")
def health():
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


class BareServer:
    """A FastAPI program (`source`, given its port as argv[1]) doing no work, in its own process on 127.0.0.1;
    also used by bench/api_open_loop.py with its own program."""

    def __init__(self, source: str = BARE):
        from lifecycle_lab.projects.p01_tickets.api import free_port

        self.source = source
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        import httpx

        self.proc = subprocess.Popen([sys.executable, "-c", self.source, str(self.port)])
        for _ in range(300):
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("bare server did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def load(url: str, texts: list[str], total: int, threads: int) -> tuple[list[float], float]:
    """Run the load generator in its own process; return (latencies in ms, wall seconds)."""
    done = subprocess.run([sys.executable, __file__, "--client", url, str(total), str(threads)],
                          input=json.dumps(texts), capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    return result["latencies"], result["wall"]


def client_main(url: str, total: int, threads: int) -> None:
    texts = json.loads(sys.stdin.read())
    latencies, wall = _load_here(url, texts, total, threads)
    print(json.dumps({"latencies": latencies, "wall": wall}))


def _load_here(url: str, texts: list[str], total: int, threads: int) -> tuple[list[float], float]:
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // threads

    def work(k: int) -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=10) as client:
            for i in range(per_thread):
                start = time.perf_counter()
                r = client.post("/predict", json={"ticket_id": f"{k}-{i}", "text": texts[(k * 7919 + i) % len(texts)]})
                mine.append((time.perf_counter() - start) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(r.text)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, time.perf_counter() - start


def main() -> None:
    import numpy as np

    from lifecycle_lab.deployment import registry
    from lifecycle_lab.projects.p01_tickets import world as tickets
    from lifecycle_lab.projects.p01_tickets.api import Server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client[0], int(args.client[1]), int(args.client[2]))
        return
    data = tickets.generate(seed=42)
    texts = tickets.generate(seed=9, n_tickets=500)["text"].tolist()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "artifact"
        model = tickets.build_pipeline(42).fit(data["text"], data["label"])
        registry.save_artifact(model, artifact, name="bench", version="1", training_data_sha256="-", seed=42,
                               review_threshold=0.5)
        for label, server in (("ticket API (model + validation + log)", Server(artifact, Path(tmp) / "log.jsonl")),
                              ("bare FastAPI endpoint (no work)", BareServer())):
            with server as s:
                load(s.url, texts, 100, 1)  # warm-up
                for threads in args.threads:
                    lat, wall = load(s.url, texts, args.requests, threads)
                    p50, p95, p99 = np.percentile(lat, [50, 95, 99])
                    rows.append((label, threads, len(lat), p50, p95, p99, len(lat) / wall))
    print(f"{'server':38} {'threads':>7} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}")
    for r in rows:
        print(f"{r[0]:38} {r[1]:>7} {r[2]:>8} {r[3]:>7.2f} {r[4]:>7.2f} {r[5]:>7.2f} {r[6]:>7.0f}")
    base = {r[1]: r for r in rows if r[0].startswith("bare")}
    for r in rows:
        if r[0].startswith("ticket"):
            b = base[r[1]]
            print(f"threads={r[1]}: p50 x{r[3] / b[3]:.1f}, p99 x{r[5] / b[5]:.1f}, throughput x{r[6] / b[6]:.2f} "
                  f"of the bare endpoint")


if __name__ == "__main__":
    main()
