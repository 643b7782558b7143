"""The churn world: seeded, each switch does what its truth says and nothing else, the seed's story holds."""

import numpy as np
import pytest
from scipy import stats

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.monitoring import drift as monitor
from lifecycle_lab.projects.p04_churn import model as churn_model
from lifecycle_lab.projects.p04_churn.world import ChurnWorld, Scenario, ScenarioError

SEEDS = (0, 1, 2)
QUIET = dict(concept_drift=False, data_bug=False, seasonal_drift=False, label_shift=False)


def _precision(world, model, weeks):
    frame = world.weeks(*weeks)
    flag = churn_model.score(model, frame) >= churn_model.THRESHOLD
    return frame["churned"].to_numpy()[flag].mean()


@pytest.fixture(scope="module")
def champions():
    out = {}
    for seed in SEEDS:
        world = ChurnWorld(seed=seed)
        out[seed] = (world, churn_model.train(world.history()))
    return out


def test_same_seed_same_world_other_seed_other_world():
    a, b = ChurnWorld(seed=3, n_per_week=300), ChurnWorld(seed=3, n_per_week=300)
    assert a.week(5).equals(b.week(5))
    assert not ChurnWorld(seed=4, n_per_week=300).week(5).equals(a.week(5))


def test_default_story_precision_drops_about_15_percent_within_a_month_ops_flat(champions):
    for seed, (world, model) in champions.items():
        launch = world.scenario.launch_week
        before = _precision(world, model, (launch - 8, launch))
        after = _precision(world, model, (launch + 4, launch + 12))  # a month after the launch
        drop = 1 - after / before
        assert 0.08 < drop < 0.25, (seed, before, after)
        ops = world.ops()
        for col in ("latency_p95_ms", "error_rate"):
            pre, post = ops[col][ops.week < launch], ops[col][ops.week >= launch + 4]
            assert stats.ttest_ind(pre, post).pvalue > 0.01, (seed, col)  # flat: no step at the launch
        assert world.truth()[0].kind == "concept_drift" and world.truth()[0].week == launch


def test_without_the_launch_precision_holds(champions):
    for seed in SEEDS:
        world = ChurnWorld(seed=seed, concept_drift=False)
        model = champions[seed][1]  # history is identical: the switch acts from the launch week on
        assert world.history().equals(champions[seed][0].history())
        before, after = _precision(world, model, (12, 20)), _precision(world, model, (24, 32))
        assert abs(after / before - 1) < 0.08
        assert world.truth() == [] and world.active(30) == set()


def test_concept_drift_moves_p_y_given_x_not_p_x():
    for seed in SEEDS:
        on, off = ChurnWorld(seed=seed), ChurnWorld(seed=seed, concept_drift=False)
        w = on.scenario.launch_week + 6
        a, b = on.week(w), off.week(w)
        assert a[["usage_hours", "seats", "plan"]].equals(b[["usage_hours", "seats", "plan"]])
        assert not np.allclose(a["churn_probability"], b["churn_probability"])
        assert on.usage_coefficient(w) == pytest.approx(-1.1 * 0.75)


@pytest.mark.parametrize("kind,feature", [("unit", "usage_hours"), ("join", "support_tickets")])
def test_a_data_bug_changes_only_what_the_model_sees(kind, feature):
    for seed in SEEDS:
        bug = ChurnWorld(seed=seed, bug_kind=kind, **{**QUIET, "data_bug": True})
        clean = ChurnWorld(seed=seed, **QUIET)
        w = bug.scenario.bug_week
        a, b = bug.week(w), clean.week(w)
        assert a["churned"].equals(b["churned"])  # the customers behave the same
        assert a[f"true_{feature}"].equals(b[feature])
        assert bug.week(w - 1).equals(clean.week(w - 1))  # nothing before the deploy
        if kind == "unit":
            assert np.allclose(a[feature], b[feature] * 60, atol=0.1)
        else:
            zeroed = (a[feature] == 0) & (b[feature] > 0)
            assert zeroed.mean() > 0.3 and (a[feature] <= b[feature]).all()
        assert monitor.psi(clean.week(0)[feature], a[feature]) > 0.2
        assert [c.kind for c in bug.truth()] == ["data_bug"] and bug.truth()[0].feature == feature


def test_label_shift_moves_the_base_rate_and_keeps_p_x_given_y():
    for seed in SEEDS:
        world = ChurnWorld(seed=seed, **{**QUIET, "label_shift": True})
        w0 = world.scenario.label_shift_week
        pre, post = world.weeks(w0 - 6, w0), world.weeks(w0, w0 + 6)
        ratio = post["churned"].mean() / pre["churned"].mean()
        assert ratio == pytest.approx(world.scenario.label_shift_factor, rel=0.1)
        for y in (0, 1):
            a = np.log1p(pre.loc[pre.churned == y, "usage_hours"])
            b = np.log1p(post.loc[post.churned == y, "usage_hours"])
            assert stats.ks_2samp(a, b).pvalue > 0.001, (seed, y)
        assert world.calendar().empty  # a market change is not on the company's calendar


def test_seasonal_drift_moves_inputs_but_the_model_stays_calibrated(champions):
    for seed in SEEDS:
        world = ChurnWorld(seed=seed, **{**QUIET, "seasonal_drift": True})
        model = churn_model.train(world.history())
        peak = world.weeks(10, 16)  # sin(2 pi w / 52) near 1
        ref = world.history()
        assert monitor.psi(ref["usage_hours"], peak["usage_hours"]) > 0.1
        p = churn_model.score(model, peak)
        assert p.mean() == pytest.approx(peak["churned"].mean(), rel=0.1)
        assert "seasonal_drift" in world.active(13) and "seasonal_drift" not in world.active(26)


def test_labels_arrive_after_the_delay():
    world = ChurnWorld(n_per_week=300, label_delay_days=30)
    assert world.label_delay_weeks == 5
    assert (world.week(7)["label_week"] == 12).all()


@pytest.mark.parametrize("bad", [dict(n_weeks=3), dict(bug_kind="typo"), dict(launch_week=60),
                                 dict(concept_strength=-1), dict(label_shift="yes"), dict(n_per_week=10.5)])
def test_bad_scenarios_are_refused_with_the_parameter_named(bad):
    with pytest.raises(ScenarioError, match=list(bad)[0]) as err:
        ChurnWorld(**bad)
    assert isinstance(err.value, LifecycleLabError)
    with pytest.raises(ScenarioError, match="unknown"):
        Scenario().with_(typo=1)
    with pytest.raises(ScenarioError, match="week"):
        ChurnWorld(n_per_week=300).week(99)
