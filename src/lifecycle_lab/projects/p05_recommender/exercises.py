"""Exercises of project 05 (a self-improving recommender), used by notebook 05_advanced_feedback_loop_recommender.

Each factory takes the learner's own results (logs, runs, an experiment outcome, measured throughput) and
derives the expected answer from them with an independent oracle (evaluation.offpolicy, the world's truth,
the capacity formula), so another seed gives other answers and the checks still hold.
"""

from __future__ import annotations

import numpy as np

from lifecycle_lab.evaluation.offpolicy import coverage, gini, ips, snips
from lifecycle_lab.exercises.core import DecisionExercise, ExerciseSet, Field, ValueExercise
from lifecycle_lab.projects.p05_recommender import serving
from lifecycle_lab.projects.p05_recommender.diagnosis import CAUSES

EXERCISES = ExerciseSet("05_advanced_feedback_loop_recommender")
"""The exercises of project 05, in order."""

TRUTH_TO_CAUSE = {"ui_change": "position_bias", "taste_shift": "taste_shift"}


@EXERCISES.exercise("ex1", "IPS-weighted CTR from the logs")
def ips_ctr(clicks, target_prob, logging_prob) -> ValueExercise:
    """Exercise 1: the IPS and self-normalised IPS estimates of a target policy's CTR from logged slot-1 data."""
    expected = {"ips": ips(clicks, target_prob, logging_prob), "snips": snips(clicks, target_prob, logging_prob)}
    return ValueExercise(
        expected, rtol=1e-6, atol=1e-9,
        hints=["Weight each logged click by pi / mu: how much likelier the target was to show that video than the "
               "logging policy was.",
               "IPS divides the weighted sum by the number of logged rows; SNIPS divides it by the sum of the weights."],
        solution="w = target_prob / logging_prob\n"
                 "answer = {'ips': float((clicks * w).mean()), 'snips': float((clicks * w).sum() / w.sum())}")


@EXERCISES.exercise("ex2", "detect the degenerate loop from exposure data")
def degenerate_loop(exposure: dict) -> DecisionExercise:
    """Exercise 2: which of two anonymised exposure logs (days x videos) comes from the degenerate loop."""
    stats = {name: (gini(x[-7:].sum(0)), coverage(x[-7:].sum(0))) for name, x in exposure.items()}
    worst = max(stats, key=lambda n: (stats[n][0], -stats[n][1]))
    return DecisionExercise(
        {"degenerate": Field("the name of the exposure log that comes from the degenerate loop",
                             choices=list(exposure), expected=worst,
                             why="its last week's impressions are the most concentrated (highest Gini, lowest coverage)"),
         "evidence": Field("the numbers that show it, in a sentence", min_words=8,
                           mention=["Gini", "coverage", "concentration", "exposure"])},
        hints=["Sum each log's last 7 days per video and compute evaluation.offpolicy.gini and coverage.",
               "A loop that only learns from what it showed keeps showing the same few videos: high Gini, "
               "low coverage, and the set does not change from day to day."],
        solution=f"answer = {{'degenerate': {worst!r}, 'evidence': 'Gini ... and coverage ... in the last week'}}")


REGRET_TIE = 1e-4
"""Regrets closer than this are a tie (the sweep shows regret to 4 decimals; a smaller gap is the
simulation's noise, not a reason to prefer one rate)."""


@EXERCISES.exercise("ex3", "choose epsilon by its regret and coverage")
def choose_epsilon(sweep, min_coverage: float) -> DecisionExercise:
    """Exercise 3: the epsilon with the lowest regret among those whose coverage reaches `min_coverage`
    (any of them when their regrets tie within REGRET_TIE)."""
    ok = sweep[sweep["coverage"] >= min_coverage]
    if len(ok):
        best_regret = float(ok["regret"].min())
        accepted = sorted(float(e) for e in ok.loc[ok["regret"] <= best_regret + REGRET_TIE, "epsilon"])
        why = f"lowest regret among the rows with coverage >= {min_coverage}"
    else:  # no rate reaches the coverage: the one that comes closest
        accepted = [float(sweep.sort_values("coverage")["epsilon"].iloc[-1])]
        why = f"no rate reaches coverage {min_coverage}: take the one that comes closest"
    best = accepted[0]

    def lowest_regret(value, answer):
        if float(value) in accepted:
            return None
        tie = f" (regrets within {REGRET_TIE:g} tie: {accepted})" if len(accepted) > 1 else ""
        return f"{value!r} is not the {why}{tie}"

    return DecisionExercise(
        {"epsilon": Field("the exploration rate you choose", choices=[float(e) for e in sweep["epsilon"]],
                          validate=lowest_regret),
         "trade_off": Field("what more exploration buys and what it costs", min_words=10,
                            mention=["regret", "coverage", "explore", "exploration"])},
        hints=[f"Keep the rows of the sweep with coverage >= {min_coverage}, then take the lowest regret.",
               "Regret = the oracle's CTR minus the policy's true CTR: exploring costs clicks today, buys "
               "knowledge of the catalogue (and of new videos) for tomorrow."],
        solution=f"answer = {{'epsilon': {best}, 'trade_off': 'more exploration raises coverage but ... regret'}}")


@EXERCISES.exercise("ex4", "decide a champion/challenger outcome with a guardrail")
def guardrail_decision(outcome) -> DecisionExercise:
    """Exercise 4: the decision an experiment's evidence supports, and which guardrail decides it."""
    rail = outcome.vetoes[0] if outcome.vetoes else "none"
    return DecisionExercise(
        {"decision": Field("promote, veto or keep champion", choices=["promote", "veto", "keep champion"],
                           expected=outcome.decision,
                           why="a CTR win (the sequential test stopped with a positive lift) is vetoed by any guardrail"),
         "guardrail": Field("the guardrail that fired first, or 'none'",
                            choices=["segment harm", "exposure concentration", "none"], expected=rail),
         "why": Field("the reason in a sentence", min_words=10, mention=["Gini", "segment", "lift", "CTR"])},
        hints=["Read outcome.stopped and outcome.relative_lift first: did the challenger win on CTR?",
               "Then compare outcome.gini_challenger - outcome.gini_champion with the rails' limit, and look at "
               "outcome.harmed."],
        solution=f"answer = {{'decision': {outcome.decision!r}, 'guardrail': {rail!r}, 'why': '...'}}")


@EXERCISES.exercise("ex5", "size the serving fleet")
def size_fleet(requests_per_day: float, peak_factor: float, per_core_rps: float, utilisation: float,
               hit_rate: float) -> ValueExercise:
    """Exercise 5: cores to serve the peak at the target utilisation, with the cache's hits not scored. The
    throughput is measured, so it is kept as the evidence and the expected value computed from it."""
    def oracle(evidence):
        return serving.fleet(requests_per_day, evidence[0], peak_factor=peak_factor, utilisation=utilisation,
                             hit_rate=evidence[1])["cores"]

    return ValueExercise(
        measured=[per_core_rps, hit_rate], oracle=oracle, rtol=0.0, atol=1.0, unit="cores",
        hints=["Mean requests/s = requests per day / 86,400; the peak is that times the peak factor.",
               "Only misses are scored: peak x (1 - hit rate); one core serves per_core_rps x utilisation; round up."],
        solution="peak = requests_per_day / 86_400 * peak_factor\n"
                 "answer = math.ceil(peak * (1 - hit_rate) / (per_core_rps * utilisation))")


@EXERCISES.exercise("ex6", "pick cache and distillation by cost")
def pick_serving(options) -> DecisionExercise:
    """Exercise 6: the cheapest serving option that meets the latency SLA, from the options table."""
    ok = options[options["meets_sla"]]
    best = str(ok.sort_values("cost_per_day")["option"].iloc[0]) if len(ok) else "none meets the SLA"
    return DecisionExercise(
        {"option": Field("the option to run in production", choices=list(options["option"]) + ["none meets the SLA"],
                         expected=best, why="the lowest cost_per_day among the options that meet the SLA"),
         "defence": Field("why, naming what you give up", min_words=12, mention=["NDCG", "stale", "staleness",
                                                                              "cost", "latency"])},
        hints=["Drop the options that miss the SLA, then sort by cost_per_day.",
               "The student costs NDCG (or not: read the table), the cache costs staleness: say which you accept."],
        solution=f"answer = {{'option': {best!r}, 'defence': '...'}}")


@EXERCISES.exercise("ex7", "diagnose the CTR decline")
def diagnose_decline(world) -> DecisionExercise:
    """Exercise 7: the cause and day of the largest CTR decline, checked against how the world was built."""
    changes = world.truth()
    if changes:
        first = min(changes, key=lambda c: c.day)  # the first change of the world
        cause, day = TRUTH_TO_CAUSE[first.kind], first.day
    else:
        cause, day = "none", None
    fields = {"cause": Field("position_bias, taste_shift, data_drift or none", choices=list(CAUSES), expected=cause,
                             why="the world's own record of what it changed"),
              "evidence": Field("the evidence in a sentence or two", min_words=12,
                                mention=["position", "examination", "segment", "PSI", "KS", "latency"])}
    if day is not None:
        fields["day"] = Field("the day the decline began", expected=day, tol=5,
                              why="the step in the daily CTR")
    return DecisionExercise(
        fields,
        hints=["Latency and errors are flat: the cause is in the data or in the users. Start with diagnosis.diagnose.",
               "Same videos at the same positions: did their CTR fall only below position 1 (how people look at "
               "the page) or in one segment at every position (what that segment wants)? Did any input's PSI move?"],
        solution=f"answer = {{'cause': {cause!r}, " + (f"'day': {day}, " if day is not None else "") + "'evidence': '...'}")

