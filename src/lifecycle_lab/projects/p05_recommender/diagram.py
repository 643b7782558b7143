"""The architecture of the self-improving recommender, drawn with matplotlib: each part says what runs in
this notebook and what would run in production."""

from __future__ import annotations

PARTS = [
    # (x, y, title, here, production)
    (0.02, 0.62, "Clickstream ingestion", "world.feedback() -> arrays", "Kafka topics, schema registry"),
    (0.27, 0.62, "Feature store", "loop.Logs (daily cell counts)", "Redis (online) + Feast (offline)"),
    (0.52, 0.62, "Daily batch retrain", "scores_from_logs (IPS)", "Airflow / Kubeflow job on Spark"),
    (0.77, 0.62, "Online learner", "SGDClassifier.partial_fit", "Flink / streaming trainer"),
    (0.52, 0.22, "Registry + champion/challenger", "champion.run_experiment (mSPRT)", "MLflow registry, A/B platform"),
    (0.27, 0.22, "Serving: retrieve + rank", "serving.Server + TTLCache", "KServe / Triton + Redis cache"),
    (0.02, 0.22, "Monitoring", "diagnosis.diagnose (PSI, KS)", "Evidently + Prometheus / Grafana"),
    (0.77, 0.22, "Fairness audit", "audit (fairlearn MetricFrame)", "scheduled audit job, review board"),
]
ARROWS = [(0, 1), (1, 2), (1, 3), (2, 4), (3, 4), (4, 5), (5, 0), (5, 6), (4, 7)]


def draw(ax) -> None:
    """Draw the boxes and the data flow on a matplotlib Axes."""
    from matplotlib.patches import FancyBboxPatch

    w, h = 0.21, 0.2
    centre = {}
    for i, (x, y, title, here, prod) in enumerate(PARTS):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.01", fc="#eef3fb", ec="#3b5b92"))
        ax.text(x + w / 2, y + h - 0.04, title, ha="center", va="top", fontsize=8.5, weight="bold")
        ax.text(x + w / 2, y + h / 2 - 0.01, f"here: {here}", ha="center", va="center", fontsize=7)
        ax.text(x + w / 2, y + 0.04, f"prod: {prod}", ha="center", va="center", fontsize=7, color="#7a3b00")
        centre[i] = (x + w / 2, y + h / 2)
    for a, b in ARROWS:  # from the edge of one box to the edge of the other
        (x0, y0), (x1, y1) = centre[a], centre[b]
        if y0 == y1 and abs(x1 - x0) > 1.5 * w:  # same row, a box between: arc over the top
            ax.annotate("", xy=(x1, y1 + h / 2 + 0.01), xytext=(x0, y0 + h / 2 + 0.01),
                        arrowprops=dict(arrowstyle="->", color="#555", lw=1, connectionstyle="arc3,rad=-0.15"))
            continue
        dx, dy = x1 - x0, y1 - y0
        t = min((w / 2 + 0.012) / abs(dx) if dx else 1.0, (h / 2 + 0.012) / abs(dy) if dy else 1.0)
        ax.annotate("", xy=(x1 - t * dx, y1 - t * dy), xytext=(x0 + t * dx, y0 + t * dy),
                    arrowprops=dict(arrowstyle="->", color="#555", lw=1))
    ax.set(xlim=(0, 1), ylim=(0.1, 1.0), xticks=[], yticks=[])
    ax.text(0.5, 0.97, "the loop: what is shown shapes what is logged; tomorrow's model trains on today's logs",
            ha="center", fontsize=8, style="italic")
