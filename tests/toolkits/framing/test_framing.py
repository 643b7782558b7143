"""Framing toolkit: ICE is the product, the ranking flips exactly where flip_confidence says (the notebook's
claim), value vs effort boxes, OKR validation, the ML Canvas and the rules-or-ML verdict."""

import pytest

from lifecycle_lab.framing import prioritise as pr
from lifecycle_lab.framing.canvas import BOXES, CanvasError, MLCanvas, canvas_from_dict, rules_or_ml
from lifecycle_lab.projects.p06_platform import platform, world


@pytest.fixture
def backlog():
    return world.backlog()


def test_ice_is_the_product_and_ranks_best_first(backlog):
    ranked = pr.rank_ice(backlog)
    assert list(ranked.ice) == sorted((r.impact * r.confidence * r.ease for r in backlog.itertuples()), reverse=True)
    assert ranked.feature.iloc[0] == "smart escalation" and ranked["rank"].tolist() == list(range(1, 9))


def test_the_ranking_flips_where_flip_confidence_says(backlog):
    ranked = pr.rank_ice(backlog)
    top, runner = ranked.feature.iloc[0], ranked.feature.iloc[1]
    c_star = pr.flip_confidence(backlog, runner, top)
    i = backlog.index[backlog.feature == runner][0]
    below, above = backlog.copy(), backlog.copy()
    below.loc[i, "confidence"] = c_star - 0.01
    above.loc[i, "confidence"] = c_star + 0.01
    assert pr.rank_ice(below).feature.iloc[0] == top
    assert pr.rank_ice(above).feature.iloc[0] == runner
    # the notebook's claim: one more point of confidence puts the runner-up first
    assert backlog.loc[i, "confidence"] < c_star < backlog.loc[i, "confidence"] + 1
    sens = pr.confidence_sensitivity(backlog, deltas=[1])
    assert sens.set_index("feature").loc[runner, "top_changes"]
    assert sens.set_index("feature").loc[runner, "new_top"] == runner


def test_value_effort_boxes(backlog):
    assert pr.quadrant(10, 1, 5, 5) == "quick win" and pr.quadrant(10, 9, 5, 5) == "big bet"
    assert pr.quadrant(1, 1, 5, 5) == "fill-in" and pr.quadrant(1, 9, 5, 5) == "money pit"
    matrix = pr.value_effort(backlog)
    assert matrix.quadrant.iloc[0] == "quick win"
    cmp = pr.compare_rankings(pr.rank_ice(backlog), matrix)
    assert "smart escalation" in cmp["only_ice"]  # ICE's favourite is a fill-in by value


def test_the_backlog_is_validated(backlog):
    pr.validate_backlog(backlog, world.OKRS)
    bad = backlog.copy()
    bad.loc[0, "okr"] = "O9-moon"
    with pytest.raises(pr.PriorityError, match="O9-moon"):
        pr.validate_backlog(bad, world.OKRS)
    bad = backlog.copy()
    bad.loc[1, "confidence"] = 11
    with pytest.raises(pr.PriorityError, match="confidence"):
        pr.validate_backlog(bad, world.OKRS)
    cover = pr.okr_coverage(backlog, world.OKRS).set_index("okr")
    assert cover["items"].sum() == len(backlog) and (cover["items"] > 0).all()


def test_rules_or_ml_and_the_canvas():
    assert rules_or_ml(value_rules=100, value_ml=104, cost_rules=0, cost_ml=0).verdict == "rules"
    assert rules_or_ml(value_rules=100, value_ml=200, cost_rules=0, cost_ml=50).verdict == "ML"
    assert rules_or_ml(value_rules=100, value_ml=200, cost_rules=0, cost_ml=95).verdict == "rules"
    with pytest.raises(CanvasError):
        rules_or_ml(value_rules=float("nan"), value_ml=1, cost_rules=0, cost_ml=0)
    good = {b: getattr(platform.CHURN_CANVAS, b) for b in ("title", *BOXES)}
    assert canvas_from_dict(good) == platform.CHURN_CANVAS
    with pytest.raises(CanvasError, match="decisions"):
        canvas_from_dict({**good, "decisions": "tbd"})
    with pytest.raises(CanvasError, match="missing"):
        canvas_from_dict({k: v for k, v in good.items() if k != "features"})
    assert isinstance(platform.CHURN_CANVAS, MLCanvas) and "| live monitoring |" in platform.CHURN_CANVAS.to_markdown()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_would_rules_do_is_measured_not_asserted(seed):
    esc = platform.framing_evidence("smart escalation", seed)
    offers = platform.framing_evidence("churn-save offers", seed)
    assert esc["verdict"] == "rules" and offers["verdict"] == "ML"
    assert offers["value_per_case_ml"] > offers["value_per_case_rules"]
