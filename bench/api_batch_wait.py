"""Greedy micro-batching (wait 0) vs a 1 ms wait vs no batching: three ticket API servers, open loop,
25/50/100 req/s for 10 s each (after 1 s of warm-up), interleaved, twice. Figures in RESULTS-api-open-loop.md.

    .venv/bin/python bench/api_batch_wait.py
"""
import os, tempfile, contextlib, json
from pathlib import Path
import pandas as pd
from lifecycle_lab.base import paths
from lifecycle_lab.deployment import loadtest, registry
from lifecycle_lab.projects.p01_tickets import world as tickets
from lifecycle_lab.projects.p01_tickets.api import Server
texts = pd.read_csv(paths.ROOT / "datasets" / "tickets.csv")["text"].tolist()
bodies = lambda n: [{"ticket_id": f"l-{i}", "text": texts[i % len(texts)]} for i in range(n)]
with tempfile.TemporaryDirectory() as tmp:
    data = tickets.generate(seed=42)
    model = tickets.build_pipeline(42).fit(data["text"], data["label"])
    art = Path(tmp) / "a"
    registry.save_artifact(model, art, name="b", version="1", training_data_sha256="-", seed=42, review_threshold=0.5)
    servers = {"wait0": Server(art, Path(tmp) / "0.jsonl", max_wait_ms=0), "wait1": Server(art, Path(tmp) / "1.jsonl", max_wait_ms=1),
               "nobatch": Server(art, Path(tmp) / "n.jsonl", max_batch=1)}
    with contextlib.ExitStack() as st:
        t = {k: st.enter_context(s).url for k, s in servers.items()}
        loadtest.run_http_load_test(t, bodies(300), 100, warmup=290)
        out = []
        for rep in range(2):
            for rate in (25, 50, 100):
                for k in t:
                    r = loadtest.run_http_load_test({k: t[k]}, bodies(rate * 11), rate, warmup=rate)[k]
                    out.append((rep, rate, k, r.errors, round(r.percentile(50), 1) if r.n else None, round(r.percentile(99), 1) if r.n else None, round(os.getloadavg()[0], 1)))
                    print(out[-1], flush=True)
