"""Project 06's exercises: the reference answers pass and wrong ones fail, on the seed's own portfolio."""

import pytest

from lifecycle_lab.framing import canvas, prioritise
from lifecycle_lab.governance import checker, council
from lifecycle_lab.projects.p06_platform import exercises as ex
from lifecycle_lab.projects.p06_platform import platform, world

POLICY = platform.load_policy()
GATE = {"id": "ai_disclosure", "stage": "deployment", "name": "AI interaction disclosed to users", "tiers": [1, 2, 3],
        "required_for": ["production"], "evidence": ["ai_disclosure"], "approvers": ["legal"],
        "nist": ["GOVERN", "MANAGE"], "uses": ["chatbot"]}


def _passes(exercise, answer):
    return exercise.evaluate(answer).passed


def test_there_are_at_least_six_exercises():
    assert len(ex.EXERCISES) >= 6


@pytest.mark.parametrize("seed", [0, 3])
def test_ex1_the_chatbot_gate(seed):
    pf = world.portfolio(seed)
    e = ex.chatbot_gate(platform.disclosure_policy(POLICY), pf)
    assert _passes(e, GATE)
    assert not _passes(e, {**GATE, "uses": []})  # binds every model: many new violations
    assert not _passes(e, {**GATE, "evidence": ["ai_notice"]})  # the policy refuses it
    assert not _passes(e, {**GATE, "tiers": [3]})
    assert not _passes(e, {**GATE, "stage": "monitoring"})
    assert not _passes(e, None)


@pytest.mark.parametrize("seed", [0, 5])
def test_ex2_the_violations(seed):
    pf = world.portfolio(seed)
    table = checker.check_portfolio(POLICY, pf.records, directory=pf.directory, today=pf.today)
    e = ex.find_violations(pf, POLICY)
    good = {"violations": list(zip(table.model, table.gate)),
            "critical": sorted(set(table.model[table.severity == "critical"]))}
    assert _passes(e, good)
    assert not _passes(e, {**good, "violations": good["violations"][:-1]})
    assert not _passes(e, {**good, "critical": []})


def test_ex3_the_queue():
    pf = world.portfolio(0)
    queue = council.agenda(POLICY, pf.records, directory=pf.directory, today=pf.today)
    e = ex.council_queue(queue)
    why = "it is Tier 1 with the earliest deadline"
    assert _passes(e, {"queue": list(queue.model), "why_first": why})
    assert not _passes(e, {"queue": list(queue.model)[::-1], "why_first": why})


def test_ex4_the_canvas():
    offers = platform.framing_evidence("churn-save offers")
    e = ex.ml_canvas(offers)
    good = {**{b: getattr(platform.CHURN_CANVAS, b) for b in ("title", *canvas.BOXES)}, "verdict": offers["verdict"]}
    assert _passes(e, good)
    assert not _passes(e, {**good, "verdict": "rules"})
    assert not _passes(e, {**good, "decisions": "we decide things"})


def test_ex5_the_backlog():
    backlog = world.backlog()
    ranked, matrix = prioritise.rank_ice(backlog), prioritise.value_effort(backlog)
    e = ex.rank_backlog(backlog, 1)
    good = {"ice_top3": list(ranked.feature[:3]), "value_effort_first": matrix.feature.iloc[0],
            "flip_confidence": prioritise.flip_confidence(backlog, ranked.feature[1], ranked.feature[0])}
    assert _passes(e, good)
    assert not _passes(e, {**good, "value_effort_first": ranked.feature[0]})
    assert not _passes(e, {**good, "flip_confidence": 8.0})


@pytest.mark.parametrize("model, choice", [("churn-predictor", "retrain"), ("demand-forecaster", "retire")])
def test_ex6_retire_or_retrain(model, choice):
    table, rec = platform.retire_or_retrain(model, horizon_years=3, discount_rate=0.08, drift_rate=0.15)
    assert rec == choice
    e = ex.retire_or_retrain(table, model)
    other = "retire" if choice == "retrain" else "retrain"
    good = {"decision": rec, "npv": float(table.npv.iloc[0]),
            "defence": f"{rec} has the highest NPV: its upfront cost is repaid by lower error and running costs"}
    assert _passes(e, good)
    assert not _passes(e, {**good, "decision": other})
    assert not _passes(e, {**good, "npv": float(table.npv.iloc[0]) * 1.2})


def test_retire_or_retrain_follows_the_horizon():
    table, rec = platform.retire_or_retrain("churn-predictor", horizon_years=1, discount_rate=0.08, drift_rate=0.15)
    assert rec == "status_quo" and (table.npv < 0).all()  # one year does not repay the retrain


def test_launch_fixes_close_exactly_the_gates_named():
    import datetime as dt

    v = [{"gate": "triage"}, {"gate": "council"}, {"gate": "monitoring"}]
    tags = platform.launch_fixes(v, today=dt.date(2026, 12, 1), directory=world.STAFF)
    assert tags["council_review"] == "2026-12-01" and tags["owner"] in world.STAFF and "monitoring" in tags
    assert platform.launch_fixes(v[1:2], today=dt.date(2026, 12, 1), directory=world.STAFF) == \
        {"council_review": "2026-12-01"}
    with pytest.raises(ValueError, match="validation"):
        platform.launch_fixes([{"gate": "validation"}], today=dt.date(2026, 12, 1), directory=world.STAFF)


def test_each_reference_passes_its_own_check():
    """What a skipped exercise hands the next cell must itself pass (the notebook continues with it)."""
    pf = world.portfolio(2)
    queue = council.agenda(POLICY, pf.records, directory=pf.directory, today=pf.today)
    table, _ = platform.retire_or_retrain("demand-forecaster", horizon_years=3, discount_rate=0.08, drift_rate=0.15)
    built = [ex.chatbot_gate(platform.disclosure_policy(POLICY), pf), ex.find_violations(pf, POLICY),
             ex.council_queue(queue), ex.ml_canvas(platform.framing_evidence("churn-save offers")),
             ex.rank_backlog(world.backlog(), 1), ex.retire_or_retrain(table, "demand-forecaster")]
    for e in built:
        assert e.reference is not None and _passes(e, e.reference), e.name
