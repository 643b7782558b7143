"""Business case: costs, thresholds, NPV (hand-computable), options, sensitivity, the memo."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.governance import GovernanceError, business as bz
from lifecycle_lab.governance.modelcard import fmt


def test_npv_hand_computed():
    # -100 + 50/1.1 + 60/1.1^2 = -100 + 45.4545... + 49.5867... = -4.9587 (to 4 d.p.)
    assert bz.npv([50, 60], 0.10, 100) == pytest.approx(-100 + 50 / 1.1 + 60 / 1.21)
    assert bz.npv([50, 60], 0.10, 100) == pytest.approx(-4.9587, abs=1e-4)
    assert bz.npv([100, 100, 100], 0.0, 250) == pytest.approx(50)
    with pytest.raises(GovernanceError, match="discount rate"):
        bz.npv([1], 1.5)
    with pytest.raises(GovernanceError, match="horizon"):
        bz.npv([], 0.1)
    with pytest.raises(GovernanceError, match="initial_investment"):
        bz.npv([1], 0.1, initial_investment=-100)


def _option(name, upfront, annual, cpd, drift, comp=0.0):
    return bz.Option(name, {"i": upfront}, {"run": annual}, cpd, drift, comp)


def test_cashflows_and_evaluate_options_by_hand():
    sq = _option("status_quo", 0, 100, 2.0, 1.0, 50)
    op = _option("retrain", 300, 80, 1.0, 0.0, 0)
    inputs = bz.CaseInputs(volume_per_year=100, horizon_years=2, discount_rate=0.1, drift_rate=0.5)
    flows = bz.cashflows(op, sq, inputs)
    # year 1: SQ errors 200 + exposure 50 vs 100 -> dB 150; dC = 80 - 100 = -20 -> net 170
    # year 2: SQ errors 200 * 1.5 = 300 + 50 vs 100 -> dB 250; net 270
    assert flows.dB.tolist() == pytest.approx([150, 250])
    assert flows.dC.tolist() == pytest.approx([-20, -20])
    table = bz.evaluate_options([op], sq, inputs)
    assert table.npv.iloc[0] == pytest.approx(-300 + 170 / 1.1 + 270 / 1.21)


def test_recommendation_changes_with_the_assumptions():
    sq = _option("status_quo", 0, 100, 2.0, 1.0)
    patch = _option("patch", 50, 100, 1.2, 1.0)    # cheap now, decays with drift
    retrain = _option("retrain", 400, 60, 1.0, 0.1)  # dear now, adapts
    base = bz.CaseInputs(volume_per_year=200, horizon_years=5, discount_rate=0.05, drift_rate=0.3)
    assert bz.recommend(bz.evaluate_options([patch, retrain], sq, base)) == "retrain"
    short = bz.CaseInputs(volume_per_year=200, horizon_years=1, discount_rate=0.05, drift_rate=0.3)
    assert bz.recommend(bz.evaluate_options([patch, retrain], sq, short)) == "patch"
    nothing = _option("patch", 10_000, 100, 1.9, 1.0)
    assert bz.recommend(bz.evaluate_options([nothing], sq, short)) == bz.STATUS_QUO
    table = bz.sensitivity(lambda case: (sq, [patch, retrain]), base, {"horizon_years": [1, 5], "drift_rate": [0, 1]})
    assert table.loc[table.assumption == "horizon_years", "recommendation"].tolist() == ["patch", "retrain"]


def test_scenario_options_flip_with_discount_rate_and_drift():
    measured = {"status_quo": 10.3, "patch": 7.2, "retrain": 7.0}
    build = lambda case, **kw: bz.scenario_options("fraud", measured, **kw)
    base = bz.CaseInputs(volume_per_year=bz.VOLUME["fraud"])
    sens = bz.sensitivity(build, base, {"horizon_years": [1, 3], "drift_rate": [0.15, 1.0],
                                        "licence_per_decision": [0.0, 3.0]})
    assert sens.recommendation.nunique() >= 2
    assert sens.set_index(["assumption", "value"]).loc[("horizon_years", 1), "recommendation"] == "patch"
    with pytest.raises(GovernanceError, match="missing"):
        bz.scenario_options("fraud", {"patch": 1.0})
    with pytest.raises(GovernanceError, match="unknown variant"):
        bz.scenario_options("loans", measured)
    with pytest.raises(GovernanceError, match="negative"):
        bz.Option("x", {"engineering": -5})
    with pytest.raises(GovernanceError, match="volume_per_year"):
        bz.CaseInputs(volume_per_year=0)
    with pytest.raises(GovernanceError, match="horizon_years"):
        bz.CaseInputs(volume_per_year=10, horizon_years=0)


MEASURED = {"status_quo": 10.3, "patch": 7.2, "retrain": 7.0}  # EUR per decision, as measured in notebook 03


def _recommend(variant="fraud", measured=MEASURED, **case):
    sq, options = bz.scenario_options(variant, measured, **case.pop("scenario", {}))
    return bz.recommend(bz.evaluate_options(options, sq, bz.CaseInputs(volume_per_year=bz.VOLUME[variant], **case)))


def test_discount_rate_flips_retrain_to_sunset():
    """A high discount rate weighs today's investment against distant savings: the cheaper-to-start vendor wins."""
    licence = {"licence_per_decision": 0.65}
    assert _recommend(discount_rate=0.03, scenario=licence) == "retrain"
    assert _recommend(discount_rate=0.08, scenario=licence) == "retrain"
    assert _recommend(discount_rate=0.5, scenario=licence) == "sunset"


def test_drift_rate_flips_retrain_to_sunset():
    """Fast drift favours the option least exposed to it (the vendor: drift_exposure 0.2 against 0.3)."""
    assert _recommend(drift_rate=0.0) == "retrain" and _recommend(drift_rate=0.15) == "retrain"
    assert _recommend(drift_rate=1.0) == "sunset"


def test_false_negative_cost_reprices_the_models_and_flips_the_recommendation():
    """cost_fn moves p* and every model's measured error cost; cheap errors make the vendor's 5% gap small."""
    rng = np.random.default_rng(0)
    z = rng.normal(-4.5, 1.3, 20_000)
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-z))).astype(int)
    probas = {name: 1 / (1 + np.exp(-(z + rng.normal(0, noise, len(z)))))
              for name, noise in (("status_quo", 1.6), ("patch", 0.9), ("retrain", 0.5))}
    costs = bz.Costs(fp=10, fn=250, review=3)

    def build(case, cost_fn=None):
        c = costs if cost_fn is None else bz.Costs(costs.fp, cost_fn, costs.review)
        return bz.scenario_options("fraud", bz.measured_costs(y, probas, c, {"status_quo": 0.05}))

    sens = bz.sensitivity(build, bz.CaseInputs(volume_per_year=bz.VOLUME["fraud"]), {"cost_fn": [62.5, 250.0]})
    assert sens.recommendation.tolist() == ["sunset", "retrain"]
    # the re-pricing is real: at a quarter of c_FN, p* rises and each model's measured cost falls
    cheap = bz.measured_costs(y, probas, bz.Costs(10, 62.5, 3), {"status_quo": 0.05})
    full = bz.measured_costs(y, probas, costs, {"status_quo": 0.05})
    assert all(cheap[k] < full[k] for k in full)
    assert cheap["retrain"] == pytest.approx(bz.expected_cost(y, probas["retrain"] >= 13 / 72.5,
                                                              bz.Costs(10, 62.5, 3))["cost_per_decision"])


def test_no_option_beats_the_status_quo_when_nothing_degraded():
    """Same error cost and no drift to come: over one year no option earns back its investment."""
    same = {"status_quo": 7.0, "patch": 7.0, "retrain": 7.0}
    assert _recommend(measured=same, drift_rate=0.0, horizon_years=1) == bz.STATUS_QUO
    # with drift still expected, the adaptable design pays even without a measured edge today
    assert _recommend(measured=same) == "retrain"


def test_compliance_exposure_is_derived_from_stated_assumptions():
    # credit: 5% a year x EUR 15M (Art 99(4) cap) + EUR 450k remediation; fraud: 10% x 1M + 50k
    assert bz.compliance_exposure("credit") == pytest.approx(0.05 * 15e6 + 450e3) == bz.COMPLIANCE_EXPOSURE["credit"]
    assert bz.compliance_exposure("fraud") == pytest.approx(150e3)
    assert bz.compliance_exposure("credit", {"p_action_per_year": 0.0}) == pytest.approx(450e3)
    with pytest.raises(GovernanceError, match="probability"):
        bz.compliance_exposure("credit", {"p_action_per_year": 1.5})
    with pytest.raises(GovernanceError, match=r"unknown compliance assumptions \['fine'\]"):
        bz.compliance_exposure("credit", {"fine": 1e6})  # not silently ignored
    sq, options = bz.scenario_options("credit", MEASURED)
    assert sq.compliance_exposure == bz.compliance_exposure("credit")
    assert {o.name: "opportunity" in o.upfront for o in options} == {"patch": True, "retrain": True, "sunset": True}


def test_near_tie_flagged():
    table = pd.DataFrame({"option": ["retrain", "sunset", "patch"], "npv": [4.39e6, 4.23e6, 2.9e6]})
    tie = bz.near_tie(table)
    assert tie["best"] == "retrain" and tie["runner_up"] == "sunset" and tie["gap"] == pytest.approx(0.16 / 4.39)
    assert bz.near_tie(table.assign(npv=[4.39e6, 3.9e6, 2.9e6])) is None  # 11% apart
    assert bz.near_tie(table.assign(npv=[-1.0, -1.01, -2.0])) is None  # nothing positive: no winner to doubt


def test_memo_has_every_section_and_the_table_numbers():
    measured = {"status_quo": 10.3, "patch": 7.2, "retrain": 7.0}
    inputs = bz.CaseInputs(volume_per_year=bz.VOLUME["fraud"])
    sq, options = bz.scenario_options("fraud", measured)
    table = bz.evaluate_options(options, sq, inputs)
    sens = bz.sensitivity(lambda case, **kw: bz.scenario_options("fraud", measured, **kw), inputs,
                          {"discount_rate": [0.03, 0.3]})
    best = bz.recommend(table)
    npv = float(table.set_index("option").loc[best, "npv"])
    memo = bz.memo_markdown("fraud", table, sens, inputs, bz.DEFAULT_COSTS["fraud"],
                            decision={"option": best, "npv": npv, "justification": "because"}, risks=["r1"])
    for section in bz.MEMO_SECTIONS:
        assert f"## {section}\n" in memo
    for r in table.itertuples():
        assert f"| {r.option} | {fmt(float(r.I0))} |" in memo and fmt(float(r.npv)) in memo
    assert f"**{best}**, NPV EUR {fmt(npv)}" in memo
    for r in sens.itertuples():  # every sensitivity row, with every option's NPV in EUR M
        cells = " | ".join(f"{getattr(r, 'npv_' + o) / 1e6:.2f}" for o in table.option)
        assert f"| {r.assumption} | {r.value:g} | {cells} | {r.recommendation} |" in memo
    assert ("**Near tie:**" in memo) == (bz.near_tie(table) is not None)
    with pytest.raises(GovernanceError, match="not among"):
        bz.memo_markdown("fraud", table, sens, inputs, bz.DEFAULT_COSTS["fraud"],
                         decision={"option": "rewrite", "npv": 0}, risks=[])
