"""Exercises of project 06 (platform governance and roadmap), used by notebook 06_advanced_platform_governance.

Each factory derives its expected answer from the world's truth (the planted gaps), from a computation
written independently of the notebook's calls (ICE as a product, the flip point as a ratio), or from a toolkit
function tested on its own (the council queue, the NPV), so another seed gives other answers and the checks hold.
"""

from __future__ import annotations

from lifecycle_lab.exercises.core import DecisionExercise, ExerciseSet, Field
from lifecycle_lab.framing.canvas import BOXES, CanvasError, canvas_from_dict
from lifecycle_lab.governance import GovernanceError
from lifecycle_lab.governance.checker import check_portfolio
from lifecycle_lab.governance.policy import STAGES, Policy, effective_tier
from lifecycle_lab.projects.p06_platform.platform import CHURN_CANVAS

CHATBOT_GATE = {"id": "ai_disclosure", "stage": "deployment", "name": "AI interaction disclosed to users",
                "tiers": [1, 2, 3], "required_for": ["production"], "evidence": ["ai_disclosure"],
                "approvers": ["legal"], "nist": ["GOVERN", "MANAGE"], "uses": ["chatbot"]}
"""One reference answer of exercise 1 (what the notebook continues with when it is skipped)."""

EXERCISES = ExerciseSet("06_advanced_platform_governance")
"""The exercises of project 06, in order."""


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


@EXERCISES.exercise("ex1", "write the gate for a new model type")
def chatbot_gate(policy: Policy, portfolio) -> DecisionExercise:
    """Exercise 1: a gate for chatbots (AI Act Art 50(1)): validated by the policy, and finding exactly the
    one chatbot in production that has no disclosure on file."""
    chatbots = {r["name"] for r in portfolio.records if r["tags"]["use"] == "chatbot"
                and r["tags"]["stage"] == "production"}
    before = check_portfolio(policy, portfolio.records, directory=portfolio.directory, today=portfolio.today)

    def whole(value, answer):
        try:
            extended = policy.with_gate(answer)
        except GovernanceError as err:
            return f"the policy refuses the gate: {err}"
        after = check_portfolio(extended, portfolio.records, directory=portfolio.directory, today=portfolio.today)
        new = {(r.model, r.gate) for r in after.itertuples()} - {(r.model, r.gate) for r in before.itertuples()}
        found = {m for m, _ in new}
        if found != chatbots:
            return (f"with your gate the checker finds new violations on {sorted(found) or 'no model'}; a chatbot "
                    f"gate should catch {sorted(chatbots)} (the chatbot in production with no disclosure)")
        return None

    def same(want, what):
        return lambda value, answer: None if sorted(_as_list(value)) == sorted(want) else what

    def includes(item, what):
        return lambda value, answer: None if item in _as_list(value) else what

    return DecisionExercise(
        {"id": Field("a short unique id, e.g. 'ai_disclosure'", validate=whole),
         "stage": Field("the lifecycle stage the gate guards", choices=list(STAGES), expected="deployment",
                        why="the notice must exist before users meet the chatbot"),
         "name": Field("what the gate checks, in words", min_words=3),
         "tiers": Field("the tiers it binds", validate=same([1, 2, 3], "Art 50 binds every chatbot whatever its "
                                                                       "risk tier: [1, 2, 3]")),
         "required_for": Field("registry stages", validate=includes("production", "it must bind production")),
         "evidence": Field("evidence names", validate=includes("ai_disclosure", "ask for 'ai_disclosure'")),
         "approvers": Field("who signs", validate=includes("legal", "a transparency duty is signed by legal")),
         "nist": Field("NIST AI RMF functions", validate=lambda v, a: None if _as_list(v) else "name one"),
         "uses": Field("the uses it applies to", validate=same(["chatbot"], "only chatbots: ['chatbot']"))},
        hints=["Copy a gate of policy.yaml (e.g. 'launch') and change it; `uses: ['chatbot']` limits it to chatbots.",
               "The evidence is 'ai_disclosure' (defined in the extended policy); legal signs; GOVERN or MANAGE."],
        reference=dict(CHATBOT_GATE),
        solution="answer = {'id': 'ai_disclosure', 'stage': 'deployment', 'name': 'AI interaction disclosed to "
                 "users', 'tiers': [1, 2, 3], 'required_for': ['production'], 'evidence': ['ai_disclosure'], "
                 "'approvers': ['legal'], 'nist': ['GOVERN', 'MANAGE'], 'uses': ['chatbot']}")


@EXERCISES.exercise("ex2", "find the portfolio's violations")
def find_violations(portfolio, policy: Policy) -> DecisionExercise:
    """Exercise 2: every (model, gate) the registry violates, checked against the planted gaps (the world's
    truth), and which of them are critical (Tier 1, or the council gate)."""
    truth = portfolio.truth()
    tiers = {r["name"]: effective_tier(int(r["tags"]["risk_tier"]), r["tags"]["use"])[0] for r in portfolio.records}
    critical = sorted({m for m, g in truth if tiers[m] == 1 or policy.gate(g).severity == "critical"})

    def pairs(value, answer):
        got = {tuple(p) for p in value}
        if got == truth:
            return None
        return f"{len(got & truth)} of your {len(got)} pairs are violations; the registry holds {len(truth)}"

    return DecisionExercise(
        {"violations": Field("a list of (model, gate) pairs", validate=pairs),
         "critical": Field("the models with a critical violation, sorted",
                           validate=lambda v, a: None if sorted(_as_list(v)) == critical else
                           "critical = Tier 1 (the AI Act's high-risk uses included) or a gate marked critical")},
        hints=["check_portfolio(policy, registry.model_records(uri), ...) returns the table; take model and gate.",
               "severity comes from the model's effective tier; the council gate is always critical."],
        reference={"violations": sorted(truth), "critical": critical},
        solution="answer = {'violations': list(zip(violations.model, violations.gate)),\n"
                 "          'critical': sorted(set(violations.model[violations.severity == 'critical']))}")


@EXERCISES.exercise("ex3", "the council's queue")
def council_queue(queue) -> DecisionExercise:
    """Exercise 3: the models that go before the council, in the order of the stated rule."""
    order = list(queue.model)
    return DecisionExercise(
        {"queue": Field("the model names in queue order", validate=lambda v, a: None if list(_as_list(v)) == order
                        else "the rule: Tier 1 first, then the earliest deadline, then the name; who is missing "
                             "or out of place?"),
         "why_first": Field("why the first model goes first, in a sentence", min_words=6,
                            mention=["tier", "deadline", "launch", "council", "high-risk", "production"])},
        hints=["council.agenda lists who must come and why; QUEUE_RULE says the order.",
               "A staging model with a launch date owes the council gate before production."],
        reference={"queue": order, "why_first": "the rule: lowest tier number first, then the earliest deadline"},
        solution="answer = {'queue': list(queue.model), 'why_first': 'it is Tier 1 with the earliest deadline'}")


@EXERCISES.exercise("ex4", "complete an ML Canvas")
def ml_canvas(evidence: dict) -> DecisionExercise:
    """Exercise 4: the ML Canvas of the churn-save offers, consistent with the scenario, and the verdict of
    'would rules do?' that the measured values give."""
    def valid(value, answer):
        try:
            canvas_from_dict({k: v for k, v in answer.items() if k != "verdict"})
        except (CanvasError, TypeError) as err:
            return str(err)
        return None

    fields = {"title": Field("the feature's name", validate=valid)}
    fields.update({b: Field(f"the '{b}' box", min_words=3) for b in BOXES})
    fields["prediction_task"] = Field("what is predicted", min_words=3, mention=["churn", "cancel", "leave"])
    fields["decisions"] = Field("how a prediction becomes a decision", min_words=3, mention=["offer"])
    fields["live_monitoring"] = Field("production metrics", min_words=3,
                                      mention=["precision", "save rate", "churn rate", "PSI", "drift"])
    fields["verdict"] = Field("'ML' or 'rules'", choices=["ML", "rules"], expected=evidence["verdict"],
                              why="compare the net values of framing_evidence: the rule is 'tenure < 6 months'")
    return DecisionExercise(
        fields, hints=["The ten boxes are framing.canvas.BOXES; platform.CHURN_CANVAS is one answer.",
                       "The verdict is in framing_evidence('churn-save offers')['verdict']."],
        reference={**{b: getattr(CHURN_CANVAS, b) for b in ("title", *BOXES)}, "verdict": evidence["verdict"]},
        solution="answer = {**{b: getattr(platform.CHURN_CANVAS, b) for b in ('title', *canvas.BOXES)},\n"
                 "          'verdict': offers['verdict']}")


@EXERCISES.exercise("ex5", "rank the backlog by ICE, and what value vs effort changes")
def rank_backlog(backlog, confidence_delta: int) -> DecisionExercise:
    """Exercise 5: the ICE top three (Impact x Confidence x Ease, computed here as a plain product), the first
    item by value vs effort, and the confidence the runner-up needs to overtake the top."""
    scores = sorted(((r.impact * r.confidence * r.ease, r.feature) for r in backlog.itertuples()),
                    key=lambda t: (-t[0], t[1]))
    top3 = [f for _, f in scores[:3]]
    runner = {r.feature: r for r in backlog.itertuples()}[scores[1][1]]
    flip = scores[0][0] / (runner.impact * runner.ease)
    v_cut, e_cut = backlog.value.median(), backlog.effort.median()
    wins = [r for r in backlog.itertuples() if r.value > v_cut and r.effort <= e_cut]
    first = max(wins, key=lambda r: r.value / r.effort).feature if wins else None
    return DecisionExercise(
        {"ice_top3": Field("the three highest ICE scores, best first",
                           validate=lambda v, a: None if list(_as_list(v)) == top3 else "ICE = I x C x E"),
         "value_effort_first": Field("the quick win with the most value per effort", expected=first,
                                     why="value above the median, effort at or below it, then value / effort"),
         "flip_confidence": Field("the runner-up's confidence at which its ICE equals the top's", expected=flip,
                                  tol=0.05, why="C* = ICE_top / (I_runner x E_runner)")},
        hints=["prioritise.rank_ice and prioritise.value_effort; flip_confidence(backlog, runner_up, top).",
               f"Adding {confidence_delta} point(s) to the runner-up's confidence: does it pass the flip point?"],
        reference={"ice_top3": top3, "value_effort_first": first, "flip_confidence": flip},
        solution="answer = {'ice_top3': list(ranked.feature[:3]), 'value_effort_first': matrix.feature.iloc[0],\n"
                 "          'flip_confidence': prioritise.flip_confidence(backlog, ranked.feature[1], "
                 "ranked.feature[0])}")


@EXERCISES.exercise("ex6", "retire or retrain")
def retire_or_retrain(table, model: str) -> DecisionExercise:
    """Exercise 6: the decision for one ageing model by NPV (retire, retrain, or keep: status_quo) and its NPV."""
    best = table.sort_values("npv", ascending=False).iloc[0]
    decision = str(best.option) if best.npv > 0 else "status_quo"
    npv = float(best.npv) if decision != "status_quo" else 0.0
    return DecisionExercise(
        {"decision": Field(f"for {model}: 'retrain', 'retire' or 'status_quo'",
                           choices=["retrain", "retire", "status_quo"], expected=decision,
                           why="the option with the highest positive NPV against keeping the model"),
         "npv": Field("its NPV in EUR (0 for status_quo)", expected=npv, tol=max(1.0, abs(npv) * 0.01),
                      why="read the npv column of the table"),
         "defence": Field("why, in a sentence or two", min_words=8, justifies="decision",
                          mention=["NPV", "running", "error", "cost", "upfront", "drift"])},
        hints=["platform.retire_or_retrain gives the table sorted by NPV.",
               "Retire wins when the model's running cost is larger than the errors it saves over the rule."],
        reference={"decision": decision, "npv": npv, "defence": f"{decision} has the highest NPV of the options"},
        solution="answer = {'decision': rec, 'npv': float(table.npv.iloc[0]),\n"
                 "          'defence': f'{rec} has the highest NPV: ...'}")

