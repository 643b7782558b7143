"""Exact linear SHAP against SHAP computed by its definition through the model's decision_function."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle_lab.evaluation import explain
from lifecycle_lab.projects.p03_governance.exercises import shap_by_definition
from lifecycle_lab.projects.p03_governance import world as tx


@pytest.fixture(scope="module")
def credit():
    world = tx.simulate("credit", months=12, n_per_month=600, seed=5)
    X = tx.features("credit")
    train = world[world.month == 0]
    models = {kind: tx.build_model("credit", kind).fit(train[X], train.label) for kind in ("legacy", "replacement")}
    return world, X, train, models


@pytest.mark.parametrize("kind", ["legacy", "replacement"])
def test_linear_shap_equals_shap_by_definition(credit, kind):
    world, X, train, models = credit
    model = models[kind]
    rows = world[world.month == 12][X].head(5)
    background = train[X].head(400)
    expl = explain.linear_shap(model, rows, background)
    assert expl.check_additivity() < 1e-9
    # base value = mean log-odds over the background (a linear model in transformed space)
    assert expl.base_value == pytest.approx(float(np.mean(model.decision_function(background))), abs=1e-9)
    for idx, row in rows.iterrows():
        oracle = shap_by_definition(model, row, background)
        for col in X:
            assert expl.values.loc[idx, col] == pytest.approx(oracle[col], abs=1e-8)


def test_reason_codes_are_the_largest_positive_contributions(credit):
    world, X, train, models = credit
    model = models["replacement"]
    rows = world[world.month == 12][X]
    expl = explain.linear_shap(model, rows, train[X])
    worst = rows.index[int(np.argmax(expl.output))]
    reasons = explain.reason_codes(expl, worst, background=train[X])
    assert 1 <= len(reasons) <= 4
    contributions = [r["contribution"] for r in reasons]
    assert all(c > 0 for c in contributions) and contributions == sorted(contributions, reverse=True)
    phi = expl.values.loc[worst]
    assert [r["feature"] for r in reasons] == list(phi[phi > 0].sort_values(ascending=False).index[:4])
    assert all(r["statement"] for r in reasons)
    medians = explain.typical_values(train[X])
    assert medians["debt_to_income"] == pytest.approx(train["debt_to_income"].median()) and "purpose" not in medians
    assert explain.reason_codes(expl, worst, medians=medians) == reasons  # precomputed medians: same reasons
    for r in reasons:  # numeric statements follow the side of the median the applicant is on
        if r["feature"] in medians and r["feature"] in explain.REASON_TEXT:
            above, below = explain.REASON_TEXT[r["feature"]]
            assert r["statement"] == (above if r["value"] > medians[r["feature"]] else below)
    with pytest.raises(explain.ExplanationError, match="at most|between 1 and 4"):
        explain.reason_codes(expl, worst, max_reasons=5)
    with pytest.raises(explain.ExplanationError, match="not among"):
        explain.reason_codes(expl, "no-such-row")


def test_global_importance_finds_signal_and_ignores_noise():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"signal": rng.normal(size=3000), "noise": rng.normal(size=3000)})
    y = (rng.random(3000) < 1 / (1 + np.exp(-2 * X.signal))).astype(int)
    pipe = Pipeline([("pre", ColumnTransformer([("num", StandardScaler(), ["signal", "noise"])])),
                     ("model", LogisticRegression())]).fit(X, y)
    table = explain.global_importance(pipe, X, y, n_repeats=3, seed=0)
    assert table.feature.iloc[0] == "signal"
    assert table.set_index("feature").loc["signal", "importance_mean"] > 0.2
    assert abs(table.set_index("feature").loc["noise", "importance_mean"]) < 0.01


def test_refuses_models_it_cannot_explain_exactly(credit):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline

    world, X, train, models = credit
    pre = models["legacy"].steps[0][1]
    forest = Pipeline([("pre", pre), ("model", RandomForestClassifier(n_estimators=2))])
    with pytest.raises(explain.ExplanationError, match="LogisticRegression"):
        explain.linear_shap(forest, train[X].head(3), train[X])
    unfitted = tx.build_model("credit")
    with pytest.raises(Exception, match="fit"):
        explain.linear_shap(unfitted, train[X].head(3), train[X])
    with pytest.raises(explain.ExplanationError, match="background"):
        explain.linear_shap(models["legacy"], train[X].head(3), train[X].head(3))
