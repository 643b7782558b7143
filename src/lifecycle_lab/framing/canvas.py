"""The ML Canvas (Louis Dorard) and the question before it: is ML the right tool, or would rules do?

Why a canvas: it makes a team write down the prediction, the decision it drives, how its impact is
simulated and how it is monitored before any data is touched; an empty box is a question nobody has
answered. Why "would rules do?": a model is a system to feed, validate, monitor and retire; when a few known,
stable conditions decide the case, a rule written with the domain expert is cheaper, explainable and enough.
The verdict here is computed from measured value on the same cases, not asserted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from lifecycle_lab.base.errors import LifecycleLabError

BOXES = ("value_proposition", "prediction_task", "decisions", "impact_simulation", "making_predictions",
         "data_collection", "data_sources", "features", "building_models", "live_monitoring")
"""The ten boxes of the ML Canvas, in the order a team fills them (value first, monitoring last)."""

QUESTIONS = {
    "value_proposition": "Who is the end user, what do they gain, which workflow changes?",
    "prediction_task": "What is predicted (the output and its type), for which entity, at what time?",
    "decisions": "How is a prediction turned into a decision, and what does each decision cost when wrong?",
    "impact_simulation": "Before deployment: which cost / value numbers and which data estimate the impact?",
    "making_predictions": "When and how often are predictions made (real time, batch), with what latency?",
    "data_collection": "How are new labels collected after deployment (and with what delay)?",
    "data_sources": "Which tables or systems hold the inputs and the labels?",
    "features": "Which inputs, available at prediction time, describe the entity?",
    "building_models": "How many models, how often retrained, with what budget for training?",
    "live_monitoring": "Which metrics (model and business) say in production that it works?",
}


class CanvasError(LifecycleLabError, ValueError):
    """An ML Canvas is incomplete or a rules-vs-ML comparison is given inconsistent inputs."""


@dataclass(frozen=True)
class MLCanvas:
    """A filled ML Canvas: every box a sentence or more."""

    title: str
    value_proposition: str
    prediction_task: str
    decisions: str
    impact_simulation: str
    making_predictions: str
    data_collection: str
    data_sources: str
    features: str
    building_models: str
    live_monitoring: str

    def __post_init__(self):
        empty = [b for b in ("title",) + BOXES if not isinstance(getattr(self, b), str)
                 or len(getattr(self, b).split()) < (1 if b == "title" else 3)]
        if empty:
            raise CanvasError(f"ML Canvas {self.title!r}: box(es) {empty} empty or under three words; answer "
                              f"{[QUESTIONS[b] for b in empty if b in QUESTIONS][:2]}")

    def to_markdown(self) -> str:
        lines = [f"# ML Canvas: {self.title}", "", "| box | answer |", "|---|---|"]
        lines += [f"| {b.replace('_', ' ')} | {getattr(self, b)} |" for b in BOXES]
        return "\n".join(lines)


def canvas_from_dict(data: dict) -> MLCanvas:
    """An MLCanvas from a dict with `title` and the ten BOXES; unknown or missing boxes are named."""
    if not isinstance(data, dict):
        raise CanvasError(f"a canvas is a dict with 'title' and {list(BOXES)}, got {type(data).__name__}")
    missing = [b for b in ("title",) + BOXES if b not in data]
    unknown = sorted(set(data) - set(("title",) + BOXES))
    if missing or unknown:
        raise CanvasError(f"canvas: missing boxes {missing}, unknown boxes {unknown}")
    return MLCanvas(**data)


@dataclass(frozen=True)
class RulesOrML:
    """The comparison behind the verdict, per year: value of each approach on the same cases, running costs."""

    value_rules: float
    value_ml: float
    cost_rules: float
    cost_ml: float
    verdict: str
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def rules_or_ml(*, value_rules: float, value_ml: float, cost_rules: float, cost_ml: float,
                min_gain_share: float = 0.10) -> RulesOrML:
    """'rules' unless the model's net value (value - running cost, per year) beats the rules' by more than
    `min_gain_share` of the rules' net value (a margin for the model's extra risk and upkeep); else 'ML'."""
    for name, v in (("value_rules", value_rules), ("value_ml", value_ml), ("cost_rules", cost_rules),
                    ("cost_ml", cost_ml), ("min_gain_share", min_gain_share)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            raise CanvasError(f"{name}={v!r} must be a number")
    if cost_rules < 0 or cost_ml < 0 or min_gain_share < 0:
        raise CanvasError("costs and min_gain_share must be >= 0")
    net_rules, net_ml = value_rules - cost_rules, value_ml - cost_ml
    gain = net_ml - net_rules
    needed = min_gain_share * abs(net_rules)
    if gain > needed:
        return RulesOrML(value_rules, value_ml, cost_rules, cost_ml, "ML",
                         f"the model nets {gain:,.0f} a year more than the rules (more than the "
                         f"{min_gain_share:.0%} margin, {needed:,.0f})")
    how = f"{gain:,.0f} a year more than" if gain >= 0 else f"{-gain:,.0f} a year less than"
    return RulesOrML(value_rules, value_ml, cost_rules, cost_ml, "rules",
                     f"the model nets {how} the rules, short of the {min_gain_share:.0%} margin ({needed:,.0f}) it "
                     f"must beat: the rules do, and cost less to run, explain and govern")
