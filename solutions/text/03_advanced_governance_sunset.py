# %% [markdown]
# # 03 · Advanced: governance and sunset of a degraded model
#
# **Lifecycle stages: monitoring, governance, retraining, sunset.** A model has been in general availability
# for 18 months. Its performance has degraded, a new regulation demands explanations, its architecture is
# legacy and retraining it is costly. You are the person who must say what to do, prove it with evidence,
# and plan the way out. This notebook is the whole case file:
#
# 1. **Outcomes and drift**: how the model performed month by month, which inputs moved, whether the
#    relation between inputs and outcome moved, and when.
# 2. **Model risk assessment** in the style of SR 11-7 (with its successor's tiering).
# 3. **Regulatory duties** under the EU AI Act for the variant you run, and who owes them.
# 4. **Explainability**: global importance and exact per-decision attributions, turned into reason codes.
# 5. **Fairness**: parity and equalized odds by age band, the four-fifths screen, mitigations and their cost.
# 6. **Model cards** (Mitchell et al. 2019) of the legacy model and its replacement, generated from the evidence.
# 7. **Business case**: the cost-optimal threshold, NPV of patch / retrain / sunset, sensitivity, the decision.
# 8. **Migration and sunset**: what each rollback guard can see in calendar time, shadow, canary, the
#    decommissioning plan.
# 9. **Incident report** for the degradation.
# 10. **The checklist, marked**: each duty of section 3 against the evidence the notebook wrote to disk.
# 11. **Governance framework**: the same checkpoints as stage gates for every team on a platform.
#
# Two variants share the code and differ where the rules differ: `fraud` (card transactions; fraud
# detection is *excepted* from the EU AI Act's high-risk list) and `credit` (credit scoring of natural
# persons: *high-risk*, Annex III 5(b), with adverse-action reason codes under US Reg B). Run both.
# The course text is in `course/` (chapters *Governance* and *Sunset*).

# %% [markdown]
# ## Parameters
#
# `variant` picks the world; `data_drift` / `concept_drift` switch the two kinds of drift on and off and
# `concept_start` says when the new pattern begins, so you can check the diagnosis against how the world was
# built. Costs left at `None` take the variant's defaults (printed below). `fast=True` simulates 1,500 decisions
# a month instead of 4,000, over 18 months, with fewer repeats. The next cell checks every value against the
# declaration in `lifecycle_lab/projects/p03_governance/parameters.py` and refuses, before any work, a combination
# the notebook cannot run: a `concept_start` after the last month, a review that costs more than the loss it
# prevents, or a world without enough labelled cases for the evaluation and the fairness audit.

# %% tags=["parameters"]
seed = 42              # drives every random draw
fast = False           # True: 1,500 decisions a month instead of 4,000, fewer repeats
output_dir = None      # where the model cards, memo, logs and reports go (default: build/outputs/03_...)
variant = "fraud"      # "fraud" (card transactions) or "credit" (credit-risk scoring of people)
months = 18            # months in production (the case is about a model 18 months or more in production)
data_drift = True      # inputs change over time (P(X))
concept_drift = True   # a new pattern changes P(Y|X)
concept_start = None   # production month the new pattern starts ramping in (None: half-way, months // 2)
drift_strength = 1.0   # scales both kinds of drift
cost_fp = None         # EUR per false positive (None: variant default)
cost_fn = None         # EUR per false negative (None: variant default)
cost_review = None     # EUR per human review of a flagged case (None: variant default)
discount_rate = 0.08   # yearly, for the NPV
horizon_years = 3      # years the business case looks ahead
drift_rate = 0.15      # yearly growth of an un-adapted model's error cost
human_review = True    # every flagged case is reviewed by a person
log_retention_months = 12  # how long decision logs are kept

# %%
from lifecycle_lab.projects import p03_governance as project
from lifecycle_lab.projects.p03_governance import parameters as setup

P = project.PARAMETERS.validate(globals())  # types, bounds, fast caps, and whether this case can run at all
costs, inputs, size = setup.costs_of(P), setup.inputs_of(P), setup.sizes(P)
print(f"variant={P.variant}, seed={P.seed}, {P.months} months x {size.n_per_month} simulated decisions, "
      f"data drift={P.data_drift}, concept drift={P.concept_drift} "
      f"(from month {P.months // 2 if P.concept_start is None else P.concept_start})")
print(f"production volume (one volume for every document): {inputs.volume_per_year:,.0f} decisions a year; "
      f"the simulation samples {size.n_per_month:,} of each month's {inputs.volume_per_year / 12:,.0f}")
print(f"costs (EUR): FP {costs.fp:g}, FN {costs.fn:g}, review {costs.review:g}; "
      f"discount {P.discount_rate:.1%}, horizon {P.horizon_years} y, drift rate {P.drift_rate:.0%}/y")

# %% [markdown]
# ## 1. Outcomes analysis: how did the legacy model do, month by month?
#
# **Stage: monitoring.** Month 0 is the training period before general availability; months 1 to 18 are
# production. Labels arrive late (a chargeback takes weeks, a default months), so the last months are only
# partly labelled: every metric below uses the labels that had arrived by the end of the last month, and
# `labelled_share` says how many that is. The legacy model runs at the threshold that was cost-optimal on
# its training data.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from lifecycle_lab.base import paths
from lifecycle_lab.evaluation.costs import Costs, best_threshold, expected_cost, threshold_sweep
from lifecycle_lab.governance import business
from lifecycle_lab.projects.p03_governance import world as tx
from lifecycle_lab.monitoring import performance as perf

out = paths.output_dir("03_advanced_governance_sunset", P.output_dir)
world = setup.simulate(P)  # the world the parameters describe (the feasibility check simulated the same)
X = tx.features(P.variant)
train = world[world.month == 0]
legacy = tx.build_model(P.variant, "legacy").fit(train[X], train.label)
proba_legacy = legacy.predict_proba(world[X])[:, 1]
threshold_legacy = best_threshold(threshold_sweep(train.label, proba_legacy[world.month == 0], costs))
monthly = perf.monthly_performance(world, proba_legacy, threshold_legacy, costs)
monthly.to_csv(out / "monthly_performance.csv", index=False)
print(f"{len(world):,} rows; inputs: {X}; legacy threshold {threshold_legacy:.3f}")
monthly.round(3)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
ax1.plot(monthly.month, monthly.precision, marker="o", label="precision")
ax1.plot(monthly.month, monthly.recall, marker="o", label="recall")
ax1.set(title="Legacy model: precision and recall by month", xlabel="month (0 = training)", ylabel="share (0-1)")
ax1.legend()
ax2.plot(monthly.month, monthly.cost_per_1k, marker="o", color="tab:red")
ax2.set(title="Expected cost of errors and reviews", xlabel="month (0 = training)", ylabel="EUR per 1,000 decisions")
plt.tight_layout()
plt.show()

# %% [markdown]
# Every production decision of the legacy system is written to a **decision log**: when, which model and
# version, the inputs, the score, the threshold and the decision. It is what lets anyone reconstruct a
# decision later (an explanation, a complaint, an audit) and what EU AI Act Art 12 asks a high-risk system
# to record automatically. The log is then *checked*, not assumed: every decision present, every column
# filled.

# %%
from lifecycle_lab.governance import regulation

model_id = f"{P.variant.upper()}-LEGACY-01"
production = world[world.month >= 1]
score_production = proba_legacy[(world.month >= 1).to_numpy()]
decision_log = production[["id"] + X].rename(columns={"id": "decision_id"}).assign(
    day=production.month * tx.DAYS_PER_MONTH + production.day, model_id=model_id, model_version="1.0",
    score=score_production.round(6), threshold=threshold_legacy,
    decision=(score_production >= threshold_legacy).astype(int))
decision_log.to_csv(out / "decision_log.csv.gz", index=False, compression={"method": "gzip", "compresslevel": 1})
log_check = regulation.check_decision_log(pd.read_csv(out / "decision_log.csv.gz"), inputs=X,
                                          expected_ids=production.id)
print(f"decision log: {log_check['rows']:,} rows for {len(production):,} production decisions; "
      f"complete: {log_check['complete']} (missing columns {log_check['missing_columns']}, "
      f"{log_check['missing_decisions']} decisions absent, {log_check['blank_cells']} blank cells)")

# %% [markdown]
# ### Which inputs moved (data drift, P(X))?
#
# Each month is compared with the training month: the PSI for numerical inputs (deciles of the training
# data; > 0.1 counts as moved, a folklore band that changes with the binning) with the KS statistic and its
# p-value beside it, and the Jensen-Shannon distance of the category shares for categorical inputs (>= 0.1,
# Evidently's rule for large samples). The PSI and KS come from `lifecycle_lab.monitoring.drift`, the same code the
# other notebooks use. The table is the last month; the heat map shows every month.

# %%
drift = perf.input_drift(world, tx.FEATURES[P.variant]["numerical"], tx.FEATURES[P.variant]["categorical"])
onsets = perf.drift_onset(drift)
last = drift[drift.month == P.months].set_index("feature")
last.assign(first_drifted_month=pd.array([onsets[f]["first_month"] for f in last.index], dtype="Int64"))[
    ["kind", "method", "score", "drifted", "ks", "ks_pvalue", "first_drifted_month"]].round(4)

# %% [markdown]
# With thousands of rows a month, the KS p-value calls almost any shift significant (look at `ks_pvalue`);
# the KS statistic itself and the PSI say how *large* the shift is, which is what decides whether to act.

# %%
heat = drift.pivot(index="feature", columns="month", values="score").loc[X]
fig, ax = plt.subplots(figsize=(10, 3.6))
im = ax.imshow(heat.to_numpy(), aspect="auto", cmap="Reds")
ax.set(title="Input drift against the training month", xlabel="production month", ylabel="input",
       xticks=range(heat.shape[1]), xticklabels=heat.columns, yticks=range(len(heat)), yticklabels=heat.index)
fig.colorbar(im, ax=ax, label="PSI (numerical) / JS distance (categorical), unitless")
plt.show()

# %% [markdown]
# Evidently runs its own tests on the last month against the training month (a sample of each, with the
# HTML report saved for reviewers). It picks the test by sample size, so its verdict per column can differ
# from the PSI above; read both.

# %%
from lifecycle_lab.monitoring import drift as monitor

ref_sample = train.sample(min(len(train), 2000), random_state=P.seed)
last_month = world[world.month == P.months]
evid = monitor.evidently_drift(ref_sample, last_month.sample(min(len(last_month), 2000), random_state=P.seed),
                               numerical=tx.FEATURES[P.variant]["numerical"],
                               categorical=tx.FEATURES[P.variant]["categorical"],
                               html_path=out / "drift_report.html")
share_drifted = evid["share_drifted"]
print(f"Evidently: {share_drifted:.0%} of inputs drifted in month {P.months}; dataset drift: {evid['dataset_drift']}")
pd.DataFrame(evid["columns"]).T[["stattest", "score", "drifted"]]

# %% [markdown]
# ### Did P(Y|X) move (concept drift), and when would we have known?
#
# Inputs moving is not enough to condemn a model: if only P(X) moved, a well-specified model fitted before
# the shift still describes the new rows. We fit a flexible reference model of P(Y|X) on the training month
# and ask, month by month, whether the labels agree with it: the score test compares the log loss it
# achieves with the loss it expects of itself (z > 3 in two consecutive months = concept drift). Replaying
# the test as of each month-end, with only the labels known by then, gives the honest *detection* date.

# %%
reference_model = tx.build_model(P.variant, "replacement").fit(train[X], train.label)
proba_reference = reference_model.predict_proba(world[X])[:, 1]
concept = perf.calibration_drift(world, proba_reference)
concept_onset = concept.attrs["onset"]
detected = perf.detection_month(world, proba_reference)
data_onset = min([v["first_month"] for v in onsets.values() if v["first_month"] is not None], default=None)
lag = None if (detected is None or concept_onset is None) else detected - concept_onset
print(f"first input drift: month {data_onset}; concept drift from month {concept_onset}; "
      f"detected at the end of month {detected} (lag {lag} months, labels arrive late)")
concept[["month", "labels", "o_e_ratio", "z", "concept_drift"]].round(2).T

# %%
from matplotlib.patches import Patch

fig, ax = plt.subplots(figsize=(8, 3.4))
ax.bar(concept.month, concept.z, color=np.where(concept.concept_drift, "tab:red", "tab:gray"))
limit = ax.axhline(3, ls="--", color="k")
ax.set(title="Does P(Y|X) still match the reference model?", xlabel="month", ylabel="score test z (log loss)")
ax.legend([limit, Patch(color="tab:red"), Patch(color="tab:gray")],
          ["z = 3 (limit)", "from the onset: concept drift", "before the onset"])
plt.show()

# %% [markdown]
# **Diagnosis.** Read the two together: inputs that moved while the score test stays quiet is data drift
# the model absorbs (benign); a score test above the line is concept drift: the world changed the meaning
# of the inputs, and no re-weighting of the old design fixes it for long. Try `-p concept_drift=false`:
# the inputs still move, the score test stays quiet.

# %% [markdown]
# ## 2. Model risk assessment (SR 11-7 style)
#
# **Stage: governance.** SR 11-7 (Federal Reserve / OCC, 2011) was the reference for model risk management
# for 15 years; it was **superseded on 17 Apr 2026 by SR 26-2 / OCC Bulletin 2026-13**. What changed for
# us: the risk tier is tied to the model's *exposure* (money, people) and *purpose*, and revalidation is
# triggered by *risk events* (drift, a breach, an incident, a new regulation) rather than only by the
# calendar. The pillars stay: conceptual soundness, ongoing monitoring, outcomes analysis, with *effective
# challenge* by people independent of the developers. First, the model's inventory entry.

# %%
from lifecycle_lab.governance import risk

what = {"fraud": "flags card transactions for fraud review", "credit": "scores applicants' probability of default"}
entry = risk.InventoryEntry(
    model_id=model_id, name=f"legacy {P.variant} scorecard", purpose=what[P.variant],
    users="fraud operations" if P.variant == "fraud" else "retail credit underwriting",
    restrictions="not for marketing or pricing; scores expire after 24 h",
    inputs_and_sources=", ".join(X) + " (core banking, card switch)", upstream_models="none",
    outputs="probability and flag at the operating threshold", owner="Head of " + P.variant + " analytics",
    developer="analytics team (2 people left)", validator="model risk (independent)",
    last_validation="month 0", next_validation="now: triggered by risk events",
    expected_life="3 years", risk_tier="to be set below")
print(entry.to_markdown())

# %% [markdown]
# The evidence for scoring, all computed above: whether P(Y|X) moved, the detection lag, how much the
# expected cost per decision rose against the first three months, the share of inputs Evidently saw drift,
# the purpose (variant), human review, and the yearly error cost of keeping things as they are at the
# production volume. Two facts are stated rather than computed: the design is legacy (it cannot represent
# new patterns and its developers left), and the inputs are monitored (the drift monitor of section 1).

# %%
from lifecycle_lab.projects.p03_governance import casefile

eval_window, fit_window = casefile.windows(world, P.months)  # the last 3 labelled months (6 when labels are late)
p_eval_legacy = legacy.predict_proba(eval_window[X])[:, 1]
flag_eval = (p_eval_legacy >= threshold_legacy).astype(int)
cost_eval = expected_cost(eval_window.label, flag_eval, costs)
baseline_per_1k = float(monthly.loc[monthly.month.between(1, 3), "cost_per_1k"].mean())
evidence = casefile.risk_evidence(variant=P.variant, human_review=P.human_review, concept_onset=concept_onset,
                                  detection_lag=lag, cost_per_decision=cost_eval["cost_per_decision"],
                                  baseline_per_1k=baseline_per_1k, share_drifted=share_drifted,
                                  volume_per_year=inputs.volume_per_year)
print(f"evaluation window: months {eval_window.month.min()}-{eval_window.month.max()}, {len(eval_window):,} labelled rows; "
      f"yearly error cost at {inputs.volume_per_year:,.0f} decisions: EUR {evidence['annual_error_cost']:,.0f}")
evidence

# %%
pd.DataFrame({"rubric (score 1 = low risk, 5 = high)": risk.RUBRIC, "weight": risk.WEIGHTS})

# %% [markdown]
# ### Exercise 1: score the six elements and give the tier
#
# Apply the rubric to the evidence: a dict with a whole number 1-5 for each element, and the `tier`
# (1 = high, 2, 3).
#
# **How to get help, here and in every exercise:** run `ex1.hint(1)` in a new cell for a first nudge, then
# `ex1.hint(2)` and `ex1.hint(3)` (each gets closer to the answer); `ex1.solution()` shows one answer. After
# you change your answer, run the cell with `ex1.check(answer)` again. The other exercises work the same
# way with `ex2` to `ex6`.

# %%
from lifecycle_lab.projects.p03_governance import exercises

ex1 = exercises.risk_scores(evidence)

# %%
### BEGIN SOLUTION
answer = risk.score_elements(evidence)
answer["tier"] = risk.tier(answer)[0]
### END SOLUTION
#> answer = None  # {"conceptual_soundness": ..., "ongoing_monitoring": ..., ..., "exposure": ..., "tier": ...}
answer = ex1.check(answer)

# %%
scores = {k: answer[k] for k in risk.ELEMENTS}
tier_number, tier_reason = risk.tier(scores)
entry.risk_tier = risk.TIERS[tier_number]
triggers = risk.revalidation_triggers({
    "concept_drift": evidence["concept_drift"], "performance_breach": evidence["cost_increase"] > 0.2,
    "data_drift": share_drifted >= 0.5, "regulation_change": True, "incident": evidence["cost_increase"] > 0.2})
assessment = "\n".join([f"# Model risk assessment: {entry.model_id}", "", entry.to_markdown(), "", "| element | score |",
                        "|---|---|", *[f"| {k} | {v} |" for k, v in scores.items()], "", tier_reason, "",
                        "Revalidation triggered by: " + "; ".join(triggers)])
(out / "risk_assessment.md").write_text(assessment + "\n")
print(tier_reason)
print("revalidation triggered by:", *triggers, sep="\n  - ")

# %% [markdown]
# ## 3. Regulatory checklist (EU AI Act): the duties
#
# **Stage: governance.** The tier decides the duties. Credit scoring of natural persons is high-risk
# (Annex III 5(b)); the same point excepts fraud detection, so for `fraud` the duties below are voluntary
# good practice. Each duty has an owner: the **provider** (who builds the system and places it on the
# market or puts it into service) or the **deployer** (who uses it). A bank that builds its own model and
# uses it holds both roles; after a sunset to a vendor, the vendor becomes the provider and the bank keeps
# the deployer's duties (FRIA, logs it controls, explanations to its customers). A teaching aid, not legal
# advice.
#
# Each duty is marked met / partly / not met in **section 10**, once the evidence exists: the decision log
# above, the model card, the explanations, the fairness audit and the incident report are written to disk
# by the sections below, and the marks are read from those files.

# %%
ai_act = regulation.ai_act_tier(P.variant)
print(f"EU AI Act tier ({P.variant}): {ai_act['tier']}: {ai_act['basis']}")
regulation.duties(P.variant)

# %% [markdown]
# ## 4. Explainability: global and per decision
#
# **Stage: governance.** Two questions, two tools. *How much does the model rely on each input?*
# Permutation importance (scikit-learn): shuffle one input, measure how much the ROC-AUC drops.
# *Why did it score this case so?* For a logistic regression the SHAP values in log-odds have a closed
# form, phi_j = w_j (x_j - E[x_j]) summed over the columns built from input j, so they are **exact**, and
# we check it: base value + sum of phi equals the model's log-odds for every decision (additivity).
# The mandate applies to the model deciding *today*, so we explain both: the legacy model in production and
# the replacement (new architecture: splines per input, still additive), retrained on the recent labelled
# months.

# %%
from lifecycle_lab.evaluation import explain

replacement = tx.build_model(P.variant, "replacement").fit(fit_window[X], fit_window.label)
models = {"legacy (in production)": legacy, "replacement": replacement}
importance = pd.concat({name: explain.global_importance(m, eval_window[X], eval_window.label, n_repeats=size.importance_repeats,
                                                        seed=P.seed, max_rows=3000).set_index("feature")["importance_mean"]
                        for name, m in models.items()}, axis=1).sort_values("replacement", ascending=False)
importance.round(4)

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
pos = np.arange(len(importance))
for i, name in enumerate(importance.columns):
    ax.barh(pos + 0.4 * i, importance[name][::-1], height=0.4, label=name)
ax.set(title="Permutation importance of each input", xlabel="drop in ROC-AUC when shuffled (AUC points)",
       ylabel="input", yticks=pos + 0.2, yticklabels=importance.index[::-1])
ax.legend()
plt.show()

# %%
p_eval_new = replacement.predict_proba(eval_window[X])[:, 1]
expl = explain.linear_shap(replacement, eval_window[X], fit_window[X])
expl_legacy = explain.linear_shap(legacy, eval_window[X], train[X])
additivity_error = max(expl.check_additivity(), expl_legacy.check_additivity())
print(f"additivity error over {len(expl.values):,} decisions, both models: "
      f"{'< 1e-9' if additivity_error < 1e-9 else additivity_error}")
case = eval_window.index[int(np.argmax(p_eval_new))]
print(f"case {case}: replacement score {p_eval_new[eval_window.index.get_loc(case)]:.3f} (threshold p* = "
      f"{costs.p_star:.3f}); legacy score {p_eval_legacy[eval_window.index.get_loc(case)]:.3f} "
      f"(threshold {threshold_legacy:.3f})")
pd.DataFrame({"replacement": expl.values.loc[case], "legacy": expl_legacy.values.loc[case]}).sort_values(
    "replacement", ascending=False).round(3)

# %% [markdown]
# ### Exercise 2: the reason codes for this adverse decision
#
# For `credit` this applicant is declined; US Regulation B (12 CFR 1002.9(b)(2)) requires the *specific
# principal reasons*, and its commentary says more than four is not likely to be helpful. The CFPB
# (Circulars 2022-03 and 2023-03) adds that the reasons must describe the factors *actually scored*, even
# for complex models, and that a generic checklist reason is not enough. For `fraud` the same list is what
# the analyst sees next to the flag (human oversight, Art 14). Give the replacement model's features,
# largest push towards the adverse decision first, at most four.

# %%
ex2 = exercises.reason_codes(replacement, eval_window.loc[case, X], fit_window[X])

# %%
### BEGIN SOLUTION
phi = expl.values.loc[case]
answer = {"reasons": list(phi[phi > 0].sort_values(ascending=False).head(4).index)}
### END SOLUTION
#> answer = None  # {"reasons": ["...", ...]} at most four feature names
answer = ex2.check(answer)

# %% [markdown]
# The same case, phrased for the person: one statement per reason, from each model. The two designs can
# give different reasons for the same case; the reasons owed are those of the model that actually decides,
# so after the decision in section 7 the reasons follow the chosen option's design.

# %%
reasons_by_design = {"replacement": explain.reason_codes(expl, case, background=fit_window[X]),
                     "legacy": explain.reason_codes(expl_legacy, case, background=train[X])}
print("same features as the exercise answer:",
      [r["feature"] for r in reasons_by_design["replacement"]] == list(answer["reasons"]))
for design, reasons in reasons_by_design.items():
    print(f"{design}:")
    for i, r in enumerate(reasons, 1):
        print(f"  {i}. {r['statement']}  (value {r['value']}, +{r['contribution']:.3f} log-odds)")

# %% [markdown]
# ## 5. Fairness by age band
#
# **Stage: governance.** `age_band` is not a model input, but tenure and credit history correlate with it.
# We compare the legacy model's decisions across age bands on the evaluation window: demographic parity
# (flag rates) and equalized odds (TPR and FPR), as differences and ratios (fairlearn's definitions), with
# bootstrap intervals for the false-positive rate, the error that lands on good customers.

# %%
from lifecycle_lab.evaluation import fairness

groups = eval_window[tx.SENSITIVE]
parity_before = fairness.parity_summary(eval_window.label, flag_eval, groups)
table = fairness.group_table(eval_window.label, flag_eval, groups)
print({k: round(v, 3) for k, v in parity_before.items() if k != "by_group"})
table.round(3)

# %%
n_boot = size.n_boot
fpr_ci = fairness.bootstrap_ci("false_positive_rate", eval_window.label.to_numpy(), flag_eval, groups.to_numpy(),
                               n_boot=n_boot, seed=P.seed)
fpr_ci.round(3)

# %% [markdown]
# The **four-fifths screen** (29 CFR 1607.4(D)) comes from US employment selection: a group whose rate of the
# favourable outcome is below 80% of the best group's is flagged. It is a *screening heuristic*, not a test
# of fairness, and fairlearn's documentation warns it is often misapplied; for US credit, ECOA / Regulation B
# governs. Here the favourable outcome is *not being flagged* (approved).

# %%
screen = fairness.four_fifths_screen(flag_eval, groups, favourable=0)
print(screen.render())

# %% [markdown]
# ### Mitigations and what they cost
#
# Three ways of deciding are compared with the legacy model, on the same rows:
#
# - the **replacement at p\***, without any mitigation;
# - the replacement **reweighed in training** (Kamiran and Calders): each (age band, label) cell of the
#   training rows is weighted so that the label no longer depends on the band. Age is used only while
#   fitting; the fitted model has no age input, so a decision does not depend on the applicant's age
#   directly (proxies can still carry it: that is why the table is re-audited);
# - the replacement with fairlearn's **ThresholdOptimizer**: a (randomised) threshold per age band so that
#   TPR and FPR are equal across bands. It needs the age band *at decision time*, which for credit means
#   treating applicants differently by age (disparate treatment, generally not allowed under ECOA /
#   Reg B), and it randomises some decisions.
#
# For each: the parity gaps, the FPR gap with its bootstrap interval, the four-fifths screen after the
# change, the cost, and whether it needs age when deciding.

# %%
flag_new = (p_eval_new >= costs.p_star).astype(int)
weights = fairness.reweighing_weights(fit_window.label, fit_window[tx.SENSITIVE])
reweighed = tx.build_model(P.variant, "replacement").fit(fit_window[X], fit_window.label, model__sample_weight=weights)
flag_reweighed = (reweighed.predict_proba(eval_window[X])[:, 1] >= costs.p_star).astype(int)
flag_optimizer = fairness.threshold_optimizer_flags(replacement, fit_window[X], fit_window.label,
                                                    fit_window[tx.SENSITIVE], eval_window[X], groups, seed=P.seed)
mitigation = fairness.compare_mitigations(
    eval_window.label.to_numpy(), {"legacy (today)": flag_eval, "replacement at p*": flag_new,
                                   "replacement, reweighed in training": flag_reweighed,
                                   "replacement + ThresholdOptimizer": flag_optimizer},
    groups.to_numpy(), cost=lambda y, f: expected_cost(y, f, costs)["cost_per_decision"], favourable=0,
    attribute_at_decision={"replacement + ThresholdOptimizer": True}, n_boot=n_boot, seed=P.seed)
mitigation.round(3)

# %% [markdown]
# Read the cost column with the others: a mitigation that closes the gap at a large cost, or by using the
# protected attribute where the law forbids it, is not one you can ship. The rule agreed here: adopt a
# mitigation that does not need age at decision time if it lowers the equalized-odds difference and raises
# the expected cost by less than 5%. The decision (and who took it) goes in the model cards' ethical
# considerations.

# %%
plain, rw = mitigation.loc["replacement at p*"], mitigation.loc["replacement, reweighed in training"]
cost_change = rw.cost_per_1k / plain.cost_per_1k - 1
adopt_reweighing = bool(rw.eo_difference < plain.eo_difference and cost_change < 0.05)
print(f"reweighing: equalized-odds difference {plain.eo_difference:.3f} -> {rw.eo_difference:.3f}, FPR gap interval "
      f"[{rw.fpr_difference_lower:.3f}, {rw.fpr_difference_upper:.3f}], four-fifths flags: {rw.four_fifths_flagged}, "
      f"cost {cost_change:+.1%}: {'adopt before go-live' if adopt_reweighing else 'not adopted'}")

# %% [markdown]
# ## 6. Model card
#
# **Stage: governance.** The legacy model's card (Mitchell et al. 2019, nine sections) is generated from the
# evidence, so its numbers cannot drift from the model; a second card documents the proposed replacement on
# the same rows, so the two can be compared line by line. Each metric carries its unit and a bootstrap
# interval. You write one section of the legacy card.
#
# ### Exercise 3: the Metrics section
#
# On the evaluation window at the legacy threshold: precision, recall, the expected cost per 1,000 decisions
# (EUR), and the demographic parity and equalized odds differences by age band.

# %%
ex3 = exercises.card_metrics(eval_window.label, flag_eval, groups, 1000 * cost_eval["cost_per_decision"])

# %%
### BEGIN SOLUTION
from sklearn.metrics import precision_score, recall_score
answer = {"precision": precision_score(eval_window.label, flag_eval), "recall": recall_score(eval_window.label, flag_eval),
          "cost_per_1k": 1000 * cost_eval["cost_per_decision"],
          "demographic_parity_difference": parity_before["demographic_parity_difference"],
          "equalized_odds_difference": parity_before["equalized_odds_difference"]}
### END SOLUTION
#> answer = None  # {"precision": ..., "recall": ..., "cost_per_1k": ..., "demographic_parity_difference": ..., "equalized_odds_difference": ...}
answer = ex3.check(answer)

# %%
from IPython.display import Markdown
from lifecycle_lab.governance import modelcard

factor = tx.FEATURES[P.variant]["categorical"][-1]
q_legacy = modelcard.quantitative(eval_window.label, flag_eval, groups, costs, intersect=eval_window[factor],
                                  n_boot=n_boot, seed=P.seed)
q_new = modelcard.quantitative(eval_window.label, flag_new, groups, costs, intersect=eval_window[factor],
                               n_boot=n_boot, seed=P.seed)
common = casefile.card_common(entry, variant=P.variant, months=P.months, human_review=P.human_review,
                              eval_window=eval_window, factor=factor)
note = casefile.mitigation_note(plain, rw, cost_change, adopt_reweighing)
card = modelcard.model_card(casefile.legacy_card_evidence(
    common, entry, quantitative=q_legacy, metrics=answer, variant=P.variant, months=P.months, inputs=X,
    threshold=threshold_legacy, train=train, log_retention_months=P.log_retention_months,
    log_complete=log_check["complete"], parity=parity_before, four_fifths_flagged=screen.flagged, note=note,
    cost_increase=evidence["cost_increase"], concept_onset=concept_onset))
card_new = modelcard.model_card(casefile.replacement_card_evidence(
    common, entry, quantitative=q_new, variant=P.variant, months=P.months, inputs=X, costs=costs,
    fit_window=fit_window, legacy_parity=parity_before, note=note))
(out / "model_card_legacy.md").write_text(card)
(out / "model_card_replacement.md").write_text(card_new)
print(f"legacy card: {len(card.splitlines())} lines, nine sections: {all(modelcard.sections_present(card).values())}; "
      f"replacement card: {len(card_new.splitlines())} lines, nine sections: "
      f"{all(modelcard.sections_present(card_new).values())}")
Markdown(card)

# %% [markdown]
# The replacement's Metrics section, on the same rows (its full card is in `model_card_replacement.md`):

# %%
Markdown("**Replacement model, Metrics:**\n\n" + card_new.split("## 4. Metrics\n")[1].split("## 5.")[0])

# %% [markdown]
# ## 7. The business case: patch, retrain or sunset?
#
# **Stage: retraining or retirement.** First the threshold. With a cost per false positive c_FP, per false
# negative c_FN and per review c_review, flagging a case with probability p costs c_review + (1 - p) c_FP and
# letting it pass costs p c_FN. Flag when the first is smaller: above **p\* = (c_FP + c_review) / (c_FP + c_FN)**,
# Elkan's (2001) p\* = c_FP / (c_FP + c_FN) when reviews are free. That holds for *calibrated* probabilities; an
# empirical sweep on labelled data finds the threshold that actually costs least.
#
# ### Exercise 4: the cost-optimal threshold
#
# Reviews are not free here, so the check expects the threshold with the review cost included; Elkan's
# c_FP / (c_FP + c_FN) is marked wrong unless you set `cost_review = 0`.

# %%
ex4 = exercises.cost_threshold(costs)

# %%
### BEGIN SOLUTION
answer = (costs.fp + costs.review) / (costs.fp + costs.fn)
### END SOLUTION
#> answer = None  # a number between 0 and 1
answer = ex4.check(answer)

# %%
sweep_new = threshold_sweep(eval_window.label, p_eval_new, costs)
sweep_old = threshold_sweep(eval_window.label, p_eval_legacy, costs)
best_new, best_old = best_threshold(sweep_new), best_threshold(sweep_old)
print(f"p* = {answer:.3f} (Elkan without reviews: {costs.elkan_threshold:.3f}); empirical optimum: replacement "
      f"{best_new:.3f}, legacy {best_old:.3f} (legacy runs at {threshold_legacy:.3f})")
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(sweep_old.threshold, 1000 * sweep_old.cost_per_decision, label="legacy")
ax.plot(sweep_new.threshold, 1000 * sweep_new.cost_per_decision, label="replacement (retrained)")
ax.axvline(answer, ls="--", color="k", label="p*")
ax.set(title="Expected cost against the decision threshold", xlabel="threshold (probability)",
       ylabel="EUR per 1,000 decisions", xlim=(0, min(1, 6 * answer + 0.05)))
ax.legend()
plt.show()

# %% [markdown]
# Now the options, each against the status quo (keep the legacy model as it is):
#
# - **patch**: refit the legacy design on recent labels, move its threshold to p*, bolt explanations on;
#   cheap now, keeps the legacy infrastructure, decays with drift.
# - **retrain**: the new architecture (additive splines, exact explanations, yearly retraining); costly now.
# - **sunset**: retire the in-house model and replace it with a vendor service paid per decision, assumed 5%
#   worse on this firm's data; the vendor becomes the AI Act provider, the bank stays the deployer.
#
# Error costs come from the cost matrix on the evaluation window at the production volume; TCO
# (infrastructure, labelling, validation, compliance work, licence) and opportunity cost (the team's time,
# for every option) are stated assumptions in `governance/business.py`, and so is the compliance exposure
# of leaving the regulatory gaps open. **NPV = -I0 + sum_t (dB_t - dC_t) / (1 + r)^t** over the horizon.

# %%
import json

a = business.COMPLIANCE_ASSUMPTIONS[P.variant]
print(f"compliance exposure of the status quo: {a['p_action_per_year']:.0%} a year x EUR {a['penalty']:,} penalty "
      f"+ EUR {a['remediation']:,} remediation = EUR {business.compliance_exposure(P.variant):,.0f} a year")
patch_model = tx.build_model(P.variant, "legacy").fit(fit_window[X], fit_window.label)
probas = {"status_quo": p_eval_legacy, "patch": patch_model.predict_proba(eval_window[X])[:, 1], "retrain": p_eval_new}

def build(case, cost_fn=None):
    c = costs if cost_fn is None else Costs(costs.fp, cost_fn, costs.review)
    measured = business.measured_costs(eval_window.label, probas, c, {"status_quo": threshold_legacy})
    return business.scenario_options(P.variant, measured)

status_quo, options = build(inputs)
options_table = business.evaluate_options(options, status_quo, inputs)
pd.DataFrame({"label": eval_window.label.to_numpy(), tx.SENSITIVE: groups.to_numpy(), **probas}).to_csv(
    out / "eval_scores.csv", index=False)
(out / "business_case.json").write_text(json.dumps({
    "variant": P.variant, "costs": {"fp": costs.fp, "fn": costs.fn, "review": costs.review},
    "threshold_legacy": threshold_legacy, "volume_per_year": inputs.volume_per_year, "horizon_years": P.horizon_years,
    "discount_rate": P.discount_rate, "drift_rate": P.drift_rate}, indent=1))
options_table.round(0)

# %% [markdown]
# ### Exercise 5: the NPV of patching
#
# Compute the NPV of `patch` yourself from its `upfront` and `annual` dicts, its `cost_per_decision`,
# `drift_exposure` and `compliance_exposure`, the status quo's, and `inputs`.

# %%
patch_option = next(o for o in options if o.name == "patch")
ex5 = exercises.option_npv(patch_option, status_quo, inputs)
print("patch:", patch_option.upfront, patch_option.annual, f"cost/decision {patch_option.cost_per_decision:.3f}")

# %%
### BEGIN SOLUTION
flows = business.cashflows(patch_option, status_quo, inputs)
answer = business.npv(flows["net"], inputs.discount_rate, patch_option.initial_investment)
### END SOLUTION
#> answer = None  # EUR
answer = ex5.check(answer)

# %% [markdown]
# ### How sure is the recommendation?
#
# One assumption at a time: the discount rate, the drift rate, the horizon, and the cost of a false negative
# (which also moves p* and re-prices every option). A row whose recommendation differs from the base case
# names an assumption to pin down before anyone signs.

# %%
fn = costs.fn
sensitivity = business.sensitivity(build, inputs, {
    "discount_rate": [0.03, 0.08, 0.15, 0.30], "drift_rate": [0.0, 0.15, 0.5, 1.0],
    "horizon_years": [1, 2, 3, 5], "cost_fn": [fn / 4, fn / 2, fn, 2 * fn]})
npv_cols = [c for c in sensitivity.columns if c.startswith("npv_")]
tie = business.near_tie(options_table)
print("near tie:", f"{tie['best']} leads {tie['runner_up']} by {tie['gap']:.1%} of its NPV" if tie else
      f"no (the best two NPVs are more than {business.NEAR_TIE:.0%} apart)")
sensitivity.assign(**{c: (sensitivity[c] / 1e6).round(2) for c in npv_cols}).rename(
    columns={c: c + " (EUR M)" for c in npv_cols})

# %% [markdown]
# ### Exercise 6: decide, and defend it
#
# A dict with `option` (patch / retrain / sunset / status_quo), its `npv`, `sensitive_to` (an assumption
# whose range changes the recommendation, or `"none"`), and a `justification` for leadership: at least 15
# words that name the option, quote its NPV (or name the assumption that could flip it), and rest on at
# least two kinds of evidence (NPV, drift, compliance, TCO, error cost, explanations).

# %%
ex6 = exercises.decide(options_table, sensitivity)

# %%
### BEGIN SOLUTION
best = business.recommend(options_table)
flip = sensitivity.loc[sensitivity.recommendation != best, "assumption"]
npv_best = float(options_table.set_index("option").loc[best, "npv"]) if best != "status_quo" else 0.0
answer = {"option": best, "npv": npv_best, "sensitive_to": flip.iloc[0] if len(flip) else "none",
          "justification": (f"{best} has the highest NPV, EUR {npv_best / 1e6:.2f}M over {P.horizon_years} years: it removes "
                            f"most of the error cost that drift added and carries the least compliance exposure for the "
                            f"explainability mandate; the ranking changes with "
                            f"{flip.iloc[0] if len(flip) else 'none of the assumptions tested'}, to be confirmed.")}
### END SOLUTION
#> answer = None  # {"option": ..., "npv": ..., "sensitive_to": ..., "justification": "..."}
answer = ex6.check(answer)
decision = dict(answer)

# %%
memo = business.memo_markdown(P.variant, options_table, sensitivity, inputs, costs, decision=decision, risks=[
    "freeze changes to the legacy model until the replacement is live",
    "shadow, then canary with the label-free guard armed; legacy kept warm",
    "independent validation (effective challenge) before the canary",
    "a sunset makes the vendor the AI Act provider; the bank keeps the deployer's duties and must get reason codes "
    "and logs from the vendor by contract",
    "AI Act duties marked 'not met' in section 10 closed before go-live" if ai_act["high_risk"] else
    "fraud is not high-risk under the AI Act: keep the checklist as good practice"])
(out / "decision_memo.md").write_text(memo)
Markdown(memo)

# %% [markdown]
# ## 8. Migration: shadow, canary, rollback, sunset
#
# **Stage: deployment and retirement.** The replacement first runs in **shadow** (it scores mirrored
# traffic, its answers are discarded), then a **canary** and a ramp, with the legacy model kept warm. Before
# any traffic moves, one question: is the replacement better on the labelled decisions we already have?
# Both models are scored on the same rows, so the comparison is paired; promote to shadow only if the
# interval of the difference is above zero. The business metric is the EUR of error cost avoided per
# decision, against flagging nothing.

# %%
from lifecycle_lab.deployment import rollout
from lifecycle_lab.governance import migration

y_eval = eval_window.label.to_numpy()
flag_champion = flag_eval
gate = migration.paired_value_ci(y_eval, flag_champion, flag_new, costs, n_boot=size.gate_boot, seed=P.seed)
print(f"business metric (EUR avoided per decision): legacy {gate['champion']:.2f}, replacement {gate['challenger']:.2f}; "
      f"difference {gate['difference']:+.2f}, {gate['level']:.0%} interval [{gate['lower']:+.2f}, {gate['upper']:+.2f}] "
      f"on {gate['n']:,} paired decisions: {'promote to shadow' if gate['promote'] else 'do not promote'}")
pass_old, pass_new = migration.good_pass_rate(y_eval, flag_champion), migration.good_pass_rate(y_eval, flag_new)
print(f"good cases let through (approval of qualified applicants, for credit): legacy {pass_old:.3f}, replacement "
      f"{pass_new:.3f} ({pass_new / pass_old - 1:+.1%}); a '5% drop' trigger on this metric "
      f"{'would' if pass_new < 0.95 * pass_old else 'would not'} fire on the better model")

# %% [markdown]
# The second line is a warning about metric choice: a rollback trigger on a metric the business does not
# optimise can roll back the better model (the cost-optimal replacement flags more of the risky cases,
# including some that would have been fine).
#
# ### What a > 5% business-metric trigger can see, in calendar time
#
# The trigger agreed before deployment rolls back when (M_champion - M_challenger) / M_champion > 0.05 over a
# window, counting only windows with a minimum sample and firing after 3 failing windows in a row. The
# metric needs *labels*, and two things limit it: the labels arrive 40 (fraud) to 90 (credit) days after the
# decision on average, and the minimum sample for a 5% drop, with the value of a decision this noisy (a few rare,
# expensive cases), is large. At this firm's volume, with weekly windows:

# %%
reach = migration.label_trigger_reach(y_eval, flag_champion, costs, volume_per_year=inputs.volume_per_year,
                                      label_delay_days=tx.LABEL_DELAY_DAYS[P.variant])
need, weekly = reach.attrs["min_sample"], round(reach.attrs["daily_volume"] * 7)
print(f"minimum sample for a 5% drop: {need:,} decisions per window; the firm makes {weekly:,} a week, so one window "
      f"of full traffic takes {reach.attrs['days_at_full_traffic'] / 7:.0f} weeks, and its labels arrive "
      f"{tx.LABEL_DELAY_DAYS[P.variant]} days later on average (the slowest far later)")
print(f"a weekly window of the {reach.attrs['first_ramp_weight']:.0%} ramp holds the minimum only from "
      f"{reach.attrs['daily_volume_needed']:,.0f} decisions a day (this firm: {reach.attrs['daily_volume']:,.0f})")
reach.round(3)

# %% [markdown]
# So the 5% trigger **cannot protect the canary, nor the ramp**, at this volume: in one week of canary it
# could only tell a drop of several hundred percent from noise, and it reads outcomes weeks after the
# decisions. Replaying the plan in weekly windows shows the consequence. A **naive** trigger (no minimum
# sample, one window) fires on noise in an A/A replay (the same model as champion and challenger, so every
# "drop" is noise); the **guarded** one never fires, but only because it never counts a window: its
# silence is blindness, not evidence.

# %%
weekly_plan = migration.calendar_plan(7, guard_shadow=False)
guarded = rollout.RollbackTrigger(max_relative_drop=0.05, min_sample=need, consecutive=3)
naive = rollout.RollbackTrigger.naive(0.05)
runs = size.replays
kw = dict(plan=weekly_plan, runs=runs, seed=P.seed)
alarm_naive = migration.false_alarm_rate(naive, y_eval, flag_champion, costs, traffic_per_window=weekly, **kw)
alarm_guarded = migration.false_alarm_rate(guarded, y_eval, flag_champion, costs, traffic_per_window=weekly, **kw)
blind = rollout.run_rollout(weekly_plan, migration.replay_observer(y_eval, flag_champion, flag_champion, costs,
                                                                   traffic_per_window=weekly, seed=P.seed), guarded)
counted_ours = sum(c.counted for c in blind.trigger.checks)
print(f"at {weekly:,} decisions a week, A/A replays: naive trigger fired in {alarm_naive:.0%} of {runs}, guarded in "
      f"{alarm_guarded:.0%}; the guarded trigger counted {counted_ours} of {len(blind.trigger.checks)} windows")

# %% [markdown]
# Where it *can* work: at a volume where a week of the 20% ramp holds the minimum sample (a large issuer or
# lender), the same rules give a trigger that counts its windows, stays quiet on noise and stops a broken
# challenger. The broken challenger: after a schema change the feature join uses the wrong key, so every
# decision is scored on *another* customer's inputs. The model still answers, confidently, and its answers
# are wrong.

# %%
big = int(np.ceil(reach.attrs["daily_volume_needed"] * 7))
rng = np.random.default_rng(P.seed)
broken_inputs = eval_window[X].iloc[rng.permutation(len(eval_window))]
p_broken = replacement.predict_proba(broken_inputs)[:, 1]
flag_broken = (p_broken >= costs.p_star).astype(int)
alarm_naive_big = migration.false_alarm_rate(naive, y_eval, flag_champion, costs, traffic_per_window=big, **kw)
alarm_guarded_big = migration.false_alarm_rate(guarded, y_eval, flag_champion, costs, traffic_per_window=big, **kw)
run_big = rollout.run_rollout(weekly_plan, migration.replay_observer(y_eval, flag_champion, flag_broken, costs,
                                                                     traffic_per_window=big, seed=P.seed), guarded)
healthy_big = rollout.run_rollout(weekly_plan, migration.replay_observer(y_eval, flag_champion, flag_new, costs,
                                                                         traffic_per_window=big, seed=P.seed), guarded)
print(f"at {big:,} decisions a week: A/A naive {alarm_naive_big:.0%}, guarded {alarm_guarded_big:.0%} "
      f"(counting {sum(c.counted for c in healthy_big.trigger.checks)} windows of the healthy replacement's rollout)")
print("broken challenger:", run_big.reason)
print("healthy replacement:", healthy_big.reason)

# %% [markdown]
# ### A guard that can act in shadow and canary: no labels needed
#
# What *can* be known the same day is whether the replacement still behaves as it did in validation. From
# the shadow on, it scores every request (mirrored), whatever share it serves, so each window compares the
# two models on the same requests:
#
# - **agreement**: the share of requests where both decide alike, against the agreement measured in
#   validation (a wrong join or a stale feature breaks it);
# - **flag-rate ratio**: the replacement's flag rate over the legacy model's, against validation (a unit
#   or threshold error moves it);
# - **score PSI**: the replacement's score distribution against its validation scores (skew between
#   training and serving).
#
# The thresholds are agreed before deployment: agreement more than 5 points below validation, a flag-rate
# ratio off by more than a factor 1.25, or a PSI above 0.25, in 2 windows in a row. A window counts once it
# holds enough requests for the 5-point tolerance to be 3 standard errors of the measured agreement; that
# minimum, divided by the daily volume, sets the window length in days. The replay draws from the validation rows, so a healthy replacement matches the references by
# construction: the replay tests that the guard is quiet on noise at this window size and fires on a real
# fault. The fault: the wrong-key join arrives with the canary's new serving path (shadow scored from the
# batch feed).

# %%
guard = migration.LabelFreeGuard.from_validation(flag_champion, flag_new, p_eval_new)
window_days = max(1, int(np.ceil(guard.min_sample / reach.attrs["daily_volume"])))
plan = migration.calendar_plan(window_days)
traffic = int(round(reach.attrs["daily_volume"] * window_days))
print(f"validation: agreement {guard.reference_agreement:.3f}, flag-rate ratio {guard.reference_flag_ratio:.2f}; "
      f"minimum {guard.min_sample:,} mirrored decisions per window -> windows of {window_days} day(s) "
      f"({traffic:,} decisions), {sum(s.windows for s in plan)} windows over the plan")
mirror = dict(traffic_per_window=traffic, seed=P.seed)
run_new = rollout.run_rollout(plan, migration.mirrored_observer(p_eval_legacy, p_eval_new, threshold_legacy,
                                                                costs.p_star, guard, **mirror), guard)
print("replacement:", run_new.reason)
broken_from = migration.stage_start(plan, "canary 1%")
run_bad = rollout.run_rollout(plan, migration.mirrored_observer(p_eval_legacy, p_eval_new, threshold_legacy, costs.p_star,
                                                                guard, broken_score=p_broken, broken_from=broken_from,
                                                                **mirror), guard)
rollback = migration.rollback_time(run_bad, window_days=window_days, broken_from=broken_from)
print("broken join from the first canary window:", run_bad.reason)
print(f"time to roll back: {rollback['days']} days ({rollback['windows']} windows of {window_days} day(s)); the broken "
      f"model served {rollback['served_while_broken']:,} decisions meanwhile")
alarm_guard = migration.guard_false_alarm_rate(guard, p_eval_legacy, p_eval_new, threshold_legacy, costs.p_star, plan=plan,
                                               traffic_per_window=traffic, runs=runs, seed=P.seed)
print(f"replays of the healthy replacement: the label-free guard fired in {alarm_guard:.0%} of {runs}")
run_bad.trigger.table().round(3).tail(4)

# %% [markdown]
# **The rule, plainly.** In shadow and canary only the label-free guard protects customers; it judges
# faithfulness to the validated model, not business value. Whether the replacement is *better* was settled
# before any traffic moved (the paired interval above); whether it *stays* better is read from outcomes as
# their labels arrive, over months (post-market monitoring, section 1's monitors), where the 5% trigger
# becomes an outcome monitor rather than a rollback switch.
#
# ### The sunset plan
#
# Decommissioning is a lifecycle stage with its own plan (NIST AI RMF **GOVERN 1.7**: processes to
# decommission and phase out AI systems safely; **MANAGE 2.4**: mechanisms to supersede, disengage or
# deactivate a system whose outcomes are inconsistent with its intended use): milestones with owners dated
# from the rollout calendar above, a data fallback, and records retained after the model is gone.

# %%
sunset = migration.sunset_plan(P.variant)
print("data fallback:", *migration.data_fallback(P.variant), sep="\n  ")
sunset

# %%
retention = migration.record_retention(P.variant)
retired_week = int(sunset.week.max())
retired_month = P.months + int(np.ceil(retired_week * 7 / tx.DAYS_PER_MONTH))
entry.retire(on=f"week {retired_week} of the migration (month {retired_month})",
             retain_until=migration.retain_until(P.variant, service_month=1, retired_month=retired_month),
             note=f"superseded by the {decision['option']} option; card and logs archived")
print(entry.to_markdown())
retention

# %% [markdown]
# ## 9. Incident report
#
# **Stage: monitoring and governance.** The degradation was an incident if the expected cost per decision
# rose more than 20% against the first three months (the level that triggers revalidation). The report
# answers the same questions every time: timeline, the monitor that caught it, the impact in money (excess
# cost over the first three months' level, from the cost matrix, at the production volume the business case
# uses), the root cause, the time to roll back, whether AI Act Art 73 applies (serious incidents reported
# within 15 days), and actions with owners. Without a breach, the same sections record a monitoring review.

# %%
from lifecycle_lab.governance import incident

assessment = casefile.assess_incident(
    variant=P.variant, cost_increase=evidence["cost_increase"], monthly=monthly, baseline_per_1k=baseline_per_1k,
    data_onset=data_onset, concept_onset=concept_onset, volume_per_year=inputs.volume_per_year,
    equalized_odds_difference=parity_before["equalized_odds_difference"], four_fifths_flagged=screen.flagged)
degraded, root, impact, art73 = (assessment[k] for k in ("degraded", "root_cause", "impact", "art73"))
report = casefile.incident_report(
    assessment, entry=entry, variant=P.variant, months=P.months, cost_increase=evidence["cost_increase"],
    data_onset=data_onset, concept_onset=concept_onset, detected=detected, detection_lag=lag,
    share_drifted=share_drifted, volume_per_year=inputs.volume_per_year, rollback=rollback, window_days=window_days,
    weeks_of_full_traffic=reach.attrs["days_at_full_traffic"] / 7, last_ramp_week=int(sunset.week.iloc[-3]))
report_md = report.to_markdown()
(out / "incident_report.md").write_text(report_md)
Markdown(report_md)

# %% [markdown]
# ## 10. The checklist, marked from the evidence on file
#
# **Stage: governance.** Back to the duties of section 3, for the legacy system as it is operated today.
# Each mark is read from what this notebook produced: the decision log checked in section 1, the risk
# assessment, the drift report and monthly outcomes, the model card (which Art 13(3) items it covers), the
# documents on disk (which Annex IV items are missing), the explanations and the incident report. Three
# facts are about the organisation and cannot be computed here; they are declared, and marked as such.

# %%
declared = {"qms": False, "fria_done": False, "authority_reporting": False}  # organisational facts, stated
reg_evidence = {
    "risk_assessment": (out / "risk_assessment.md").is_file(), "continuous_risk_process": bool(triggers),
    "drift_analysis": (out / "drift_report.html").is_file() and (out / "monthly_performance.csv").is_file(),
    "fairness_audit": len(mitigation) > 0, "model_card": all(modelcard.sections_present(card).values()),
    "technical_documentation": regulation.annex_iv_missing(out), "event_logging": log_check,
    "human_review": P.human_review, "accuracy_maintained": evidence["cost_increase"] <= 0.1,
    "log_retention_months": P.log_retention_months, "monitoring_lag_months": lag,
    "incident_process": all(f"## {s}\n" in report_md for s in incident.SECTIONS) and bool(report.actions),
    "per_decision_explanations": additivity_error < 1e-9,
    "reason_codes": P.variant == "credit" and len(reasons_by_design["legacy"]) > 0,
    "instructions_for_use": regulation.art13_missing({"legacy model card": card}), **declared}
checklist = regulation.checklist(P.variant, reg_evidence)
(out / "ai_act_checklist.md").write_text(regulation.to_markdown(checklist, P.variant) + "\n")
print(regulation.summary(checklist))
Markdown(regulation.to_markdown(checklist, P.variant))

# %% [markdown]
# ## 11. From one model to a platform: a lifecycle governance framework
#
# **Stage: all of them.** Everything above was done for one model, after the fact. A head of AI products
# makes it the default for every team: mandatory **stage gates** (a data ethics review before training, a
# performance SLA before deployment, ...), scaled to the risk tier so that low-risk tools are not slowed
# down; a **governance council** (product, engineering, legal, ethics, model risk) that reviews high-risk
# models; a **standard stack** (feature store, model registry, monitoring); and **playbooks and templates**:
# the generated documents of this notebook. The table shows what this model owes, and which gates the
# evidence in this notebook already covers (read from the files it wrote; the rest declared).

# %%
from lifecycle_lab.governance import framework

owed = framework.gates(tier_number, high_risk=ai_act["high_risk"])
route = framework.review_route(tier_number, high_risk=ai_act["high_risk"])
on_file = {"use-case and risk triage": (out / "risk_assessment.md").is_file(),
           "performance SLA defined before deployment": (out / "model_card_replacement.md").is_file(),
           "fairness and explainability review": reg_evidence["fairness_audit"] and reg_evidence["per_decision_explanations"],
           "launch checklist and rollback rehearsed": run_bad.rolled_back and run_new.completed,
           "decommissioning plan": len(sunset) > 0,
           "independent validation (effective challenge)": (out / "validation_report.md").is_file(),
           "data ethics review before training": (out / "datasheet.md").is_file(),
           "monitors live with owners": False, "reproducible training run": False,
           "council sign-off": False}  # the last three: declared, nothing in this notebook can show them
gate_table = framework.gate_status(owed, {k: v for k, v in on_file.items() if k in set(owed.gate)})
print(f"review route: {route['route']} ({', '.join(route['members'])}): {route['why']}")
print("standard stack:", *[f"{k}: {v}" for k, v in framework.STACK.items()], sep="\n  - ")
gate_table

# %% [markdown]
# The missing gates are the work list: the P(Y|X) monitor goes live with the replacement, validation and
# the council sign-off come before the canary, and the legacy model's missing datasheet and reproducible
# training run are exactly why retiring it is cheaper than repairing its paperwork.
#
# The framework here is a table for one model. Notebook `06_advanced_platform_governance` builds it for a
# whole platform of a dozen models: the gates as a validated policy file per lifecycle stage and risk tier, a
# checker over an MLflow registry that finds the gaps, a promotion guard on the `champion` alias, the
# council's queue and decision records, and playbooks generated from the policy.

# %% [markdown]
# ## Summary
#
# The decisions of this case file, as one line the course runner and the tests read.

# %%
from lifecycle_lab.course import summary

design = "legacy" if decision["option"] in ("patch", "status_quo") else "replacement"
reason_features = [r["feature"] for r in reasons_by_design[design]]
facts = dict(
    recommendation=decision["option"], variant=P.variant, risk_tier=tier_number, high_risk=ai_act["high_risk"],
    risk_scores=scores, npv={r.option: round(float(r.npv), -3) for r in options_table.itertuples()},
    near_tie=tie is not None, p_star=round(costs.p_star, 4), best_threshold_replacement=best_new,
    legacy_threshold=threshold_legacy, concept_onset=concept_onset, detected_month=detected,
    data_drift_onset=data_onset, share_drifted=round(share_drifted, 3), reasons=len(reason_features),
    reason_design=design, reason_features=reason_features, additivity_ok=bool(additivity_error < 1e-9),
    dp_difference=round(parity_before["demographic_parity_difference"], 4),
    eo_difference=round(parity_before["equalized_odds_difference"], 4),
    four_fifths_flagged=list(map(str, screen.flagged)),
    reweighing_eo=round(float(rw.eo_difference), 4), replacement_eo=round(float(plain.eo_difference), 4),
    adopt_reweighing=adopt_reweighing, checklist=regulation.summary(checklist))

# %%
summary(f"{P.variant}: {entry.risk_tier}, AI Act {ai_act['tier']}; recommend {decision['option']} "
        f"(NPV EUR {float(decision['npv']) / 1e6:.2f}M over {P.horizon_years} y)",
        **facts, checklist_status=dict(zip(checklist.article, checklist.status)), decision_log_complete=log_check["complete"],
        promote_gate=gate["promote"], label_trigger_sees_5pct=bool(reach["sees a 5% drop"].any()),
        label_trigger_counted=counted_ours, false_alarm_naive=round(alarm_naive, 3),
        false_alarm_guarded=round(alarm_guarded, 3), false_alarm_naive_big=round(alarm_naive_big, 3),
        false_alarm_guarded_big=round(alarm_guarded_big, 3), broken_stopped_at_volume=run_big.stopped_stage,
        guard_false_alarm=round(alarm_guard, 3), canary_completed=run_new.completed,
        broken_rolled_back=run_bad.rolled_back, broken_stage=run_bad.stopped_stage, rollback_days=rollback["days"],
        window_days=window_days, incident=degraded, root_cause=root, impact_eur=round(impact["total"], -2),
        impact_volume_per_month=round(inputs.volume_per_year / 12), art73_applies=bool(degraded and art73["applies"]),
        inventory_status=entry.status, eval_rows=len(eval_window), review_route=route["route"],
        gates_missing=int((gate_table.status == "missing").sum()), cost_increase=round(evidence["cost_increase"], 3))
