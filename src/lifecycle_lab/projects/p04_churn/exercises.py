"""Exercises of project 04 (operate a live churn model), used by notebook 04_intermediate_operate_churn.

Each factory takes the learner's own results (a `YearReport`, a split comparison, a gate result, a policy
table) and derives the expected answer from them or from the world's truth, so another seed gives other
answers and the checks still hold.
"""

from __future__ import annotations

from lifecycle_lab.exercises.core import DecisionExercise, ExerciseSet, Field, ValueExercise
from lifecycle_lab.monitoring import weekly
from lifecycle_lab.monitoring.diagnosis import KINDS
from lifecycle_lab.projects.p04_churn.policies import POLICIES
from lifecycle_lab.projects.p04_churn.world import FEATURES

EXERCISES = ExerciseSet("04_intermediate_operate_churn")
"""The exercises of project 04, in order."""

ACTIONS = {"data_bug": "fix the pipeline", "concept_drift": "retrain on recent data",
           "data_drift": "retrain on recent data", "label_shift": "recalibrate", "benign": "no action"}


@EXERCISES.exercise("ex1", "which input drifted, and is it harmful")
def drifted_feature(report, week: int) -> DecisionExercise:
    """Exercise 1: the input with the largest PSI in `week`, and whether the diagnosis calls it benign."""
    rows = report.drift[report.drift["week"] == week]
    top = str(rows.sort_values("psi", ascending=False)["feature"].iloc[0])
    found = report.diagnosis[report.diagnosis["onset"] <= week]
    harmless = bool(len(found) == 0 or found["kind"].iloc[-1] == "benign")
    return DecisionExercise(
        {"feature": Field("the input whose PSI against the training data is largest that week",
                          choices=list(FEATURES), expected=top, why="sort that week's rows of report.drift by psi"),
         "harmless": Field("True if the model still fits the labels there (benign), else False",
                           choices=[True, False], expected=harmless,
                           why="read the kind of the latest incident at or before that week in report.diagnosis")},
        hints=["report.drift has one row per (week, feature); keep the week, sort by psi.",
               "A drifted input is harmless when the change test finds the labels still agree with the model."],
        solution=f"answer = {{'feature': {top!r}, 'harmless': {harmless}}}")


@EXERCISES.exercise("ex2", "classify the incident")
def classify_incident(report, world) -> DecisionExercise:
    """Exercise 2: the kind and onset of the first incident, checked against the world's truth."""
    change = world.truth()[0]
    kind = "benign" if change.kind == "seasonal_drift" else change.kind
    return DecisionExercise(
        {"kind": Field("data_bug, data_drift, concept_drift, label_shift or benign", choices=list(KINDS),
                       expected=kind, why="which of the diagnosis's tests fired, and what did the calendar say?"),
         "onset": Field("the scored week the change began", expected=change.week, tol=3,
                        why="move the alert week back by the label delay and the pooled window"),
         "evidence": Field("the evidence in a sentence", min_words=8,
                           mention=["PSI", "precision", "calendar", "deploy", "launch", "labels", "rate"])},
        hints=["Start from report.diagnosis: each row is one alert signal with its onset and the tests' results.",
               "A step in one input at a deploy is a data bug; a precision drop with stable inputs is concept "
               "drift; a churn-rate change that the scores predict is label shift."],
        solution=f"answer = {{'kind': {kind!r}, 'onset': {change.week}, 'evidence': '...'}}")


@EXERCISES.exercise("ex3", "the leakage of a random split")
def split_leakage(result: dict) -> ValueExercise:
    """Exercise 3: how much each split's validation AUC overstates the AUC on the future weeks."""
    expected = {"random": result["random_overstatement"], "time": result["time_overstatement"]}
    return ValueExercise(
        expected, atol=0.002, rtol=0.0,
        hints=["Overstatement = validation AUC minus the AUC the same model then gets on the future weeks.",
               "Use the numbers of policies.split_leakage: random_valid_auc - random_future_auc, and so on."],
        solution="answer = {'random': r['random_valid_auc'] - r['random_future_auc'],\n"
                 "          'time': r['time_valid_auc'] - r['time_future_auc']}")


@EXERCISES.exercise("ex4", "an alert rule within a false-alarm budget")
def alert_rule(quiet_report, quiet_world, changed_report, changed_world, budget: float = 0.05,
               within: int = 12) -> DecisionExercise:
    """Exercise 4: choose psi_limit, precision_drop and consecutive so that the rule stays within the
    false-alarm budget on a world without change and alerts within `within` weeks of the change."""
    change = changed_world.truth()[0].week

    def rule_of(answer):
        return weekly.AlertRule(psi_limit=float(answer["psi_limit"]), precision_drop=float(answer["precision_drop"]),
                                consecutive=int(answer["consecutive"]))

    def timeline(report, world, rule):
        return weekly.alert_timeline(report.drift, report.performance, rule,
                                     baseline_precision=report.baseline_precision,
                                     label_delay=world.label_delay_weeks, baseline_base_rate=report.baseline_base_rate)

    def check(value, answer):
        rule = rule_of(answer)
        quiet = weekly.false_alarm_rate(timeline(quiet_report, quiet_world, rule), range(quiet_world.scenario.n_weeks))
        if quiet > budget:
            return f"this rule pages on {quiet:.0%} of the weeks without change, over the {budget:.0%} budget"
        t = timeline(changed_report, changed_world, rule)
        hits = t[(t["week"] >= change) & t["alert"]]["week"]
        if hits.empty or hits.iloc[0] > change + within:
            return f"this rule does not alert within {within} weeks of the change in week {change}"
        return None

    return DecisionExercise(
        {"psi_limit": Field("the PSI above which an input counts as drifted, e.g. 0.1"),
         "precision_drop": Field("the relative precision drop that pages, e.g. 0.1"),
         "consecutive": Field("how many windows in a row must breach", validate=check)},
        hints=["Try the defaults of weekly.AlertRule first, then measure with weekly.false_alarm_rate.",
               "Lower limits catch the change sooner but page on noise; consecutive windows trade a week of "
               "delay for far fewer false alarms."],
        solution="answer = {'psi_limit': 0.1, 'precision_drop': 0.1, 'consecutive': 2}")


@EXERCISES.exercise("ex5", "promote the challenger?")
def promotion(promote: bool, result) -> DecisionExercise:
    """Exercise 5: the promotion decision the gate's evidence supports, and why."""
    return DecisionExercise(
        {"promote": Field("True to move the champion alias to the challenger", choices=[True, False],
                          expected=bool(promote), why="is the whole cost-change interval below zero?"),
         "why": Field("the reason, naming the interval", min_words=10, mention=["interval", "CI", "bootstrap"])},
        hints=["result.table() shows each criterion with its value and interval.",
               "Promote only if the interval of the cost change lies entirely below zero and no blocker fails."],
        solution=f"answer = {{'promote': {bool(promote)}, 'why': 'the bootstrap interval of the cost change ...'}}")


@EXERCISES.exercise("ex6", "choose the retraining policy by cost")
def choose_policy(table) -> DecisionExercise:
    """Exercise 6: the policy with the lowest total cost in the comparison, defended in a sentence."""
    best = str(table.sort_values("total_cost", kind="stable")["policy"].iloc[0])  # ties: the table's order
    return DecisionExercise(
        {"policy": Field("never, weekly, monthly, drift or performance", choices=list(POLICIES), expected=best,
                         why="the lowest total_cost wins"),
         "defence": Field("why this policy, in a sentence or two", min_words=12, justifies="policy",
                          mention=["cost", "retrain", "precision"])},
        hints=["total_cost = error_cost + retrains x the cost of one retrain.",
               "Ask what changes if a retrain became ten times dearer: is your choice robust?"],
        solution=f"answer = {{'policy': {best!r}, 'defence': '...'}}")


@EXERCISES.exercise("ex7", "the remediation memo with a rollback step")
def remediation_memo(kind: str) -> DecisionExercise:
    """Exercise 7: the action the diagnosed cause calls for, and how to roll back if it goes wrong."""
    return DecisionExercise(
        {"cause": Field("the diagnosed kind", choices=list(KINDS), expected=kind),
         "action": Field("the remedy", choices=sorted(set(ACTIONS.values())), expected=ACTIONS[kind],
                         why="a data bug is fixed at its source: retraining on broken data bakes the bug in"),
         "rollback": Field("how to go back if the remedy makes things worse", min_words=10,
                           mention=["alias", "champion", "version", "registry"])},
        hints=["Match the cause to the remedy: bug -> fix the pipeline; concept or harmful data drift -> "
               "retrain on recent data; label shift -> recalibrate; benign -> no action.",
               "Rolling back a model is moving the champion alias back to the previous registered version."],
        solution=f"answer = {{'cause': {kind!r}, 'action': {ACTIONS[kind]!r}, 'rollback': 'set_alias(...)'}}")
