"""The policy as data: the platform's file validates; a malformed policy is one clear error naming the gate and
the field (never a traceback from deep inside); tiering follows the AI Act; friction and playbooks follow the file."""

import copy

import pytest

from lifecycle_lab.governance import policy as pol
from lifecycle_lab.governance.policy import PolicyError
from lifecycle_lab.projects.p06_platform import platform


@pytest.fixture(scope="module")
def data():
    return pol.to_dict(platform.load_policy())


def test_the_platform_policy_validates_and_round_trips(tmp_path, data):
    policy = pol.validate_policy(data)
    again = pol.read_policy(pol.write_policy(policy, tmp_path / "policy.yaml"))
    assert again == policy
    assert {g.stage for g in policy.gates} == set(pol.STAGES)
    assert all(gates for gates in pol.nist_coverage(policy).values()), "every NIST AI RMF function has a gate"


def _broken(data, change):
    bad = copy.deepcopy(data)
    change(bad)
    return bad


def _gate(data, gid):
    return next(g for g in data["gates"] if g["id"] == gid)


@pytest.mark.parametrize("change, words", [
    (lambda d: _gate(d, "council").pop("approvers"), ["gate 'council'", "approvers"]),
    (lambda d: _gate(d, "council").update(stage="launch"), ["gate 'council'", "stage", "deployment"]),
    (lambda d: _gate(d, "validation").update(evidence=["validation", "audit"]), ["gate 'validation'", "evidence",
                                                                                 "audit"]),
    (lambda d: _gate(d, "triage").update(tiers=[0, 1]), ["gate 'triage'", "tiers"]),
    (lambda d: _gate(d, "triage").update(tiers="1"), ["gate 'triage'", "tiers"]),
    (lambda d: _gate(d, "launch").update(approvers=["board"]), ["gate 'launch'", "approvers", "board"]),
    (lambda d: _gate(d, "launch").update(nist=["MONITOR"]), ["gate 'launch'", "nist", "MONITOR"]),
    (lambda d: _gate(d, "launch").update(owner="x"), ["gate 'launch'", "unknown field", "owner"]),
    (lambda d: _gate(d, "launch").update(effort_days=-1), ["gate 'launch'", "effort_days"]),
    (lambda d: _gate(d, "launch").update(required_for=["live"]), ["gate 'launch'", "required_for", "live"]),
    (lambda d: _gate(d, "launch").update(uses=["toaster"]), ["gate 'launch'", "uses", "toaster"]),
    (lambda d: _gate(d, "launch").update(id="triage"), ["gate 'triage'", "id", "unique"]),
    (lambda d: d["gates"][3].pop("id"), ["gates[3]", "id"]),
    (lambda d: d["evidence"]["validation"].update(max_age_days=0), ["evidence 'validation'", "max_age_days"]),
    (lambda d: d["evidence"]["owner"].update(kind="human"), ["evidence 'owner'", "kind"]),
    (lambda d: d.pop("gates"), ["gates"]),
    (lambda d: d.update(severity_by_tier={1: "fatal", 2: "high", 3: "low"}), ["severity_by_tier"]),
])
def test_a_malformed_policy_names_the_gate_and_the_field(data, change, words):
    with pytest.raises(PolicyError) as err:
        pol.validate_policy(_broken(data, change))
    for word in words:
        assert word in str(err.value), str(err.value)


def test_yaml_syntax_errors_name_the_line():
    text = "name: p\nversion: 1\ngates:\n  - id: a\n   stage: data\n"
    with pytest.raises(PolicyError, match="line 5"):
        pol.read_policy(text)
    with pytest.raises(PolicyError, match="mapping"):
        pol.read_policy("- just\n- a list\n")


def test_an_ai_act_high_risk_use_makes_a_model_tier_1():
    assert pol.effective_tier(2, "recruitment")[0] == 1
    assert pol.effective_tier(3, "health_insurance_pricing")[0] == 1
    assert pol.effective_tier(2, "fraud_detection")[0] == 2  # excepted from Annex III 5(b)
    assert pol.effective_tier(3, "chatbot")[0] == 3  # a transparency duty, not high-risk
    with pytest.raises(PolicyError):
        pol.effective_tier(4, "chatbot")


def test_friction_grows_with_risk_and_counts_the_file(data):
    policy = pol.validate_policy(data)
    table = pol.friction(policy).set_index("tier")
    for tier in (1, 2, 3):
        binding = [g for g in data["gates"] if tier in g["tiers"] and "production" in g["required_for"]
                   and not g.get("uses")]
        assert table.loc[tier, "gates"] == len(binding)
        assert table.loc[tier, "review_days"] == pytest.approx(sum(g.get("effort_days", 0) for g in binding))
    assert table.loc[1, "gates"] > table.loc[2, "gates"] > table.loc[3, "gates"]
    assert table.loc[1, "council"] and not table.loc[3, "council"]


def test_playbooks_list_every_gate_of_their_stage_with_its_template(data):
    policy = pol.validate_policy(data)
    for stage in pol.STAGES:
        text = pol.playbook(policy, stage)
        for g in policy.gates:
            assert (f"`{g.id}`" in text) == (g.stage == stage)
            if g.stage == stage:
                for e in g.evidence:
                    assert policy.evidence[e].tag in text
    assert "notebook 03: validation_report.md" in pol.playbook(policy, "evaluation")
    with pytest.raises(PolicyError, match="stage"):
        pol.playbook(policy, "launch")
