"""Monthly outcomes against scikit-learn; the drift diagnosis against how the simulated world was built."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.evaluation import costs
from lifecycle_lab.monitoring import performance as perf
from lifecycle_lab.monitoring.drift import MonitorInputError
from lifecycle_lab.projects.p03_governance import world as tx

COSTS = costs.Costs(fp=10, fn=250, review=3)


def _world(concept: bool, data: bool = True, seed: int = 3):
    world = tx.simulate("fraud", months=15, n_per_month=2500, seed=seed, concept_drift=concept, data_drift=data,
                        concept_start=7)
    X = tx.features("fraud")
    train = world[world.month == 0]
    ref = tx.build_model("fraud", "replacement").fit(train[X], train.label)
    return world, ref.predict_proba(world[X])[:, 1]


@pytest.fixture(scope="module")
def drifting():
    return _world(True)


def test_monthly_performance_matches_sklearn(drifting):
    from sklearn.metrics import precision_score, recall_score

    world, p = drifting
    table = perf.monthly_performance(world, p, 0.05, COSTS)
    assert table.month.tolist() == list(range(16))
    for m in (0, 5, 14):
        rows = world[(world.month == m) & world.label_known]
        flag = p[rows.index] >= 0.05
        got = table.set_index("month").loc[m]
        assert got.precision == pytest.approx(precision_score(rows.label, flag))
        assert got.recall == pytest.approx(recall_score(rows.label, flag))
        assert got.cost_per_1k == pytest.approx(1000 * costs.expected_cost(rows.label, flag, COSTS)["cost_per_decision"])
    assert table.set_index("month").loc[15, "labelled_share"] < 0.5


def test_monthly_performance_errors_on_a_missing_month_and_bad_threshold(drifting):
    world, p = drifting
    gap = world.month != 4
    with pytest.raises(MonitorInputError, match=r"month\(s\) \[4\]"):
        perf.monthly_performance(world[gap], p[gap.to_numpy()], 0.05, COSTS)
    with pytest.raises(MonitorInputError, match="threshold"):
        perf.monthly_performance(world, p, 1.5, COSTS)
    with pytest.raises(MonitorInputError, match="values for"):
        perf.monthly_performance(world, p[:10], 0.05, COSTS)
    unlabelled = world.assign(label_known=world.month == 0)
    t = perf.monthly_performance(unlabelled, p, 0.05, COSTS)
    assert math.isnan(t.set_index("month").loc[3, "recall"])


def test_concept_drift_found_near_its_true_onset_and_not_without_it(drifting):
    world, p = drifting
    table = perf.calibration_drift(world, p)
    onset = table.attrs["onset"]
    assert onset is not None and 7 <= onset <= 11  # the pattern ramps in from month 7 over 3 months
    detected = perf.detection_month(world, p)
    assert detected is not None and detected >= onset
    quiet_world, quiet_p = _world(False)
    assert perf.calibration_drift(quiet_world, quiet_p).attrs["onset"] is None
    assert perf.detection_month(quiet_world, quiet_p) is None
    with pytest.raises(MonitorInputError, match="empty"):
        perf.calibration_drift(world.iloc[:0], p[:0])
    with pytest.raises(MonitorInputError, match="missing.*label_col="):
        perf.calibration_drift(world.drop(columns="label"), p)


def test_input_drift_uses_monitor_and_follows_the_switch():
    from lifecycle_lab.monitoring import drift as monitor

    num, cat = tx.FEATURES["fraud"]["numerical"], tx.FEATURES["fraud"]["categorical"]
    on = tx.simulate("fraud", months=18, n_per_month=3000, seed=1, concept_drift=False)
    table = perf.input_drift(on, num, cat)
    row = table[(table.month == 18) & (table.feature == "amount")].iloc[0]
    ref, cur = on[on.month == 0].amount, on[on.month == 18].amount
    assert row.score == pytest.approx(monitor.psi(ref.to_numpy(), cur.to_numpy()))
    onsets = perf.drift_onset(table)
    assert onsets["channel"]["first_month"] is not None and onsets["device"]["first_month"] is not None
    # amount moved a little: KS calls it significant (large samples), the PSI says it is small
    assert row.ks_pvalue < 1e-3 and not row.drifted
    off = tx.simulate("fraud", months=18, n_per_month=3000, seed=1, concept_drift=False, data_drift=False)
    assert not perf.input_drift(off, num, cat).drifted.any()
    with pytest.raises(MonitorInputError, match="not a column"):
        perf.input_drift(on, ["nope"], [])
