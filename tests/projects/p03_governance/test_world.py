"""The transactions scenario: shapes, reproducibility, the drift switches, late labels, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lifecycle_lab.projects.p03_governance import world as tx


@pytest.fixture(scope="module")
def fraud():
    return tx.simulate("fraud", months=12, n_per_month=1500, seed=3)


def test_shape_columns_and_reproducibility(fraud):
    assert len(fraud) == 1500 * 3 + 12 * 1500
    assert sorted(fraud.month.unique()) == list(range(13))
    assert set(tx.features("fraud")) <= set(fraud.columns)
    assert tx.SENSITIVE in fraud and tx.SENSITIVE not in tx.features("fraud")
    again = tx.simulate("fraud", months=12, n_per_month=1500, seed=3)
    assert fraud.equals(again)
    other = tx.simulate("fraud", months=12, n_per_month=1500, seed=4)
    assert not fraud.equals(other)
    credit = tx.simulate("credit", months=12, n_per_month=500, seed=3)
    assert set(tx.features("credit")) <= set(credit.columns)


def test_labels_arrive_late(fraud):
    # training labels all known; the last month mostly unknown; earlier months more complete than later
    share = fraud.groupby("month").label_known.mean()
    assert share[0] == 1.0
    assert share[12] < 0.5
    assert share[6] > share[12]
    known = fraud[fraud.label_known]
    assert (known.label_day < 13 * tx.DAYS_PER_MONTH).all() or (known.month == 0).any()


def test_data_drift_switch_moves_inputs():
    on = tx.simulate("fraud", months=18, n_per_month=3000, seed=1, concept_drift=False)
    off = tx.simulate("fraud", months=18, n_per_month=3000, seed=1, data_drift=False, concept_drift=False)
    for frame, expect_drift in ((on, True), (off, False)):
        ref, cur = frame[frame.month == 0].amount, frame[frame.month == 18].amount
        p = stats.ks_2samp(ref, cur).pvalue
        assert (p < 1e-4) if expect_drift else (p > 1e-3)
        online = (frame[frame.month == 18].channel == "online").mean() - (frame[frame.month == 0].channel == "online").mean()
        assert (online > 0.05) if expect_drift else (abs(online) < 0.05)


def test_concept_drift_changes_the_outcome_of_the_new_pattern():
    kw = dict(months=12, n_per_month=3000, seed=2, data_drift=False)
    on = tx.simulate("fraud", concept_drift=True, **kw)
    off = tx.simulate("fraud", concept_drift=False, **kw)
    # inputs are identical (same seed, no data drift): only P(Y|X) differs
    assert on[tx.features("fraud")].equals(off[tx.features("fraud")])
    pattern = lambda f: (f.merchant_category == "digital_goods") & (f.amount < 30) & (f.month >= 9)
    assert on[pattern(on)].label.mean() > 3 * off[pattern(off)].label.mean()
    before = lambda f: f[f.month < 6]
    assert before(on).label.equals(before(off).label)  # nothing changes before the onset (month 6)


def test_models_fit_and_legacy_degrades_under_concept_drift(fraud):
    from sklearn.metrics import roc_auc_score

    X = tx.features("fraud")
    train = fraud[fraud.month == 0]
    legacy = tx.build_model("fraud", "legacy").fit(train[X], train.label)
    early, late = fraud[fraud.month.between(1, 3)], fraud[fraud.month >= 10]
    auc_early = roc_auc_score(early.label, legacy.predict_proba(early[X])[:, 1])
    auc_late = roc_auc_score(late.label, legacy.predict_proba(late[X])[:, 1])
    assert auc_early > auc_late + 0.05
    recent = fraud[fraud.month.between(7, 9)]
    new = tx.build_model("fraud", "replacement").fit(recent[X], recent.label)
    assert roc_auc_score(late.label, new.predict_proba(late[X])[:, 1]) > auc_late + 0.05


def test_bad_input_is_a_clear_error():
    with pytest.raises(tx.ScenarioError, match="unknown variant 'loan'"):
        tx.simulate("loan")
    with pytest.raises(tx.ScenarioError, match="months"):
        tx.simulate("fraud", months=2)
    with pytest.raises(tx.ScenarioError, match="n_per_month"):
        tx.simulate("fraud", n_per_month=10)
    with pytest.raises(tx.ScenarioError, match="concept_start"):
        tx.simulate("fraud", months=12, concept_start=20)
    with pytest.raises(tx.ScenarioError, match="model kind"):
        tx.build_model("fraud", "deep")
