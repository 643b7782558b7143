"""Business case: costs, thresholds, NPV (hand-computable), options, sensitivity, the memo."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.governance import GovernanceError, business as bz
from lifecycle_lab.governance.modelcard import fmt


def test_costs_validate_and_p_star_matches_root_finding():
    from scipy.optimize import brentq

    with pytest.raises(GovernanceError, match="negative"):
        bz.Costs(fp=-1, fn=10)
    with pytest.raises(GovernanceError, match="both 0"):
        bz.Costs(fp=0, fn=0)
    with pytest.raises(GovernanceError, match="finite"):
        bz.Costs(fp=float("nan"), fn=1)
    for fp, fn, review in [(10, 250, 3), (300, 3000, 40), (1, 1, 0), (5, 100, 0)]:
        c = bz.Costs(fp, fn, review)
        root = brentq(lambda p: review + (1 - p) * fp - p * fn, 0, 1)
        assert c.p_star == pytest.approx(root, abs=1e-10)
        assert c.elkan_threshold == pytest.approx(fp / (fp + fn))
    assert bz.Costs(fp=1, fn=10, review=50).p_star == 1.0  # reviews dearer than the loss: never flag


def test_expected_cost_against_sklearn_confusion_matrix():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(0)
    y, pred = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    c = bz.Costs(fp=7, fn=90, review=2)
    got = bz.expected_cost(y, pred, c)
    tn, fp, fn, tp = confusion_matrix(y, pred).ravel()
    assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (tp, fp, fn, tn)
    assert got["cost"] == pytest.approx(fp * 7 + fn * 90 + (tp + fp) * 2)
    with pytest.raises(GovernanceError, match="empty"):
        bz.expected_cost([], [], c)


def test_sweep_matches_brute_force_and_finds_p_star_on_calibrated_scores():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 12, 200_000)
    y = (rng.random(len(p)) < p).astype(int)  # calibrated by construction
    c = bz.Costs(fp=10, fn=250, review=3)
    sweep = bz.threshold_sweep(y, p, c)
    for thr in (0.02, 0.05, 0.2):
        row = sweep.loc[np.isclose(sweep.threshold, thr)].iloc[0]
        assert row.cost_per_decision == pytest.approx(bz.expected_cost(y, p >= thr, c)["cost_per_decision"])
    assert bz.best_threshold(sweep) == pytest.approx(c.p_star, abs=0.0101)


def test_npv_hand_computed():
    # -100 + 50/1.1 + 60/1.1^2 = -100 + 45.4545... + 49.5867... = -4.9587 (to 4 d.p.)
    assert bz.npv([50, 60], 0.10, 100) == pytest.approx(-100 + 50 / 1.1 + 60 / 1.21)
    assert bz.npv([50, 60], 0.10, 100) == pytest.approx(-4.9587, abs=1e-4)
    assert bz.npv([100, 100, 100], 0.0, 250) == pytest.approx(50)
    with pytest.raises(GovernanceError, match="discount rate"):
        bz.npv([1], 1.5)
    with pytest.raises(GovernanceError, match="horizon"):
        bz.npv([], 0.1)


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
    with pytest.raises(GovernanceError, match="not among"):
        bz.memo_markdown("fraud", table, sens, inputs, bz.DEFAULT_COSTS["fraud"],
                         decision={"option": "rewrite", "npv": 0}, risks=[])
