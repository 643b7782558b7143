"""The recommender team's gate: the metrics its criteria may name, and its shipped criteria file.

Why here and not in `gates/`: the gate engine is general (criteria as data -> a decision); which metrics a
launch is judged on, their units and ranges, and the thresholds the team agreed are this project's.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle_lab.gates.criteria import (
    Criteria,
    CriteriaError,
    MetricSpec,
    load_criteria,
    looks_like_a_path,
    read_criteria_data,
    validate_criteria,
    write_criteria,
)

CRITERIA_FILE = Path(__file__).resolve().parent / "criteria.yaml"
"""The recommender team's criteria file, shipped with the package."""

METRICS: dict[str, MetricSpec] = {
    "p99_latency_ms": MetricSpec("technical", "ms", 0, None, description="p99 latency at the target request rate"),
    "cost_per_1k_usd": MetricSpec("technical", "USD", 0, None, description="serving cost per 1,000 requests"),
    "max_feature_psi": MetricSpec("technical", "PSI", 0, None,
                                  description="largest PSI of an input feature, training data vs current traffic"),
    "concept_drift_detected": MetricSpec("technical", "flag", flag=True,
                                         description="the label-based check found P(click | features) moved"),
    "serving_skew_share": MetricSpec("technical", "share", 0, 1,
                                     description="share of served impressions that differ from the offline model"),
    "canary_rolled_back": MetricSpec("technical", "flag", flag=True,
                                     description="the automated trigger rolled the canary back"),
    "ctr_relative_lift": MetricSpec("business", "relative", -1, None,
                                    description="online CTR of the challenger relative to the champion, minus 1"),
    "session_minutes_relative_change": MetricSpec("business", "relative", -1, None,
                                                  description="mean session minutes, challenger vs champion"),
    "srm_pvalue": MetricSpec("business", "p-value", 0, 1, description="sample-ratio-mismatch chi-square p-value"),
    "worst_segment_relative_lift": MetricSpec("ethical", "relative", -1, None,
                                              description="CTR lift of the segment that gains least"),
    "segment_ctr_ratio": MetricSpec("ethical", "ratio", 0, 1,
                                    description="challenger CTR of the worst segment / best segment (fairlearn ratio)"),
}


def default_criteria() -> dict:
    """The recommender team's criteria (the shipped file `CRITERIA_FILE`), as a fresh dict to edit."""
    return read_criteria_data(CRITERIA_FILE, METRICS)


def load(path: str | Path = CRITERIA_FILE) -> Criteria:
    """A criteria file validated against the recommender's metrics."""
    return load_criteria(path, METRICS)


def validate(data) -> Criteria:
    """Criteria (a dict or YAML text) validated against the recommender's metrics; a file name is refused
    with a pointer to `load`."""
    if looks_like_a_path(data):
        raise CriteriaError(f"{str(data)!r} looks like a file name; read the file with "
                            f"team_criteria.load({str(data)!r}) (lifecycle_lab.projects.p02_gate.criteria), or "
                            f"pass the criteria themselves (a dict or YAML text)")
    return validate_criteria(data, METRICS)


def write(data, path: str | Path) -> Path:
    """Validate criteria against the recommender's metrics and write them as a YAML file."""
    return write_criteria(data, path, METRICS)
