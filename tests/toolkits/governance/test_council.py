"""The council: who comes before it (recomputed from the policy's rules by hand), the queue order (the stated
rule, checked against an independent sort of shuffled items), and decision records on disk."""

import datetime as dt
import json
import random

import pandas as pd
import pytest

from lifecycle_lab.governance import council
from lifecycle_lab.governance.checker import check_portfolio
from lifecycle_lab.governance.policy import effective_tier
from lifecycle_lab.projects.p06_platform import platform, world

POLICY = platform.load_policy()


@pytest.mark.parametrize("seed", range(6))
def test_the_agenda_holds_exactly_the_models_the_rules_send(seed):
    pf = world.portfolio(seed)
    queue = council.agenda(POLICY, pf.records, directory=pf.directory, today=pf.today)
    violations = check_portfolio(POLICY, pf.records, directory=pf.directory, today=pf.today)
    expected = set()
    for r in pf.records:
        tier = effective_tier(int(r["tags"]["risk_tier"]), r["tags"]["use"])[0]
        if r["tags"]["stage"] == "staging" and tier == 1 and not r["tags"].get("council_review"):
            expected.add(r["name"])  # launch review before production
    mine = violations[(violations.gate == "council") | (violations.severity == "critical")]
    expected |= set(mine.model)
    assert set(queue.model) == expected
    assert "health-premium-pricer" in expected  # the Tier 1 launch waiting for the council
    no_council = next(g.model for g in pf.planted if g.kind == "no_council")
    assert queue.set_index("model").loc[no_council, "tier"] == 1


def test_the_queue_follows_the_stated_rule_whatever_the_input_order():
    rng = random.Random(0)
    start = dt.date(2026, 12, 1)
    rows = [{"model": f"m{i:02d}", "tier": rng.choice([1, 2, 3]), "owner": "x", "reason": "r",
             "deadline": start + dt.timedelta(days=rng.randint(0, 5))} for i in range(40)]
    rng.shuffle(rows)
    ordered = council.queue_order(pd.DataFrame(rows))
    by_hand = sorted(rows, key=lambda r: (r["tier"], r["deadline"], r["model"]))
    assert list(ordered.model) == [r["model"] for r in by_hand]
    assert list(ordered.place) == list(range(1, 41))


def test_a_decision_record_is_written_and_read_back(tmp_path):
    path = council.record_decision(tmp_path, model="cv-screener", decision="approve with conditions",
                                   rationale="the audit shows equal selection rates and a human reviews every "
                                             "rejection", present=["Product", "Legal", "Ethics"],
                                   date=dt.date(2026, 12, 1), conditions=["quarterly bias audit (Ethics, 2027-03-01)"])
    assert path.name == "2026-12-01_cv-screener.md" and "approve with conditions" in path.read_text()
    records = council.read_decisions(tmp_path)
    assert records == [json.loads((tmp_path / "2026-12-01_cv-screener.json").read_text())]
    assert records[0]["present"] == ["Ethics", "Legal", "Product"]


@pytest.mark.parametrize("kw, word", [
    ({"present": ["Product", "Engineering"]}, "quorum"),
    ({"present": ["Product", "Engineering", "Finance"]}, "not council members"),
    ({"present": ["Product", "Engineering", "Engineering"]}, "quorum"),
    ({"decision": "maybe"}, "decision"),
    ({"rationale": "fine"}, "rationale"),
    ({"decision": "approve with conditions"}, "condition"),
])
def test_a_decision_without_quorum_or_reason_is_refused(tmp_path, kw, word):
    args = dict(model="m", decision="approve", rationale="the evidence on file meets every gate of the policy",
                present=["Product", "Legal", "Ethics"], date=dt.date(2026, 12, 1))
    with pytest.raises(council.GovernanceError, match=word):
        council.record_decision(tmp_path, **{**args, **kw})
    assert not list(tmp_path.iterdir())
