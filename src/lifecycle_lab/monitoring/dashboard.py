"""The monitoring dashboard of the ticket service: one matplotlib figure per question an on-call person asks.

Why one figure per question: "did the job run?", "was the volume normal?", "is the model still confident?",
"did what it predicts change?" each need a different chart, and a chart that answers one question can be
titled with it. Every figure has a title, axis labels with units, and returns the Figure for the caller.
matplotlib and pandas are imported inside the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.monitoring import prometheus

STATUS_COLORS = {"succeeded": "tab:green", "failed": "tab:red", "interrupted": "tab:orange", "running": "tab:gray"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


class NoRunsSource(LifecycleLabError, ValueError):
    """The dashboard has neither a Prometheus to read the batch runs from nor the job's own records."""


def runs_source(records: "pd.DataFrame | None" = None, prometheus_url: str | None = None, *,
                job: str = prometheus.JOB, hours: float = 24 * 31) -> tuple[str, "pd.DataFrame"]:
    """The batch runs the dashboard draws, and where they came from: ("prometheus", runs) when a Prometheus is
    configured (`prometheus_url`, else LIFECYCLE_LAB_PROMETHEUS_URL), rebuilt from the job's pushed metrics
    (`prometheus.runs_from_prometheus`); else ("records", records): the job's own runs table, as given.

    Why both: in production the dashboard reads the monitoring system every service reports to; on a
    laptop with no Prometheus, the job's own records answer the same questions.
    """
    url = prometheus.prometheus_from_env(prometheus_url)
    if url:
        return "prometheus", prometheus.runs_from_prometheus(url, job=job, hours=hours)
    if records is None:
        raise NoRunsSource("no Prometheus configured (prometheus_url or LIFECYCLE_LAB_PROMETHEUS_URL) and no "
                         "records given: pass the job's runs table, e.g. batch.read_table(db_url, 'runs')")
    return "records", records


def job_status(runs: "pd.DataFrame"):
    """Job success/failure per run, in run order: a red bar is a night the table was not refreshed."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 2.8))
    x = np.arange(1, len(runs) + 1)
    for status, color in STATUS_COLORS.items():
        mask = (runs["status"] == status).to_numpy()
        if mask.any():
            ax.bar(x[mask], np.ones(mask.sum()), color=color, label=f"{status} ({mask.sum()})")
    ax.set_title("Batch job outcome per run")
    ax.set_xlabel("run number (in start order)")
    ax.set_ylabel("run (count)")
    ax.set_yticks([])
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def volume_runs(runs: "pd.DataFrame") -> "pd.DataFrame":
    """The runs whose row counts make the volume history: succeeded runs, each input file once (its first
    run), in start order. Why: a retry of the same file would count its rows twice, and a failed run scored
    nothing, which says the job broke, not that the traffic fell."""
    ok = runs[runs["status"] == "succeeded"]
    if "input_sha256" in ok:
        ok = ok[~ok["input_sha256"].duplicated(keep="first")]
    return ok


def volume(runs: "pd.DataFrame", lower: float, upper: float):
    """Rows scored per run with the alert band: a run outside the band is a data bug before a model bug.

    Only `volume_runs` are drawn as volume (and can raise a volume alert); failed or interrupted runs are
    marked separately at the bottom, and a retry of a file already scored is skipped.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x_all = np.arange(1, len(runs) + 1)
    counted = volume_runs(runs)  # a subset of the runs, in their order
    x = x_all[runs.index.isin(counted.index)]
    written = counted["rows_written"].to_numpy(dtype=float)
    ax.axhspan(lower, upper, color="tab:blue", alpha=0.12, label=f"usual range {lower:,.0f} to {upper:,.0f}")
    ax.plot(x, written, marker="o", color="tab:blue", label="rows written (succeeded runs, each file once)")
    outside = (written < lower) | (written > upper)
    if outside.any():
        ax.scatter(x[outside], written[outside], s=120, facecolors="none", edgecolors="tab:red", linewidths=2,
                   label="alert: outside the range", zorder=3)
    broken = runs["status"].isin(["failed", "interrupted"]).to_numpy()
    if broken.any():
        ax.scatter(x_all[broken], np.zeros(broken.sum()), marker="x", s=80, color="black",
                   label="failed or interrupted run (no volume)", zorder=3)
    ax.set_title("Prediction volume per batch run")
    ax.set_xlabel("run number (in start order)")
    ax.set_ylabel("rows written (tickets)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def confidence(conf: Sequence[float], threshold: float):
    """Distribution of the top-class probability with the review threshold and the share below it."""
    plt = _plt()
    c = np.asarray(conf, dtype=float)
    share = float(np.mean(c < threshold)) if c.size else float("nan")
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.hist(c, bins=np.linspace(0, 1, 41), color="tab:blue", alpha=0.8)
    ax.axvline(threshold, color="tab:red", linestyle="--",
               label=f"review threshold {threshold:.2f}: {share:.1%} of predictions below")
    ax.set_title("Prediction confidence (top-class probability)")
    ax.set_xlabel("confidence (probability, 0 to 1)")
    ax.set_ylabel("predictions (count)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig


def class_shares(reference: Sequence[str], current: Sequence[str], classes: Sequence[str], verdict: str = ""):
    """Predicted-class shares, reference vs current: the cheapest drift signal, needs no labels."""
    plt = _plt()
    ref = np.asarray(reference)
    cur = np.asarray(current)
    ref_share = [float(np.mean(ref == c)) for c in classes]
    cur_share = [float(np.mean(cur == c)) for c in classes]
    x = np.arange(len(classes))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(x - 0.2, ref_share, width=0.4, label=f"reference ({len(ref):,} predictions)", color="tab:gray")
    ax.bar(x + 0.2, cur_share, width=0.4, label=f"current ({len(cur):,} predictions)", color="tab:orange")
    ax.set_xticks(x, list(classes))
    ax.set_title("Predicted-class shares" + (f": {verdict}" if verdict else ""))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("share of predictions (fraction)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def latency(latencies_ms: Sequence[float], target_ms: float):
    """Request latency distribution with p50/p99 and the target: the tail, not the mean, is what users feel."""
    plt = _plt()
    lat = np.asarray(latencies_ms, dtype=float)
    p50, p99 = np.percentile(lat, [50, 99])
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.hist(lat, bins=50, color="tab:blue", alpha=0.8)
    ax.axvline(p50, color="black", linestyle=":", label="p50")
    ax.axvline(p99, color="tab:orange", linestyle="--", label="p99")
    ax.axvline(target_ms, color="tab:red", label=f"target {target_ms:.0f} ms")
    ax.set_xscale("log")
    ax.set_title("REST API latency per request (client side, localhost)")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("requests (count)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
