"""The graduation-gate review of the recommender, step by step, on the simulated world.

Why one class (`RecsysReview`): the notebook walks through the steps one at a time and the tests and
benchmarks run them all (`recsys_review`); both go through the same code, so what the notebook shows is
what the tests assert. Each step stores its result in `review.parts` and runs the steps it needs first.

Steps: offline evaluation -> experiment plan -> A/B test -> segment audit (`audit`) -> drift (`drift`) -> load
test (also the shadow stage's mirrored traffic) -> cost -> staged rollout -> rollback rehearsal -> serving-skew
check -> evidence -> checklist -> gate -> memo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle_lab.deployment import loadtest, rollout
from lifecycle_lab.deployment.rollout import Stage
from lifecycle_lab.evaluation import experiment, ranking
from lifecycle_lab.gates.checklist import CheckItem
from lifecycle_lab.gates.criteria import Criteria
from lifecycle_lab.gates.decision import PASS, Evidence, GateResult, evaluate_gate
from lifecycle_lab.gates.memo import render_memo
from lifecycle_lab.projects.p02_gate.audit import segment_audit
from lifecycle_lab.projects.p02_gate.checklist import review_checklist
from lifecycle_lab.projects.p02_gate.criteria import default_criteria, validate
from lifecycle_lab.projects.p02_gate.drift_review import drift_evidence
from lifecycle_lab.projects.p02_gate.settings import ReviewSettings
from lifecycle_lab.projects.p02_gate.world import RecsysWorld, cost_per_1k

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _recsys_plan():
    return (Stage("shadow", 0.0, 2, guarded=False),
            Stage("dogfood", 0.002, 2, guarded=False),  # staff: qualitative feedback, too few users to judge CTR
            Stage("canary 1%", 0.01, 4),
            Stage("ramp 20%", 0.2, 2), Stage("ramp 40%", 0.4, 2), Stage("ramp 60%", 0.6, 2),
            Stage("ramp 80%", 0.8, 2),
            Stage("full", 1.0, 1))


def offline_evaluation(world, settings: ReviewSettings, seed: int = 0) -> dict:
    """Ranking metrics at 10 with bootstrap intervals on held-out logged clicks, and the paired lift."""

    users = world.users(settings.offline_users, "train", seed=seed)
    rel = world.logged_test_set(users, seed=seed)
    ranked = {"champion": world.recommend(users, "champion", 10),
              "challenger": world.recommend(users, "challenger", 10)}
    table = ranking.metric_table(ranked, rel, 10, n_boot=settings.n_boot, seed=seed)
    lift = ranking.paired_lift_ci(ranking.recall_at_k(ranked["champion"], rel, 10),
                                  ranking.recall_at_k(ranked["challenger"], rel, 10), n_boot=settings.n_boot,
                                  seed=seed)
    return {"table": table, "recall_lift": lift, "relevance": rel, "rankings": ranked}


def champion_baseline(world, n: int = 20_000, seed: int = 0) -> float:
    """The champion's CTR in the logs (training period): the baseline the experiment is planned on."""
    return float(world.serve(world.users(n, "train", seed=50_000 + seed), "champion", seed).click.mean())


def plan_experiment(settings: ReviewSettings) -> dict:
    """Users per arm for the planned lift (exact and 16 s^2/d^2), and days at a 1% canary or a 50/50 split."""

    n = experiment.sample_size_per_arm(settings.baseline_ctr, settings.planned_lift)
    return {"n_per_arm": n, "rule_of_thumb": experiment.rule_of_thumb_per_arm(settings.baseline_ctr,
                                                                              settings.planned_lift),
            "days_at_1pct": experiment.duration_days(n, settings.daily_users, 0.01),
            "days_at_50pct": experiment.duration_days(n, settings.daily_users, 0.5)}


def read_ab(ab: "pd.DataFrame") -> dict:
    """SRM first, then the CTR and session-minute results with intervals."""

    counts = ab.groupby("model").size()
    srm = experiment.srm_check([int(counts.get("champion", 0)), int(counts.get("challenger", 0))])
    a, b = ab[ab.model == "champion"], ab[ab.model == "challenger"]
    ctr = experiment.two_proportion_test(int(a.click.sum()), len(a), int(b.click.sum()), len(b))
    minutes = experiment.mean_difference(a.session_minutes, b.session_minutes)
    return {"srm": srm, "ctr": ctr, "minutes": minutes}


def load_test_evidence(world, settings: ReviewSettings, seed: int = 0) -> dict:
    """A real load test of both model services at the target rate (`loadtest.run_load_test`): each request
    awaits its remote call (a real sleep) and is scored on a worker thread; `load_requests` measured
    requests per model after `load_warmup`. Returns {"results": {model: LoadTestResult}}."""
    from concurrent.futures import ThreadPoolExecutor


    requests = world.requests(settings.load_requests + settings.load_warmup, seed=seed)
    pools = {m: ThreadPoolExecutor(settings.workers, thread_name_prefix=m) for m in ("champion", "challenger")}
    try:
        results = loadtest.run_load_test({m: world.handler(m, pool) for m, pool in pools.items()}, requests,
                                         settings.target_rps, warmup=settings.load_warmup)
    finally:
        for pool in pools.values():
            pool.shutdown()
    return {"results": results}


def cost_evidence(settings: ReviewSettings) -> dict:
    """Cost per 1,000 requests of each model at the target rate, from the stated instance prices."""

    prices = {"champion": tuple(settings.champion_usd_per_h), "challenger": tuple(settings.challenger_usd_per_h)}
    return {"prices": prices, "target_rps": settings.target_rps,
            "cost": {m: cost_per_1k(p, settings.target_rps) for m, p in prices.items()}}


def rollout_evidence(world, settings: ReviewSettings, seed: int = 0, shadow: dict | None = None,
                     p99_budget_ms: float | None = None) -> dict:
    """The staged rollout on the simulator with the agreed trigger; inconclusive stages pause.

    `shadow`: what the shadow stage measured under mirrored load ({"p99_ms", "errors"}, from the load test);
    with `p99_budget_ms`, a shadow p99 at or above the budget (or any error) pauses the rollout before any
    user is exposed.
    """

    trigger = rollout.RollbackTrigger(settings.trigger_drop, settings.trigger_min_sample, settings.trigger_consecutive)

    def health(stage, obs) -> str | None:
        if stage.weight > 0 or p99_budget_ms is None or "p99_ms" not in obs:
            return None
        if obs.get("errors"):
            return f"{obs['errors']} errors under mirrored load"
        if obs["p99_ms"] >= p99_budget_ms:
            return f"shadow p99 ~{obs['p99_ms']:.0f} ms under mirrored load is not below the {p99_budget_ms:g} ms budget"
        return None

    observer = world.rollout_observer(settings.window_users, settings.window_cap, seed, shadow=shadow)
    plan = _recsys_plan()
    log = rollout.run_rollout(plan, observer, trigger, extend_inconclusive=settings.extend_inconclusive,
                              health_check=health)
    return {"log": log, "trigger": trigger, "plan": plan}


def rehearse_rollback(world, settings: ReviewSettings, seed: int = 0):
    """Replay the rollout with the live-path bug switched on for every request (a staging rehearsal, no
    shadow health check): the rollback path is proven only if the trigger fires and the challenger's weight
    goes back to 0 (checklist: rollback rehearsed, Infra 7)."""

    broken = RecsysWorld(replace(world.config, inject_regression=True, regression_share=1.0))
    return rollout_evidence(broken, settings, seed)["log"]


def collect_evidence(parts: dict) -> dict[str, Evidence]:
    """Map the review's parts onto the gate's metrics (the challenger's side where a model is meant)."""
    ev: dict[str, Evidence] = {}
    if "load_test" in parts:
        lt = parts["load_test"]
        r = lt["results"]["challenger"]
        ev["p99_latency_ms"] = Evidence(r.percentile(99), r.p99_ci(),
                                        f"load test: {r.n} requests at {r.target_rps:g}/s after {r.warmup} warm-up",
                                        measured=True)
    if "cost" in parts:
        c = parts["cost"]
        prices = c["prices"]["challenger"]
        ev["cost_per_1k_usd"] = Evidence(round(c["cost"]["challenger"], 6), None,
                                         f"({' + '.join(f'{p:g}' for p in prices)}) $/h / "
                                         f"({c['target_rps']:g} x 3600) x 1000")
    if "drift" in parts:
        d = parts["drift"]
        top = d["table"]["psi"].idxmax()
        ev["max_feature_psi"] = Evidence(float(d["table"].loc[top, "psi"]), None,
                                         f"PSI of '{top}', training data vs current traffic")
        mix = d["mix_adjusted_lift"]
        ev["concept_drift_detected"] = Evidence(d["concept_drift"], None,
                                                f"mix-adjusted lift {mix['train']:+.1%} then, {mix['current']:+.1%} now")
    if "rollout" in parts:
        log = parts["rollout"]["log"]
        ev["canary_rolled_back"] = Evidence(bool(log.rolled_back), None, log.reason)
    if parts.get("skew") is not None:
        ev["serving_skew_share"] = Evidence(round(1 - parts["skew"], 6), None, "served impressions vs offline model")
    if "ab" in parts:
        ab = parts["ab"]
        ctr, minutes = ab["ctr"], ab["minutes"]
        ev["ctr_relative_lift"] = Evidence(ctr.relative_lift, ctr.relative_ci, "A/B test, delta-method interval")
        ev["session_minutes_relative_change"] = Evidence(minutes["relative"], minutes["relative_ci"], "A/B test")
        ev["srm_pvalue"] = Evidence(ab["srm"].pvalue, None, "chi-square on assignment counts")
    if "audit" in parts:
        audit = parts["audit"]
        lifts = audit["lifts"]
        worst = lifts["relative_lift"].idxmin()
        ev["worst_segment_relative_lift"] = Evidence(float(lifts.loc[worst, "relative_lift"]),
                                                     (float(lifts.loc[worst, "lower"]), float(lifts.loc[worst, "upper"])),
                                                     f"segment '{worst}'")
        ev["segment_ctr_ratio"] = Evidence(float(audit["tables"]["challenger"].loc["ratio", "ctr"]), audit["ratio_ci"],
                                           "fairlearn MetricFrame ratio(), bootstrap interval")
    return ev


def follow_ups(parts: dict, result: GateResult) -> list[str]:
    """What the memo asks for next, from the evidence (drift remediation, the losing segment, a pause)."""
    out = []
    drift = parts.get("drift")
    if drift and drift["concept_drift"]:
        out.append("concept drift: retrain on clicks from current traffic, shadow the retrained model, then "
                   "A/B it again (the offline evaluation describes tastes that have moved)")
    elif drift and drift["inputs_drifted"]:
        out.append("data drift: re-weight the offline evaluation to current traffic's mix and keep the drift "
                   "monitor on these features (the relation holds, the population moved)")
    if result.status("worst_segment_relative_lift") not in (None, PASS) and "audit" in parts:
        worst = parts["audit"]["lifts"]["relative_lift"].idxmin()
        out.append(f"segment '{worst}': find why it loses before widening (its history join), or serve it "
                   f"the champion until fixed")
    log = (parts.get("rollout") or {}).get("log")
    if log is not None and log.paused:
        out.append(f"rollout {log.reason}")
    return out


@dataclass
class Review:
    """Everything a review produced: the parts, the evidence and the gate result."""

    parts: dict
    evidence: dict
    result: GateResult


class RecsysReview:
    """One review of the recommender on a `RecsysWorld`, step by step (see the module docstring).

    On creation it measures the champion's CTR in the logs and plans with it (`settings.baseline_ctr`).
    Each method runs its step once (later calls return the stored result) and the steps it depends on.
    """

    def __init__(self, world, settings: ReviewSettings | None = None, criteria: Criteria | Any = None,
                 output_dir: str | Path | None = None, seed: int = 0):
        self.world = world
        self.seed = seed
        self.criteria = criteria if isinstance(criteria, Criteria) else validate(criteria or default_criteria())
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.parts: dict = {}
        baseline = champion_baseline(world, seed=seed)
        self.parts["baseline_ctr"] = baseline
        self.settings = replace(settings or ReviewSettings(), baseline_ctr=round(baseline, 4))

    def _once(self, name: str, fn):
        if name not in self.parts:
            self.parts[name] = fn()
        return self.parts[name]

    @property
    def drift_report_path(self) -> Path | None:
        return self.output_dir / "drift_report.html" if self.output_dir is not None else None

    def offline(self) -> dict:
        return self._once("offline", lambda: offline_evaluation(self.world, self.settings, self.seed))

    def plan(self) -> dict:
        return self._once("plan", lambda: plan_experiment(self.settings))

    def ab(self) -> dict:
        """Run the A/B test with the planned users per arm; read it (SRM, CTR, session minutes)."""
        if "ab" not in self.parts:
            self.parts["ab_frame"] = self.world.ab_test(self.plan()["n_per_arm"], seed=self.seed)
            self.parts["ab"] = read_ab(self.parts["ab_frame"])
        return self.parts["ab"]

    def audit(self) -> dict:
        self.ab()
        return self._once("audit", lambda: segment_audit(self.parts["ab_frame"], self.settings.n_boot, self.seed))

    def drift(self) -> dict:
        self.ab()
        return self._once("drift", lambda: drift_evidence(self.world, self.parts["ab_frame"], self.settings,
                                                          self.drift_report_path, self.seed))

    def load_test(self) -> dict:
        return self._once("load_test", lambda: load_test_evidence(self.world, self.settings, self.seed))

    def cost(self) -> dict:
        return self._once("cost", lambda: cost_evidence(self.settings))

    def rollout(self) -> dict:
        """The staged rollout; its shadow stage uses the load test as mirrored traffic."""
        chall = self.load_test()["results"]["challenger"]
        p99 = self.criteria.get("p99_latency_ms")
        return self._once("rollout", lambda: rollout_evidence(
            self.world, self.settings, self.seed, shadow={"p99_ms": chall.percentile(99), "errors": chall.errors},
            p99_budget_ms=float(p99.threshold) if p99 is not None else None))

    def rehearsal(self):
        return self._once("rehearsal", lambda: rehearse_rollback(self.world, self.settings, self.seed))

    def skew(self) -> float | None:
        """Served impressions vs the offline model; needs live traffic, so None if the rollout exposed nobody."""
        log = self.rollout()["log"]
        exposed = any(w.get("n", 0) > 0 for w in log.windows)
        return self._once("skew", lambda: self.world.skew_check(seed=self.seed) if exposed else None)

    def run_all(self) -> None:
        for step in (self.offline, self.plan, self.ab, self.audit, self.drift, self.load_test, self.cost,
                     self.rollout, self.rehearsal, self.skew):
            step()

    def evidence(self) -> dict[str, Evidence]:
        self.run_all()
        return collect_evidence(self.parts)

    def checklist(self) -> list[CheckItem]:
        self.run_all()
        return review_checklist(self.parts, self.criteria, self.drift_report_path)

    def gate(self) -> GateResult:
        if "gate" not in self.parts:
            self.parts["evidence"] = self.evidence()
            self.parts["gate"] = evaluate_gate(self.criteria, self.parts["evidence"], self.checklist())
        return self.parts["gate"]

    def follow_ups(self) -> list[str]:
        return follow_ups(self.parts, self.gate())

    def context(self) -> str:
        """One paragraph for the memo: the two models, offline vs online lift, drift and rollout."""
        lift, ctr = self.offline()["recall_lift"], self.ab()["ctr"]
        return (f"Challenger: personalised recommender (quality {self.world.config.challenger_quality}); champion: "
                f"regional popularity, both trained on logged grid clicks. Offline recall@10 lift "
                f"{lift['lift']:+.1%}; online CTR lift {ctr.relative_lift:+.1%} (95% CI {ctr.relative_ci[0]:+.1%} "
                f"to {ctr.relative_ci[1]:+.1%}) on {self.plan()['n_per_arm']:,} users per arm. Drift verdict: "
                f"{self.drift()['kind']}. Rollout: {self.rollout()['log'].reason}.")

    def memo(self, answer: dict | None = None) -> str:
        """The decision memo (markdown); written to `output_dir/decision_memo.md` when there is one."""
        text = render_memo(self.gate(), context=self.context(), memo=answer, follow_ups=self.follow_ups())
        if self.output_dir is not None:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / "decision_memo.md").write_text(text, encoding="utf-8")
        return text

    def run(self) -> Review:
        result = self.gate()
        return Review(self.parts, self.parts["evidence"], result)


def recsys_review(config=None, settings: ReviewSettings | None = None, criteria=None, output_dir=None,
                  seed: int = 0, **knobs) -> Review:
    """Run the whole review of the recommender on the simulator and evaluate the gate.

    Why: the package-level tests assert that different worlds lead to different, correct decisions;
    the notebook walks through the same steps one at a time (`RecsysReview`).
    """

    world = RecsysWorld(config, **knobs)
    return RecsysReview(world, settings, criteria, output_dir, seed).run()
