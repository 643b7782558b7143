"""Insert (or update) notebook 01's open-loop latency cells after the closed-loop ones. Re-appliable:
the cells carry fixed ids, so running it again replaces them instead of adding copies.

    .venv/bin/python tools/nb01_open_loop.py && .venv/bin/lifecycle-lab refresh 01 && .venv/bin/lifecycle-lab learner
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NB = Path(__file__).resolve().parents[1] / "solutions" / "01_beginner_ticket_classifier.ipynb"
ANCHOR = "p99 inside the service"  # the closed-loop section's last code cell

MARKDOWN = """\
**Closed loop flatters the service; open loop tells.** The client above is *closed loop*: it sends a request,
waits for the answer, then sends the next. Two things follow. Its rate is whatever the service allows
(1 / latency), so it never tested the rate the service must hold. And when the server stalls, say for
one second, the client stalls with it: it records **one** slow request, while real users, who arrive on
their own schedule, would have queued ~200 requests behind the stall at 200 requests/s. Leaving those
out is called **coordinated omission** (Gil Tene): the measurement coordinates with the thing it measures.

An *open-loop* generator sends request i at start + i / rate whatever happened before, and counts each
latency from when the request was **due**, not when it went out, so queueing shows. Below: the same server
at two fixed rates for 3 s each (`deployment.loadtest.run_http_load_test`, 127.0.0.1 only). The service
shares one model call between requests that arrive together (micro-batching, `serve --max-batch`): the
pipeline costs about the same for one text as for eight. `bench/api_open_loop.py` runs the full ladder
beside a bare FastAPI endpoint; `bench/RESULTS-api-open-loop.md` has the figures and the machine."""

CODE = """\
from lifecycle_lab.deployment import loadtest


def bodies(n):
    return [{"ticket_id": f"open-{i}", "text": texts[i % len(texts)]} for i in range(n)]


with api.Server(artifact, out / "open_loop.jsonl") as server:
    open_loop = {rate: loadtest.run_http_load_test({"api": server.url}, bodies(4 * rate), rate, warmup=rate)["api"]
                 for rate in (50, 150)}
for rate, r in open_loop.items():
    print(f"open loop, {rate} req/s: {r.n + r.errors} requests measured, errors ~{r.errors}, achieved "
          f"~{r.achieved_rps:.0f} req/s, p50 ~{r.percentile(50):.1f} ms, p99 ~{r.percentile(99):.1f} ms")
print(f"the closed-loop client offered ~{1000 * lat['count'] / sum(latencies):.0f} req/s: the rate it was allowed")"""

CELLS = [("open-loop-md", "markdown", MARKDOWN), ("open-loop-code", "code", CODE)]


def main() -> None:
    nb = nbformat.read(NB, as_version=4)
    nb.cells = [c for c in nb.cells if c.get("id") not in {cid for cid, _, _ in CELLS}]
    (at,) = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and ANCHOR in c.source]
    new = []
    for cid, kind, source in CELLS:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell["id"] = cid
        new.append(cell)
    nb.cells[at + 1:at + 1] = new
    nbformat.write(nb, NB)
    print(f"{NB.name}: open-loop cells after cell {at}")


if __name__ == "__main__":
    main()
