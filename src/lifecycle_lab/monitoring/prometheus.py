"""Batch-job metrics the Prometheus way: pushed to a Pushgateway, read back through Prometheus' HTTP API.

Why a Pushgateway: Prometheus *scrapes* (pulls) metrics from long-running services such as the API's
`/metrics`; a nightly batch job is gone before any scrape, so it pushes its outcome to a Pushgateway at the
end of the run, and Prometheus scrapes the gateway. The gateway keeps only the last push of each job, so the
history lives in Prometheus: `runs_from_prometheus` rebuilds one row per run from the pushed series (a run
is a distinct value of `batch_last_run_timestamp_seconds`), with the columns the dashboard draws.

`push_run` is called by `lifecycle-lab batch --pushgateway URL` (or LIFECYCLE_LAB_PUSHGATEWAY); the
dashboard reads Prometheus when LIFECYCLE_LAB_PROMETHEUS_URL (or an explicit URL) is given. prometheus_client
and pandas are imported inside the functions; the HTTP API is read with the standard library.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlencode
from urllib.request import urlopen

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PUSHGATEWAY_ENV = "LIFECYCLE_LAB_PUSHGATEWAY"
PROMETHEUS_ENV = "LIFECYCLE_LAB_PROMETHEUS_URL"
JOB = "tickets_batch"
# the series a run pushes: name -> (help text, the report field it carries)
RUN_SERIES = {
    "batch_run_success": "1 if the last run succeeded, 0 if it failed or was interrupted.",
    "batch_rows_read": "Rows read from the input file by the last run.",
    "batch_rows_written": "Rows scored and written by the last run.",
    "batch_rows_rejected": "Rows refused by the schema check in the last run.",
    "batch_last_run_timestamp_seconds": "When the last run ended (Unix time).",
}


class PrometheusError(LifecycleLabError, RuntimeError):
    """Prometheus or the Pushgateway could not be reached or answered an error."""


def push_run(gateway: str, report: Mapping, *, job: str = JOB, finished: float | None = None) -> dict:
    """Push one run's outcome and volume to the Pushgateway at `gateway` (replacing the job's last push).

    `report`: the run report as a dict (`status`, `rows_in`, `rows_written`, `rows_rejected`, `model_version`).
    Returns the values pushed. Raises PrometheusError naming the gateway when the push fails.
    """
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

    values = {"batch_run_success": 1.0 if report.get("status") == "succeeded" else 0.0,
              "batch_rows_read": float(report.get("rows_in", 0) or 0),
              "batch_rows_written": float(report.get("rows_written", 0) or 0),
              "batch_rows_rejected": float(report.get("rows_rejected", 0) or 0),
              "batch_last_run_timestamp_seconds": float(finished if finished is not None else time.time())}
    registry = CollectorRegistry()
    version = str(report.get("model_version", "") or "unknown")
    for name, doc in RUN_SERIES.items():
        Gauge(name, doc, ["model_version"], registry=registry).labels(version).set(values[name])
    try:
        push_to_gateway(gateway, job=job, registry=registry, timeout=10)
    except Exception as exc:  # URLError, HTTP errors, timeouts
        raise PrometheusError(f"could not push the run's metrics to the Pushgateway at {gateway!r}: {exc}; check "
                              f"--pushgateway / {PUSHGATEWAY_ENV}") from exc
    return values


def gateway_from_env(explicit: str | None = None) -> str | None:
    """The Pushgateway to push to: the explicit URL, else LIFECYCLE_LAB_PUSHGATEWAY, else None (no push)."""
    return explicit or os.environ.get(PUSHGATEWAY_ENV) or None


def prometheus_from_env(explicit: str | None = None) -> str | None:
    """The Prometheus to read from: the explicit URL, else LIFECYCLE_LAB_PROMETHEUS_URL, else None."""
    return explicit or os.environ.get(PROMETHEUS_ENV) or None


def _get(url: str, path: str, params: Mapping) -> dict:
    full = f"{url.rstrip('/')}{path}?{urlencode(params)}"
    try:
        with urlopen(full, timeout=10) as response:
            body = json.loads(response.read())
    except Exception as exc:
        raise PrometheusError(f"Prometheus at {url!r} did not answer {path}: {exc}") from exc
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url!r} refused {params}: {body.get('error', body)}")
    return body["data"]


def query(url: str, expr: str) -> list[dict]:
    """An instant PromQL query: [{"metric": {labels}, "value": float}]."""
    data = _get(url, "/api/v1/query", {"query": expr})
    return [{"metric": r["metric"], "value": float(r["value"][1])} for r in data["result"]]


def query_range(url: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    """A range query: [{"metric": {labels}, "values": [(unix time, float), ...]}]."""
    data = _get(url, "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
    return [{"metric": r["metric"], "values": [(float(t), float(v)) for t, v in r["values"]]}
            for r in data["result"]]


def runs_from_prometheus(url: str, *, job: str = JOB, hours: float = 24 * 31, step: float | None = None,
                         now: float | None = None) -> "pd.DataFrame":
    """One row per batch run seen by Prometheus in the last `hours`, oldest first: finished (Unix time),
    status ("succeeded" / "failed"), rows_in, rows_written, rows_rejected, model_version.

    A run is a distinct value of batch_last_run_timestamp_seconds; its other values are read at the first
    sample that carries it. `step` (s) must not exceed the scrape interval, or a run pushed and replaced
    between two steps is missed (default: hours * 3600 / 10,000, at most 60 s).
    """
    import pandas as pd

    end = time.time() if now is None else now
    start = end - hours * 3600
    step = step or max(1.0, min(60.0, hours * 3600 / 10_000))
    # Samples are grouped by (time, model_version): the five series of one push share their labels, and at a
    # step where Prometheus still looks back at the previous push (a different model_version), mixing the two
    # would make a run that never happened (one push's timestamp with the other's outcome).
    series = {}
    for name in RUN_SERIES:
        for r in query_range(url, f'{name}{{job="{job}"}}', start, end, step):
            version = r["metric"].get("model_version", "")
            for t, v in r["values"]:
                series.setdefault((t, version), {"model_version": version})[name] = v
    rows, seen = [], set()
    for key in sorted(series):
        sample = series[key]
        stamp = sample.get("batch_last_run_timestamp_seconds")
        if stamp is None or stamp in seen or len(sample) < len(RUN_SERIES) + 1:
            continue
        seen.add(stamp)
        rows.append({"finished": stamp, "status": "succeeded" if sample["batch_run_success"] == 1 else "failed",
                     "rows_in": int(sample["batch_rows_read"]), "rows_written": int(sample["batch_rows_written"]),
                     "rows_rejected": int(sample["batch_rows_rejected"]), "model_version": sample["model_version"]})
    columns = ["finished", "status", "rows_in", "rows_written", "rows_rejected", "model_version"]
    return pd.DataFrame(rows, columns=columns).sort_values("finished", ignore_index=True)
