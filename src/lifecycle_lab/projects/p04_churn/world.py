"""A seeded SaaS churn world: a year of weekly scoring, labels ~30 days late, and switchable changes.

Why: operating a model is learnt on a system whose truth is known. Every week the company scores its
active customers (a fresh draw of the active base: customers are not followed from week to week, a stated
simplification); whether a scored customer churns within 30 days is known only `label_delay_days` later.
The world records which change happened when (`truth`), so a diagnosis can be checked against it.

Inputs per customer-week: `usage_hours` (weekly active hours), `seats`, `support_tickets` (last 30 days),
`billing_failures` (failed payments, last 30 days), `plan`, `tenure_months`, `region`.
The hidden churn model (30-day churn):

    logit = B0 + B_USAGE (ln(1 + usage) - 2) + 0.35 tickets + 0.8 billing_failures - 0.02 tenure
            - 0.2 ln(1 + seats) + plan offset + region offset

Changes (switchable, combinable; each has its week and size):
- concept drift: a product launch in `launch_week` (a mobile app: light desktop usage stops meaning
  "about to leave"); the usage coefficient moves from B_USAGE to B_USAGE (1 - concept_strength) over
  `ramp_weeks` weeks. P(Y|X) moves, P(X) does not.
- data bug: an upstream pipeline deploy in `bug_week`. `bug_kind="unit"`: usage arrives in minutes instead
  of hours (x 60); `bug_kind="join"`: the join to the support system drops `bug_share` of the rows and
  their ticket count is filled with 0. Only what the model sees changes; churn follows the true values.
- seasonal (benign) drift: usage follows a yearly cycle, ln(usage) shifted by seasonal_amplitude x
  sin(2 pi week / 52). P(X) moves, P(Y|X) holds: a well-specified model stays calibrated.
- label shift: a market change in `label_shift_week` multiplies the churn base rate by
  `label_shift_factor`, drawn so that P(X|Y) is unchanged (`simulation.shift.label_shift_indices`).

Operations metrics (`ops`: p95 latency, error rate of the scoring job) are drawn from one stable process in
every scenario: in the seed's story precision drops while latency and errors stay flat.

The calendar (`GO_LIVE`, `week_start`, `week_of`): scored week 0 starts on Monday 2026-01-05 (UTC), week w
on the Monday w weeks later. It is defined here once; the Evidently snapshots (their time axis) and the
Prefect pipeline (the week of a scheduled run) both take it from here.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.simulation.shift import label_shift_indices

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NUMERIC = ("usage_hours", "seats", "support_tickets", "billing_failures", "tenure_months")
CATEGORICAL = ("plan", "region")
FEATURES = NUMERIC + CATEGORICAL
PLANS, PLAN_SHARES = ("basic", "pro", "enterprise"), (0.6, 0.3, 0.1)
REGIONS, REGION_SHARES = ("na", "eu", "apac"), (0.45, 0.35, 0.2)
PLAN_OFFSET = {"basic": 0.0, "pro": -0.3, "enterprise": -0.8}
REGION_OFFSET = {"na": 0.0, "eu": 0.1, "apac": -0.05}
SEATS_MEAN = {"basic": 2.0, "pro": 8.0, "enterprise": 40.0}
B0, B_USAGE, B_TICKETS, B_BILLING, B_TENURE, B_SEATS = -2.0, -1.1, 0.35, 0.8, -0.02, -0.2
POOL_FACTOR = 3
"""Rows drawn per scored row: label shift picks the week's rows from this larger pool."""

GO_LIVE = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
"""Monday 00:00 UTC of scored week 0: the simulated year's calendar (see `week_start`, `week_of`)."""


def week_start(week: int, go_live: dt.datetime = GO_LIVE) -> dt.datetime:
    """Monday 00:00 (UTC) of scored week `week`: where a week sits on a time axis (dashboards, schedules)."""
    return go_live + dt.timedelta(weeks=int(week))


def week_of(when: dt.datetime, go_live: dt.datetime = GO_LIVE) -> int:
    """The scored week a moment falls in (whole weeks since `go_live`; a naive time is read as UTC)."""
    when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    go_live = go_live if go_live.tzinfo else go_live.replace(tzinfo=dt.timezone.utc)
    return (when - go_live).days // 7


KINDS = ("concept_drift", "data_bug", "seasonal_drift", "label_shift")
BUG_KINDS = ("unit", "join")


class ScenarioError(LifecycleLabError, ValueError):
    """A scenario parameter is out of range; the message names it and the range."""


@dataclass(frozen=True)
class Scenario:
    """The world's switches and sizes. The default reproduces the seed: concept drift after a launch."""

    seed: int = 0
    n_weeks: int = 52
    history_weeks: int = 8
    n_per_week: int = 2000
    label_delay_days: int = 30
    concept_drift: bool = True
    launch_week: int = 20
    concept_strength: float = 0.25
    ramp_weeks: int = 4
    data_bug: bool = False
    bug_week: int = 30
    bug_kind: str = "unit"
    bug_share: float = 0.6
    seasonal_drift: bool = False
    seasonal_amplitude: float = 0.25
    label_shift: bool = False
    label_shift_week: int = 38
    label_shift_factor: float = 1.6

    def __post_init__(self):
        def whole(name, low, high=None):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low or (high is not None
                                                                                            and v > high):
                rng = f">= {low}" if high is None else f"in [{low}, {high}]"
                raise ScenarioError(f"{name}={v!r} must be a whole number {rng}")

        def share(name, low, high):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
                raise ScenarioError(f"{name}={v!r} must be a number in [{low}, {high}]")

        whole("seed", 0)
        whole("n_weeks", 8, 156)
        whole("history_weeks", 2, 52)
        whole("n_per_week", 200, 50_000)
        whole("label_delay_days", 0, 120)
        whole("ramp_weeks", 1, 26)
        for name, switch in (("launch_week", "concept_drift"), ("bug_week", "data_bug"),
                             ("label_shift_week", "label_shift")):
            whole(name, 1, self.n_weeks - 1 if getattr(self, switch) else None)
        share("concept_strength", 0.0, 1.5)
        share("bug_share", 0.05, 1.0)
        share("seasonal_amplitude", 0.0, 1.5)
        share("label_shift_factor", 0.25, 3.0)
        for name in ("concept_drift", "data_bug", "seasonal_drift", "label_shift"):
            if not isinstance(getattr(self, name), bool):
                raise ScenarioError(f"{name}={getattr(self, name)!r} must be True or False")
        if self.bug_kind not in BUG_KINDS:
            raise ScenarioError(f"bug_kind={self.bug_kind!r} must be one of {list(BUG_KINDS)}")

    def with_(self, **changes) -> "Scenario":
        """A copy with some fields changed (validated again)."""
        unknown = sorted(set(changes) - set(asdict(self)))
        if unknown:
            raise ScenarioError(f"unknown scenario fields {unknown}; known: {sorted(asdict(self))}")
        return replace(self, **changes)


@dataclass(frozen=True)
class Change:
    """One change of the world: its kind, first week, the feature it touches (if one) and what it is."""

    kind: str
    week: int
    feature: str | None
    description: str
    on_calendar: bool
    """Whether the company's events calendar lists it (a launch and a deploy are known; the market is not)."""


def _rng(seed: int, week: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, week + 10_000, stream])


class ChurnWorld:
    """The simulation. `week(w)` is one scoring week (w < 0: history before the champion was trained)."""

    def __init__(self, scenario: Scenario | None = None, **changes):
        base = scenario if scenario is not None else Scenario()
        if not isinstance(base, Scenario):
            raise ScenarioError(f"scenario must be a Scenario, got {type(base).__name__}")
        self.scenario = base.with_(**changes) if changes else base
        self._cache: dict[int, "pd.DataFrame"] = {}

    # -- the truth ------------------------------------------------------------------------------------------
    @property
    def label_delay_weeks(self) -> int:
        """Weeks until a week's labels are known: ceil(label_delay_days / 7)."""
        return math.ceil(self.scenario.label_delay_days / 7)

    def truth(self) -> list[Change]:
        """Every change switched on, in week order."""
        s, out = self.scenario, []
        if s.concept_drift:
            out.append(Change("concept_drift", s.launch_week, "usage_hours",
                              f"product launch: usage coefficient x{1 - s.concept_strength:.2f} over "
                              f"{s.ramp_weeks} weeks", True))
        if s.data_bug:
            feat = "usage_hours" if s.bug_kind == "unit" else "support_tickets"
            what = ("usage in minutes instead of hours" if s.bug_kind == "unit" else
                    f"support join drops {s.bug_share:.0%} of rows, tickets filled with 0")
            out.append(Change("data_bug", s.bug_week, feat, f"pipeline deploy: {what}", True))
        if s.seasonal_drift:
            out.append(Change("seasonal_drift", 0, "usage_hours",
                              f"yearly usage cycle, amplitude {s.seasonal_amplitude:g} in ln(usage)", False))
        if s.label_shift:
            out.append(Change("label_shift", s.label_shift_week, None,
                              f"market change: churn base rate x{s.label_shift_factor:g}", False))
        return sorted(out, key=lambda c: c.week)

    def calendar(self) -> "pd.DataFrame":
        """The events calendar the company keeps (launches, deploys): external factors for a diagnosis."""
        import pandas as pd

        rows = [{"week": c.week, "event": c.description.split(":")[0]} for c in self.truth() if c.on_calendar]
        return pd.DataFrame(rows, columns=["week", "event"])

    def active(self, week: int) -> set[str]:
        """Kinds of change in effect in a week (seasonal drift counts when its shift exceeds 0.1 in ln)."""
        s, out = self.scenario, set()
        if s.concept_drift and week >= s.launch_week:
            out.add("concept_drift")
        if s.data_bug and week >= s.bug_week:
            out.add("data_bug")
        if s.seasonal_drift and abs(self._season(week)) > 0.1:
            out.add("seasonal_drift")
        if s.label_shift and week >= s.label_shift_week:
            out.add("label_shift")
        return out

    def usage_coefficient(self, week: int) -> float:
        """The true coefficient of ln(1 + usage) in the churn logit in that week."""
        s = self.scenario
        if not s.concept_drift or week < s.launch_week:
            return B_USAGE
        ramp = min(1.0, (week - s.launch_week + 1) / s.ramp_weeks)
        return B_USAGE * (1 - s.concept_strength * ramp)

    def _season(self, week: int) -> float:
        s = self.scenario
        return s.seasonal_amplitude * math.sin(2 * math.pi * week / 52) if s.seasonal_drift else 0.0

    def true_logit(self, frame: "pd.DataFrame", week: int) -> np.ndarray:
        """The hidden churn logit of rows with TRUE inputs (columns `true_*` or the features themselves)."""
        col = lambda c: frame[f"true_{c}"] if f"true_{c}" in frame else frame[c]  # noqa: E731
        return (B0 + self.usage_coefficient(week) * (np.log1p(col("usage_hours").to_numpy(float)) - 2)
                + B_TICKETS * col("support_tickets").to_numpy(float)
                + B_BILLING * frame["billing_failures"].to_numpy(float)
                + B_TENURE * frame["tenure_months"].to_numpy(float)
                + B_SEATS * np.log1p(frame["seats"].to_numpy(float))
                + frame["plan"].map(PLAN_OFFSET).to_numpy(float) + frame["region"].map(REGION_OFFSET).to_numpy(float))

    # -- the data -------------------------------------------------------------------------------------------
    def _pool(self, week: int, size: int) -> "pd.DataFrame":
        import pandas as pd

        rng = _rng(self.scenario.seed, week, 1)
        plan = np.asarray(PLANS)[rng.choice(3, size, p=PLAN_SHARES)]
        region = np.asarray(REGIONS)[rng.choice(3, size, p=REGION_SHARES)]
        plan_shift = pd.Series(plan).map({"basic": 0.0, "pro": 0.3, "enterprise": 0.6}).to_numpy()
        log_usage = 1.6 + plan_shift + self._season(week) + rng.normal(0, 0.7, size)
        usage = np.round(np.expm1(np.maximum(log_usage, 0.0)), 1)
        seats = 1 + rng.poisson(pd.Series(plan).map(SEATS_MEAN).to_numpy())
        tickets = rng.poisson(0.8 + 0.6 * (log_usage < 1.2), size)
        billing = rng.poisson(0.15, size)
        tenure = np.round(rng.gamma(2.0, 12.0, size), 1)
        u = rng.random(size)
        proxy_u = rng.random(size)
        frame = pd.DataFrame({"usage_hours": usage, "seats": seats, "support_tickets": tickets,
                              "billing_failures": billing, "plan": plan, "tenure_months": tenure, "region": region})
        p = 1 / (1 + np.exp(-self.true_logit(frame, week)))
        frame["churn_probability"] = p
        frame["churned"] = (u < p).astype(int)
        # an early, noisy proxy (a visit to the cancellation page): most churners, a few others
        frame["proxy_signal"] = np.where(frame["churned"] == 1, proxy_u < 0.6, proxy_u < 0.05).astype(int)
        return frame

    def _base_rate(self) -> float:
        if "base" not in self.__dict__:
            self.__dict__["base"] = float(self._pool(-1, self.scenario.n_per_week * POOL_FACTOR)
                                          ["churn_probability"].mean())
        return self.__dict__["base"]

    def week(self, week: int) -> "pd.DataFrame":
        """The rows scored in `week`: observed inputs, the true label and when it becomes known.

        Columns: week, customer_id, the FEATURES as the pipeline delivers them, true_usage_hours and
        true_support_tickets (what a data bug hid; the model must not use them), churned, churn_probability
        (the hidden truth), proxy_signal, label_week (first week the label is known).
        """
        s = self.scenario
        if isinstance(week, bool) or not isinstance(week, (int, np.integer)) or not -s.history_weeks <= week < s.n_weeks:
            raise ScenarioError(f"week={week!r} must be a whole number in [{-s.history_weeks}, {s.n_weeks - 1}]")
        week = int(week)
        if week in self._cache:
            return self._cache[week].copy()
        n = s.n_per_week
        pool = self._pool(week, n * POOL_FACTOR)
        if "label_shift" in self.active(week):
            base = self._base_rate()
            rate = min(0.95, base * s.label_shift_factor)
            frame = pool.iloc[label_shift_indices(pool["churned"], n, rate, _rng(s.seed, week, 2))]
        else:
            frame = pool.iloc[:n]
        frame = frame.reset_index(drop=True)
        frame["true_usage_hours"] = frame["usage_hours"]
        frame["true_support_tickets"] = frame["support_tickets"]
        if "data_bug" in self.active(week):
            if s.bug_kind == "unit":
                frame["usage_hours"] = np.round(frame["usage_hours"] * 60, 1)
            else:
                dropped = _rng(s.seed, week, 3).random(n) < s.bug_share
                frame.loc[dropped, "support_tickets"] = 0
        frame.insert(0, "customer_id", [f"c{week + 10_000:05d}-{i:05d}" for i in range(n)])
        frame.insert(0, "week", week)
        frame["label_week"] = week + self.label_delay_weeks
        self._cache[week] = frame
        return frame.copy()

    def weeks(self, start: int, stop: int) -> "pd.DataFrame":
        """Weeks start..stop-1 stacked."""
        import pandas as pd

        return pd.concat([self.week(w) for w in range(start, stop)], ignore_index=True)

    def history(self) -> "pd.DataFrame":
        """The labelled weeks before week 0: what the champion is trained on."""
        return self.weeks(-self.scenario.history_weeks, 0)

    def ops(self) -> "pd.DataFrame":
        """Weekly p95 latency (ms) and error rate of the scoring job: one stable process in every scenario."""
        import pandas as pd

        rng = _rng(self.scenario.seed, 0, 9)
        n = self.scenario.n_weeks
        return pd.DataFrame({"week": np.arange(n), "latency_p95_ms": np.round(rng.normal(180, 6, n), 1),
                             "error_rate": np.round(rng.binomial(self.scenario.n_per_week, 0.002, n)
                                                    / self.scenario.n_per_week, 4)})
