"""Project 04's exercises: the reference answers pass, wrong ones fail, on the learner's own results."""

import functools

from lifecycle_lab.projects.p04_churn import exercises as ex
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn import operate as op
from lifecycle_lab.projects.p04_churn import policies as pol
from lifecycle_lab.projects.p04_churn.world import ChurnWorld

QUIET = dict(concept_drift=False, data_bug=False, seasonal_drift=False, label_shift=False, n_weeks=36)


@functools.lru_cache(maxsize=None)
def _run(**kw):
    world = ChurnWorld(**kw)
    return world, op.operate(world)


def _passes(exercise, answer):
    return exercise.evaluate(answer).passed


def test_there_are_at_least_six_exercises():
    assert len(list(ex.EXERCISES)) >= 6


def test_ex1_and_ex2_follow_the_report_and_the_truth():
    world, report = _run(**{**QUIET, "data_bug": True, "bug_week": 26})
    e1 = ex.drifted_feature(report, 27)
    assert _passes(e1, {"feature": "usage_hours", "harmless": False})
    assert not _passes(e1, {"feature": "seats", "harmless": False})
    e2 = ex.classify_incident(report, world)
    good = {"kind": "data_bug", "onset": 26, "evidence": "usage_hours stepped, PSI 7 at the pipeline deploy week"}
    assert _passes(e2, good)
    assert not _passes(e2, {**good, "kind": "concept_drift"})
    assert not _passes(e2, {**good, "onset": 10})


def test_ex3_leakage_numbers():
    r = pol.split_leakage(ChurnWorld(n_weeks=32), (12, 26), (26, 30))
    e = ex.split_leakage(r)
    right = {"random": r["random_valid_auc"] - r["random_future_auc"], "time": r["time_valid_auc"] - r["time_future_auc"]}
    assert _passes(e, right)
    assert not _passes(e, {"random": 0.0, "time": right["time"] + 0.05})


def test_ex4_the_rule_is_judged_on_both_worlds():
    quiet_world, quiet = _run(**QUIET)
    world, report = _run(n_weeks=36)
    e = ex.alert_rule(quiet, quiet_world, report, world)
    assert _passes(e, {"psi_limit": 0.1, "precision_drop": 0.1, "consecutive": 2})
    assert not _passes(e, {"psi_limit": 0.005, "precision_drop": 0.1, "consecutive": 1})  # pages on noise
    assert not _passes(e, {"psi_limit": 0.1, "precision_drop": 0.6, "consecutive": 2})  # never sees the launch


def test_ex5_to_ex7_decisions():
    world = ChurnWorld(seed=1, n_weeks=32)
    promote, result = pol.promotion(churn_model.train(world.history()), churn_model.train(world.weeks(20, 24)),
                                    world.weeks(28, 32))
    e5 = ex.promotion(promote, result)
    why = "the bootstrap interval of the cost change decides it, with the precision target met"
    assert _passes(e5, {"promote": promote, "why": why}) and not _passes(e5, {"promote": not promote, "why": why})
    table = pol.compare_policies(world, pol.PolicyCosts(retrain=5_000), policies=("never", "weekly"))
    e6 = ex.choose_policy(table)
    best = table.policy.iloc[0]
    other = "weekly" if best == "never" else "never"
    assert _passes(e6, {"policy": best, "defence": f"{best} has the lowest total cost: each retrain costs more "
                                                      f"than the precision it buys back"})
    assert not _passes(e6, {"policy": other, "defence": f"{other} keeps precision higher whatever a retrain costs us"})
    e7 = ex.remediation_memo("data_bug")
    memo = {"cause": "data_bug", "action": "fix the pipeline",
            "rollback": "if the fix misbehaves, move the champion alias back to the previous registry version"}
    assert _passes(e7, memo)
    assert not _passes(e7, {**memo, "action": "retrain on recent data"})
