"""Notebook 05's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it),
and the world they describe."""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.projects.p05_recommender.loop import POLICIES
from lifecycle_lab.projects.p05_recommender.world import SEGMENTS, RecWorld, WorldError

NOTEBOOK = "05_advanced_feedback_loop_recommender"

BEFORE = 21
"""Days a change needs before it (a week of warm-up from the history logs + the 14-day reference window)."""
AFTER = 14
"""Days a change needs after it (the 14-day window the diagnosis compares)."""
EXPERIMENT_START, EXPERIMENT_DAYS = 30, 14
"""The champion/challenger experiments start on day 30 and read the test for up to 14 days."""
MAX_EVENTS = 60_000_000
"""Impressions one policy may simulate (days x sessions x slate size): a bound on memory and run time."""


def policies(P: Params) -> list[str]:
    """The policy names of the comma-separated `policies` parameter, in order."""
    return [name.strip() for name in P.policies.split(",") if name.strip()]


def world(P: Params, **changes) -> RecWorld:
    """The notebook's world for these parameters (the same call the notebook makes); `changes` override."""
    kw = dict(seed=P.seed, n_users=P.n_users, n_items=P.n_items, n_days=P.n_days, ui_change=P.ui_change,
              ui_change_day=P.ui_change_day, taste_shift=P.taste_shift, shift_day=P.shift_day,
              shift_segment=P.shift_segment)
    return RecWorld(**{**kw, **changes})


def feasible(P: Params) -> None:
    """Refuse, before anything runs, a combination the notebook cannot run. Cheap: names and day arithmetic;
    the world is built (arrays only), nothing is simulated."""
    names = policies(P)
    unknown = [n for n in names if n not in POLICIES]
    if unknown or not names:
        raise ParameterError(f"policies={P.policies!r}: {unknown or 'no name'} is not a policy; give a "
                             f"comma-separated list from {', '.join(POLICIES)}")
    if "clicks_only" not in names or not set(names) & {"epsilon_greedy", "ips", "online"}:
        raise ParameterError(f"policies={P.policies!r} must include clicks_only and at least one exploring "
                             f"policy (epsilon_greedy, ips or online): the notebook compares the two")
    for name, switch in (("ui_change_day", "ui_change"), ("shift_day", "taste_shift")):
        day = getattr(P, name)
        if getattr(P, switch) and not BEFORE <= day <= P.n_days - AFTER:
            raise ParameterError(f"{name}={day} needs {BEFORE} days before it and {AFTER} after it inside "
                                 f"n_days={P.n_days}: give {name} from {BEFORE} to {P.n_days - AFTER}")
    if P.n_days < EXPERIMENT_START + EXPERIMENT_DAYS:
        raise ParameterError(f"n_days={P.n_days} is too short for the champion/challenger experiments (day "
                             f"{EXPERIMENT_START} + {EXPERIMENT_DAYS} days): give n_days >= "
                             f"{EXPERIMENT_START + EXPERIMENT_DAYS}")
    events = P.n_days * P.sessions_per_day * 10
    if events > MAX_EVENTS:
        raise ParameterError(f"n_days x sessions_per_day x 10 = {events:,} impressions per policy is over "
                             f"{MAX_EVENTS:,}: lower sessions_per_day (e.g. {MAX_EVENTS // (10 * P.n_days):,})")
    if P.n_items < 40:
        raise ParameterError(f"n_items={P.n_items} is too small for slates of 10 with exploration: give >= 40")
    try:
        world(P)
    except WorldError as error:
        raise ParameterError(str(error)) from None


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 0, "drives every random draw of the world and the simulation", low=0, high=2**31 - 1),
    Param("fast", bool, False, "60 days of 1,000 sessions instead of 90 of 2,000"),
    Param("output_dir", "dir", None, "where the daily metrics, audit and sizing tables go "
                                     "(default: build/outputs/05_advanced_feedback_loop_recommender)"),
    Param("n_days", int, 90, "simulated days of the recommender in the loop", low=44, high=365),
    Param("n_users", int, 2000, "users in the world", low=200, high=200_000),
    Param("n_items", int, 300, "videos in the catalogue", low=40, high=5000),
    Param("sessions_per_day", int, 2000, "sessions (one slate of 10 each) per day", low=200, high=100_000),
    Param("epsilon", float, 0.1, "share of slots the exploring policies give to random videos", low=0.01, high=0.5),
    Param("policies", str, ",".join(POLICIES), f"comma-separated policies to run, from {', '.join(POLICIES)}"),
    Param("ui_change", bool, True, "a UI redesign changes position bias (the CTR decline)"),
    Param("ui_change_day", int, 45, "day of the UI redesign", low=1, high=364),
    Param("taste_shift", bool, False, "one segment's tastes move (concept drift)"),
    Param("shift_day", int, 60, "day of the taste shift", low=1, high=364),
    Param("shift_segment", "choice", "binge", "the segment whose tastes move", choices=list(SEGMENTS)),
    Param("exposure_floor", float, 0.4, "minimum share of slate slots for independent providers (mitigation)",
          low=0.0, high=1.0),
    Param("requests_per_day", float, 2e9, "recommendation requests a day at production scale", low=1e3, high=1e13),
    Param("peak_factor", float, 3.0, "peak requests/s over the daily mean", low=1.0, high=20.0),
    Param("latency_sla_ms", float, 20.0, "latency budget of the scoring step per request (ms)", low=0.1, high=2000.0),
    Param("price_core_hour", float, 0.04, "EUR per core-hour of serving capacity", low=0.0, high=100.0),
    Param("cache_ttl_s", float, 300.0, "time-to-live of a cached slate (seconds)", low=0.0, high=86_400.0),
], fast={"n_days": 60, "sessions_per_day": 1000, "shift_day": 40}, check=feasible)
