# %% [markdown]
# # 06 · Advanced: an AI platform's lifecycle governance framework, and its roadmap
#
# **Lifecycle stages: all of them, for many models at once.** You are the head of AI products of a company whose
# platform runs a dozen models: the workbook's own (ticket router, recommender, fraud, credit, churn, sentiment) and
# a few more (a demand forecaster, a chatbot's intent classifier, a CV screener and a health-insurance pricer that
# the EU AI Act treats as high-risk). Each team ships in its own way. Your job is one process for all of them,
# strict where the risk is and light where it is not, and a roadmap that says what to build next and what to retire.
#
# 1. **The policy as data**: stage gates per lifecycle stage and risk tier, each naming its evidence and approvers,
#    validated; tiering from the risk and AI Act logic of notebook 03; mapped to NIST AI RMF and ISO/IEC 42001.
# 2. **The gate checker** over the whole MLflow registry, and a **promotion guard** on the champion alias.
# 3. **The governance council**: who sits on it, who must come before it, its queue, its decision records.
# 4. **Playbooks and templates** per stage, generated from the policy, pointing at the workbook's artefacts.
# 5. **The mandated stack** and the cost of friction: what a low-risk and a high-risk model each go through.
# 6. **The roadmap**: an ML Canvas (and "would rules do?"), ICE and value vs effort tied to OKRs, and how fragile the
#    ranking is; retire or retrain two ageing models by NPV.
#
# The logic lives in the toolkits `lifecycle_lab/governance/` (policy, checker, council) and `lifecycle_lab/framing/`
# (canvas, prioritise), the company in `lifecycle_lab/projects/p06_platform/`. Course text: chapters *Governance*
# and *Framing*.

# %% [markdown]
# ## Parameters
#
# `seed` decides the owners, the dates and which models carry the four planted gaps; `n_models` the portfolio's
# size (8-12); the business-case assumptions feed the retire-vs-retrain NPVs; `confidence_delta` is the nudge
# applied to one confidence estimate in the roadmap's sensitivity check. `fast=True` takes 10 models. The next cell
# checks every value against `lifecycle_lab/projects/p06_platform/parameters.py`.

# %% tags=["parameters"]
seed = 0                # owners, dates, and which models carry the planted gaps
fast = False            # True: a portfolio of 10 models instead of 12
output_dir = None       # where the policy, violations, council records and playbooks go (default: build/outputs/06_...)
n_models = 12           # models in the portfolio (8-12)
horizon_years = 3       # years the retire-vs-retrain NPV looks ahead
discount_rate = 0.08    # yearly discount rate of the NPV
drift_rate = 0.15       # yearly growth of an un-adapted model's error cost
confidence_delta = 1    # points added to one confidence estimate in the sensitivity check

# %%
from lifecycle_lab.projects import p06_platform as project
from lifecycle_lab.projects.p06_platform import exercises, platform, world

P = project.PARAMETERS.validate(globals())  # types, bounds, fast caps, and whether the portfolio can be built
portfolio = world.portfolio(P.seed, P.n_models)
print(f"seed={P.seed}: {len(portfolio.records)} models, {len(portfolio.directory)} staff, today = {portfolio.today}")

# %% [markdown]
# ## 1. The policy as data
#
# **Stages: all.** The policy is a YAML file (`p06_platform/policy.yaml`): the *approvers* who may sign, the kinds of
# *evidence* (each read from one registry tag: a link to a document, a date with a freshness rule, a person on the
# staff directory, a flag), and the *gates*. Each gate belongs to a lifecycle stage, binds some risk tiers, must be
# met before a model may be in some registry stages (`required_for`), and names its evidence, its approvers, the
# NIST AI RMF functions it serves and the ISO/IEC 42001 clause it implements. It is the stage-gate process of
# product development (Cooper): deliverables, criteria and a decision by named gatekeepers at each gate.

# %%
import pandas as pd
from lifecycle_lab.base import paths
from lifecycle_lab.governance import policy as pol

out = paths.output_dir(project.NOTEBOOK, P.output_dir)
policy = platform.load_policy()
pol.write_policy(policy, out / "policy.yaml")
print(f"{policy.name} v{policy.version}: {len(policy.gates)} gates, {len(policy.evidence)} kinds of evidence, "
      f"approvers {list(policy.approvers)}")
pol.gates_table(policy)[["gate", "stage", "tiers", "required_for", "evidence", "approvers"]]

# %% [markdown]
# A policy file is edited by people, so it is validated like code: a misspelt stage, an approver nobody defined,
# evidence that does not exist, a tier 0, a field the engine does not know. Each is refused with one message that
# names the gate and the field, never a traceback from deep inside a check that would otherwise pass silently.

# %%
broken = (out / "policy.yaml").read_text().replace("approvers: [council]", "approvers: [board]")
broken_yaml = (out / "policy.yaml").read_text().replace("  - id: launch", " - id: launch", 1)
for text in (broken, broken_yaml):
    try:
        pol.read_policy(text)
    except pol.PolicyError as error:
        print("refused:", error)

# %% [markdown]
# ### Tiering: the model-risk tier, raised by the AI Act
#
# Each model's team scored it with the SR 11-7-style rubric of notebook 03 (`governance.risk.tier`); the policy then
# applies the EU AI Act (`governance.regulation.ai_act_category`): a high-risk use of Annex III (recruitment 4(a),
# credit scoring 5(b), life and health insurance pricing 5(c)) makes the model Tier 1 whatever its scores. The
# CV screener's team rated it Tier 2; the AI Act does not leave them that choice.

# %%
tiers = pd.DataFrame([{"model": r["name"], "use": r["tags"]["use"], "stage": r["tags"]["stage"],
                       "risk_tier": int(r["tags"]["risk_tier"]),
                       "ai_act": pol.ai_act_category(r["tags"]["use"])["category"],
                       "effective_tier": pol.effective_tier(int(r["tags"]["risk_tier"]), r["tags"]["use"])[0]}
                      for r in portfolio.records])
tiers

# %% [markdown]
# ### The map to NIST AI RMF and ISO/IEC 42001
#
# NIST's AI Risk Management Framework 1.0 (January 2023) has four functions: **GOVERN** (policies, roles,
# accountability), **MAP** (context, intended use, impacts), **MEASURE** (assess and track the risks) and **MANAGE**
# (act on them, monitor, decommission). A function no gate serves is a hole in the policy. ISO/IEC 42001:2023
# specifies an AI *management system*: the organisational counterpart of a model-level checklist (roles in clause
# 5.3, risk and impact assessment in 6.1 and 8, monitoring in 9.1, the Annex A controls on data and the life cycle);
# each gate names the clause it helps implement, briefly, so an auditor can follow the thread.

# %%
coverage = pol.nist_coverage(policy)
print({f: len(g) for f, g in coverage.items()}, "- every function has a gate:", all(coverage.values()))
pol.gates_table(policy)[["gate", "nist", "iso42001"]]

# %% [markdown]
# ### Exercise 1: write the gate for a new model type
#
# A chatbot must tell people they are talking to an AI system (AI Act Art 50(1)), whatever its risk tier. The
# policy has no gate for it. `platform.disclosure_policy` adds the kind of evidence, `ai_disclosure` (registry tag
# `evidence.ai_disclosure`). Write the gate as a dict with exactly the fields `id`, `stage`, `name`, `tiers`,
# `required_for`, `evidence`, `approvers`, `nist`, `uses`. The check adds it to the policy (which must accept it)
# and runs the checker: the gate must find the chatbot in production that has no disclosure on file, and nothing else.

# %%
policy_plus = platform.disclosure_policy(policy)
ex1 = exercises.chatbot_gate(policy_plus, portfolio)
### BEGIN SOLUTION
answer = {"id": "ai_disclosure", "stage": "deployment", "name": "AI interaction disclosed to users",
          "tiers": [1, 2, 3], "required_for": ["production"], "evidence": ["ai_disclosure"],
          "approvers": ["legal"], "nist": ["GOVERN", "MANAGE"], "uses": ["chatbot"]}
### END SOLUTION
#> answer = None  # {"id": ..., "stage": ..., "name": ..., "tiers": [...], ...}
chatbot_gate = ex1.check(answer)

# %% [markdown]
# ## 2. The gate checker over the registry
#
# **Stages: training to retirement.** Every model is a registered model in an MLflow registry on a local SQLite
# store (a fresh temporary folder each run, never committed), with its governance record as tags: owner, purpose,
# use, risk tier, stage, last validation, last risk event, monitoring, data ethics review, council review, and links
# to its evidence. Production models carry the `champion` alias. Setting up MLflow's database is the slow step of
# this notebook (its schema migrations); the time is printed.

# %%
import tempfile
import time
from lifecycle_lab.deployment import registry

start = time.perf_counter()
registry_dir = tempfile.mkdtemp(prefix="lifecycle-lab-p06-")
uri = platform.build_registry(portfolio, registry_dir)
records = registry.model_records(uri)
print(f"{len(records)} registered models, {sum(r['latest_version'] for r in records)} versions, "
      f"{sum('champion' in r['aliases'] for r in records)} champions; built in ~{time.perf_counter() - start:.1f} s")
pd.DataFrame([{"model": r["name"], "champion": r["aliases"].get("champion"), **{k: r["tags"][k] for k in
              ("owner", "risk_tier", "stage", "last_validation", "last_risk_event", "monitoring")}} for r in records])

# %% [markdown]
# The checker applies every gate that binds a model (its effective tier, its stage, its use) to its tags: a link must
# be on file, a date must parse and be fresh (a validation older than the last risk event is stale), a person must be
# on the staff directory. The result is one table: model, gate, missing evidence, owner, severity (from the tier; the
# council gate is always critical).

# %%
from lifecycle_lab.governance import checker

violations = checker.check_portfolio(policy, records, directory=portfolio.directory, today=portfolio.today)
violations.to_csv(out / "violations.csv", index=False)
print(f"{len(violations)} violations in {violations.model.nunique()} models")
violations[["model", "gate", "missing", "owner", "tier", "severity"]]

# %% [markdown]
# ### Exercise 2: find the portfolio's violations
#
# List every `(model, gate)` pair the registry violates, and the models with a critical violation (sorted). The
# check compares them with the gaps the world planted, not with the table above.

# %%
ex2 = exercises.find_violations(portfolio, policy)
### BEGIN SOLUTION
answer = {"violations": list(zip(violations.model, violations.gate)),
          "critical": sorted(set(violations.model[violations.severity == "critical"]))}
### END SOLUTION
#> answer = None  # {"violations": [(model, gate), ...], "critical": [...]}
answer = ex2.check(answer)

# %% [markdown]
# ### The promotion guard
#
# A report finds yesterday's gaps; a guard stops tomorrow's. `checker.promote` moves a model's champion alias through
# the registry API only when every gate of production is met, and refuses otherwise with the reasons. The
# health-insurance pricer (Tier 1 under the AI Act, in staging) asks to launch: refused. Its monitors go live and the
# council approves it (section 3 writes that record), and the evidence goes into the registry: the same call then
# moves the alias.

# %%
candidate = "health-premium-pricer"
try:
    checker.promote(policy, uri, candidate, 2, directory=portfolio.directory, today=portfolio.today)
except checker.PromotionRefused as refusal:
    print(refusal)
    refused = refusal.violations  # the name `refusal` ends with the except block
    refused_gates = [v["gate"] for v in refused]
print("aliases after the refusal:", registry.model_record(uri, candidate)["aliases"])

# %% [markdown]
# ## 3. The governance council
#
# **Stage: governance.** The council is cross-functional: Product (the chair), Engineering, Legal and Ethics. It
# sees what needs it, and only that: a model a council gate binds that is heading for production (a launch review),
# a production model whose council gate is unmet (promoted around it), and any production model with a critical gap.
# Its queue follows one stated rule: effective tier first, then the deadline (a launch date, or the days the council
# gives to close a gap of that severity), then the name.

# %%
from lifecycle_lab.governance import council

print("members:", council.MEMBERS)
print(f"quorum: {council.QUORUM} members incl. Legal or Ethics; queue rule: {council.QUEUE_RULE}")
queue = council.agenda(policy, records, directory=portfolio.directory, today=portfolio.today)
queue.to_csv(out / "council_queue.csv", index=False)
queue

# %% [markdown]
# ### Exercise 3: the council's queue
#
# Which models go before the council, in what order? Give the model names in queue order, and say in a sentence why
# the first one goes first.

# %%
ex3 = exercises.council_queue(queue)
### BEGIN SOLUTION
answer = {"queue": list(queue.model),
          "why_first": f"{queue.model.iloc[0]} is Tier {queue.tier.iloc[0]} with the earliest deadline "
                       f"({queue.deadline.iloc[0]}): {queue.reason.iloc[0]}"}
### END SOLUTION
#> answer = None  # {"queue": [...], "why_first": "..."}
answer = ex3.check(answer)

# %% [markdown]
# The council meets and decides each item; every decision is a record on disk (JSON for tools, markdown for people)
# with who was present, the rationale and the conditions. The pricer's launch is approved with conditions; a model
# promoted around the council is given a deadline to present its case. Then the guard is asked again.

# %%
import shutil

present = ["Product", "Engineering", "Legal", "Ethics"]
for item in queue.itertuples():
    launch = item.reason.startswith("launch")
    council.record_decision(out / "decisions", model=item.model, present=present, date=portfolio.today,
        decision="approve with conditions" if launch else "defer",
        rationale=(f"{item.model} is Tier {item.tier}; the evidence meets every other gate, and the launch goes ahead "
                   f"under conditions" if launch else f"{item.reason}; the owner presents the missing evidence by "
                   f"{item.deadline} or the champion is rolled back"),
        conditions=["monitors live before launch (Engineering)", "bias audit after 90 days (Ethics)"] if launch else [])
shutil.copy(sorted((out / "decisions").glob("*.md"))[0], out / "decisions" / "first_decision.md")
print([(d["model"], d["decision"]) for d in council.read_decisions(out / "decisions")])

# %%
fixes = platform.launch_fixes(refused, today=portfolio.today, directory=portfolio.directory)
registry.set_model_tags(uri, candidate, fixes)  # the council's approval, monitors live (a new owner if needed)
print("evidence added:", fixes)
promoted = checker.promote(policy, uri, candidate, 2, directory=portfolio.directory, today=portfolio.today)
print("promoted:", promoted, "- aliases now", registry.model_record(uri, candidate)["aliases"])

# %% [markdown]
# ## 4. Playbooks and templates per stage
#
# **Stages: all.** A team should not have to read the policy to know what it owes: each stage gets a playbook,
# generated from the same file (so it cannot drift from what the checker enforces), that lists the gates by tier,
# who signs, the evidence and its registry tag, and where the workbook already shows what that document looks like
# (the datasheet of notebook 01, the gate memo of 02, the model card, validation report, incident report and sunset
# plan of 03, the monitoring of 04, this notebook's council records).

# %%
from IPython.display import Markdown

books = platform.write_playbooks(policy, out)
print([b.name for b in books])
Markdown((out / "playbooks" / "4_deployment.md").read_text())

# %% [markdown]
# ## 5. The mandated stack, and the cost of friction
#
# **Stages: deployment, monitoring.** The platform standardises what must be the same for the checker and the
# council to work (one registry whose tags are the inventory, monitoring every model the same way, one feature store
# so training and serving agree) and leaves the rest to the teams.

# %%
pd.DataFrame(world.STACK, columns=["component", "mandated", "the platform's standard", "what each team chooses"])

# %% [markdown]
# Governance costs time. `policy.friction` counts what a model owes before production: gates, distinct pieces of
# evidence, sign-offs and the review days the policy budgets. A Tier 3 model passes a handful of light gates; a
# Tier 1 model passes every one, the council included. A policy that asked Tier 3 for the same would teach teams to
# route around it.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt

friction = pol.friction(policy)
fig, ax = plt.subplots(figsize=(7, 3.4))
ax.bar(friction.tier.astype(str), friction.review_days, color=["tab:red", "tab:orange", "tab:green"])
for t, g, d in zip(friction.tier.astype(str), friction.gates, friction.review_days):
    ax.annotate(f"{g} gates", (t, d), ha="center", va="bottom")
ax.set(title="Friction before production, by risk tier", xlabel="effective risk tier (1 = high)",
       ylabel="review effort budgeted (person-days)")
plt.tight_layout(); plt.show()
friction

# %% [markdown]
# ## 6. The roadmap
#
# **Stage: problem framing.** Two candidate features, framed with Louis Dorard's ML Canvas (value proposition,
# prediction task, decisions, impact simulation, making predictions, data collection, data sources, features,
# building models, live monitoring) and the question before it: *is ML the right tool, or would rules do?* The
# answer is measured: the rule a domain expert would write and a small model are valued on the same simulated cases
# with the feature's gains and costs, in EUR a year, net of running costs; the model must beat the rules by a margin
# (10 %) that pays for its upkeep and governance.

# %%
escalation = platform.framing_evidence("smart escalation", P.seed)
offers = platform.framing_evidence("churn-save offers", P.seed)
pd.DataFrame([escalation, offers])[["feature", "rule", "value_rules", "cost_rules", "value_ml", "cost_ml",
                                   "verdict"]].round(0)

# %%
for evidence in (escalation, offers):
    print(f"{evidence['feature']}: {evidence['verdict']} - {evidence['reason']}")

# %% [markdown]
# ### Exercise 4: complete an ML Canvas
#
# Smart escalation is a rule: enterprise customers reporting an outage, or tickets waiting over 48 hours. Fill the
# canvas of the other one, the churn-save offers (the churn model of notebook 04 turned into a decision): a dict
# with `title`, the ten boxes of `framing.canvas.BOXES`, each a sentence, and your `verdict` ("ML" or "rules").

# %%
from lifecycle_lab.framing import canvas

ex4 = exercises.ml_canvas(offers)
### BEGIN SOLUTION
answer = {**{b: getattr(platform.CHURN_CANVAS, b) for b in ("title", *canvas.BOXES)}, "verdict": offers["verdict"]}
### END SOLUTION
#> answer = None  # {"title": ..., "value_proposition": ..., ..., "live_monitoring": ..., "verdict": ...}
answer = ex4.check(answer)
_ = (out / "ml_canvas.md").write_text(canvas.canvas_from_dict({k: v for k, v in answer.items() if k != "verdict"})
                                      .to_markdown() + "\n")

# %% [markdown]
# ### Prioritising the backlog: ICE, value vs effort, OKRs
#
# The AI backlog: each feature tied to one of the company's OKRs, with ICE scores (Impact x Confidence x Ease, each
# 1-10) and an estimate of value (kEUR a year) and effort (person-weeks). ICE ranks by a product of three guesses;
# the value-vs-effort matrix (cut at the medians) sorts quick wins, big bets, fill-ins and money pits.

# %%
from lifecycle_lab.framing import prioritise

backlog = prioritise.validate_backlog(world.backlog(), world.OKRS)
ranked, matrix = prioritise.rank_ice(backlog), prioritise.value_effort(backlog)
roadmap = ranked.merge(matrix[["feature", "quadrant", "value_per_effort"]], on="feature")
roadmap.round(2).to_csv(out / "roadmap.csv", index=False)
print(prioritise.compare_rankings(ranked, matrix))
roadmap[["rank", "feature", "okr", "impact", "confidence", "ease", "ice", "quadrant", "value_per_effort"]].round(1)

# %%
fig, ax = plt.subplots(figsize=(8, 4.4))
ax.scatter(backlog.effort, backlog.value, s=backlog.impact * backlog.confidence * backlog.ease / 2, alpha=0.5)
for r in backlog.itertuples():
    ax.annotate(r.feature, (r.effort, r.value), fontsize=8)
ax.axvline(backlog.effort.median(), ls=":", color="grey"); ax.axhline(backlog.value.median(), ls=":", color="grey")
ax.set(title="Value vs effort (bubble size: ICE score; dotted: the medians)", xlabel="effort (person-weeks)",
       ylabel="value (kEUR a year)")
plt.tight_layout(); plt.show()
prioritise.okr_coverage(backlog, world.OKRS)

# %% [markdown]
# **How fragile is the ranking?** Confidence is the softest input. `flip_confidence` gives the confidence at which
# the runner-up's ICE equals the top item's; the sensitivity table moves one item's confidence by
# `confidence_delta` points and reports whether the top changes.

# %%
top, runner = ranked.feature.iloc[0], ranked.feature.iloc[1]
flip = prioritise.flip_confidence(backlog, runner, top)
sens = prioritise.confidence_sensitivity(backlog, deltas=[-P.confidence_delta, P.confidence_delta])
runner_conf = float(backlog.set_index("feature").loc[runner, "confidence"])
print(f"top: {top}; runner-up: {runner} at confidence {runner_conf:g}; it overtakes above {flip:.2f}")
print(f"+{P.confidence_delta} on {runner}: new top =",
      sens[(sens.feature == runner) & (sens.delta > 0)].new_top.iloc[0])
sens[sens.top_changes]

# %% [markdown]
# ### Exercise 5: rank the backlog by ICE, and what value vs effort changes
#
# Give the ICE top three (best first), the quick win with the most value per week of effort, and the confidence at
# which the runner-up's ICE equals the top's.

# %%
ex5 = exercises.rank_backlog(backlog, P.confidence_delta)
### BEGIN SOLUTION
answer = {"ice_top3": list(ranked.feature[:3]), "value_effort_first": matrix.feature.iloc[0],
          "flip_confidence": prioritise.flip_confidence(backlog, ranked.feature[1], ranked.feature[0])}
### END SOLUTION
#> answer = None  # {"ice_top3": [...], "value_effort_first": ..., "flip_confidence": ...}
answer = ex5.check(answer)

# %% [markdown]
# ICE puts smart escalation first: high confidence and ease, because it is a rule. Value vs effort calls it a
# fill-in, and the canvas says to build it as a rule, not a model. ICE and the matrix answer different questions
# (how sure and how easy, against how much and at what cost); the roadmap needs both, and a single point of
# confidence on the runner-up reorders the top.
#
# ### Retire or retrain: two ageing models
#
# **Stages: retraining, retirement.** Two portfolio models have aged. For each, `governance.business` (notebook 03's
# toolkit) values *retrain* (an upfront cost, lower errors, less exposed to drift) and *retire* (replace the model with
# the rule or naive forecast it once replaced: higher errors, almost no running cost) against keeping it as it is.

# %%
cases = {m: platform.retire_or_retrain(m, horizon_years=P.horizon_years, discount_rate=P.discount_rate,
                                       drift_rate=P.drift_rate) for m in world.ECONOMICS}
for m, (table, rec) in cases.items():
    print(f"{m}: {rec}")
pd.concat({m: t for m, (t, _) in cases.items()})[["I0", "running_per_year", "error_cost_year1", "npv"]].round(0)

# %% [markdown]
# ### Exercise 6: retire or retrain
#
# For the demand forecaster: `retrain`, `retire` or `status_quo` (keep it), its NPV against keeping it, and a sentence
# of defence.

# %%
table, rec = cases["demand-forecaster"]
ex6 = exercises.retire_or_retrain(table, "demand-forecaster")
### BEGIN SOLUTION
answer = {"decision": rec, "npv": float(table.npv.iloc[0]) if rec != "status_quo" else 0.0,
          "defence": f"{rec} has the highest NPV: the running cost it removes outweighs the extra error cost"
                     if rec == "retire" else f"{rec} has the highest NPV of the options"}
### END SOLUTION
#> answer = None  # {"decision": ..., "npv": ..., "defence": "..."}
answer = ex6.check(answer)

# %% [markdown]
# ## Summary
#
# The decisions of this notebook, as one line the course runner and the tests read.

# %%
from lifecycle_lab.course import summary

shutil.rmtree(registry_dir, ignore_errors=True)  # the registry was this run's only
summary(f"{len(violations)} violations; council queue {list(queue.model)}; retire/retrain "
        f"{ {m: r for m, (_, r) in cases.items()} }",
        truth=sorted(map(list, portfolio.truth())), found=sorted(map(list, zip(violations.model, violations.gate))),
        refused_gates=refused_gates, promoted_version=promoted["version"], queue=list(queue.model),
        verdicts={escalation["feature"]: escalation["verdict"], offers["feature"]: offers["verdict"]},
        ice_top=list(ranked.feature[:3]), value_effort_first=matrix.feature.iloc[0], flip=round(flip, 4),
        retire_or_retrain={m: r for m, (_, r) in cases.items()}, n_models=len(records),
        friction={int(t): int(g) for t, g in zip(friction.tier, friction.gates)},
        chatbot_gate=chatbot_gate["id"])
