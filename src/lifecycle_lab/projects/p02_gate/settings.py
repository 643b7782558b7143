"""The sizes and stated assumptions of a graduation-gate review (the notebook's parameters feed these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ReviewSettings:
    """Sizes and stated assumptions of a review (the notebook's parameters feed these)."""

    offline_users: int = 3000
    planned_lift: float = 0.06        # plan for less than the offline lift (ML Test Score Model 2)
    baseline_ctr: float = 0.05        # replaced by the champion's CTR in the logs when a review starts
    daily_users: int = 2_000_000
    target_rps: float = 200.0
    load_requests: int = 2000         # measured requests per model, after the warm-up
    load_warmup: int = 100
    workers: int = 2                  # scoring threads per model service
    champion_usd_per_h: tuple = (0.096, 0.096)          # two small instances serving a lookup table
    challenger_usd_per_h: tuple = (0.17, 0.17, 0.25)    # two model servers and the feature store
    drift_rows: int = 5000
    label_users: int = 120_000        # users per period (both models) for the label-based concept-drift check
    concept_drift_se: float = 3.0     # a mix-adjusted drop larger than this many standard errors is concept drift
    n_boot: int = 200
    window_users: int = 200_000       # users per analysis window at full traffic
    window_cap: int = 20_000          # users per side each window's analysis samples
    trigger_drop: float = 0.05
    trigger_min_sample: int = 1000
    trigger_consecutive: int = 3
    extend_inconclusive: int = 2      # extra windows a stage gets before an inconclusive stage pauses

    @classmethod
    def fast(cls, **overrides) -> "ReviewSettings":
        """Smaller samples for CI and quick runs: offline users, drift rows, label users, bootstrap replicates,
        analysis samples, and the load test's minimum of 1,000 measured requests. The A/B plan keeps its
        size: a test sized for a larger lift than the real one would miss it."""
        base = dict(offline_users=1500, drift_rows=2000, label_users=60_000, n_boot=100, window_cap=10_000,
                    load_requests=1000, load_warmup=50)
        return cls(**{**base, **overrides})

    @property
    def window_hours(self) -> float:
        """Hours of traffic one analysis window covers: window_users / daily_users x 24."""
        return self.window_users / self.daily_users * 24
