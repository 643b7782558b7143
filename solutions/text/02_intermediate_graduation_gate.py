# %% [markdown]
# # 02 · Intermediate: the graduation gate of a recommender with a "15% offline lift"
#
# A data science team shows a new recommendation model (the **challenger**) that beats today's popularity
# model (the **champion**) by about 15% in offline accuracy. You own the decision whether it launches. In
# this notebook you design and run the evaluation that decides it, on a simulated world whose truth is
# known, so every number can be checked (the last section compares your estimates with that truth):
#
# | section | lifecycle stage | what you do |
# |---|---|---|
# | 1 | evaluation planning | write the graduation criteria **before** looking at any result |
# | 2 | offline evaluation | ranking metrics with intervals; why offline lift is not online lift |
# | 3 | experiment design | sample size, duration, sample-ratio check, peeking vs sequential tests |
# | 4 | online evaluation | an A/B test with the planned sample, results with intervals |
# | 5 | responsible AI | per-segment outcomes with fairlearn, bootstrap intervals, other attributes, exposure |
# | 6 | monitoring | training data vs current traffic: PSI, KS, an Evidently report; data vs concept drift |
# | 7 | deployment | a load test, then shadow, dogfood, 1% canary, ramp, full, with automated rollback |
# | 8 | the gate | GO / NO-GO / GO WITH CONDITIONS with evidence, checklist, decision memo |
#
# Course text: chapters *Evaluation*, *Deployment* and *Monitoring* in `course/`. Main references:
# Kohavi et al. 2009 (controlled experiments), Breck et al. 2017 (ML Test Score), the fairlearn user guide,
# the Evidently, Flagger and Argo Rollouts docs.

# %% [markdown]
# ## Parameters
#
# The knobs change the world, and the right decision changes with them. Try `inject_regression=True` (a
# broken page build; with `regression_share=0.15` only some requests break), `challenger_latency_ms=300`
# (too slow) or `150` (fast enough, but users browse less), `underserved_segment="none"` with `drift=0`
# (a clean world), `challenger_quality=0`, `drift=1.0`, `concept_drift=0.8`, `srm_loss=0.05` (a redirect
# loses users in one arm) or `challenger_instance_usd_per_h=3.06` (GPU instances).
#
# `seed` draws fresh traffic from the same world; `world_seed` builds another world (another catalogue and
# training log, so other true effects). The cell after the parameters checks every value against its
# declaration (`projects/p02_gate/parameters.py`: type, bounds, meaning) and refuses up front a plan the
# notebook cannot run: a planned lift so small, on a world whose CTR is so low, that the A/B test would need
# more than 500,000 users per arm.

# %% tags=["parameters"]
seed = 42                     # drives every sample drawn from the world (users, traffic, clicks)
world_seed = 42               # the world itself: catalogue, training log, trained models, hence the truth
n_items = 400                 # items in the catalogue
fast = False                  # True: smaller samples (offline users, drift rows, bootstrap, simulations)
output_dir = None             # where the criteria, the drift report and the memo go (default build/outputs/02_...)
challenger_quality = 0.55     # share of the fitted personal weight the challenger uses (0: it is the champion)
challenger_latency_ms = 40.0  # the challenger's feature-store call, awaited on every request
underserved_segment = "new"   # the segment whose history the challenger mis-joins ("none" to switch off)
drift = 0.5                   # data drift of current traffic vs training data (0 to 1)
concept_drift = 0.0           # share of taste that moved since the history was logged (0 to 1)
inject_regression = False     # the page build being rolled out has a stale item-id table
regression_share = 1.0        # share of live requests that hit the stale table (with inject_regression)
srm_loss = 0.0                # share of the challenger arm's new users a redirect loses before logging
challenger_instance_usd_per_h = 0.17  # price of each of the challenger's two model servers
target_rps = 200.0            # the request rate the latency criterion is measured at
planned_lift = 0.06           # the smallest relative CTR lift the A/B test is sized to detect

# %%
from lifecycle_lab.projects import p02_gate as project

P = project.PARAMETERS.validate(globals())  # types, bounds, and a plan the notebook can run
print(P)

# %%
from lifecycle_lab.base import paths
from lifecycle_lab.projects.p02_gate import parameters
from lifecycle_lab.projects.p02_gate.world import RecsysWorld

world, settings = RecsysWorld(parameters.world_config(P)), parameters.review_settings(P)
out = paths.output_dir(project.NOTEBOOK, P.output_dir)
s = world.structure
print(f"both models trained on a logged grid of {s.log_impressions:,} impressions ({s.log_clicks:,} clicks); "
      f"fitted personal weight {s.personal_weight:.3f} (the challenger uses {P.challenger_quality} of it)")

# %% [markdown]
# ## 1. Graduation criteria, written down first
#
# *Lifecycle stage: evaluation planning.* Criteria chosen after seeing results bend to fit them. So the
# gate is written first, as **data** that a program can check, in three groups:
#
# - **technical**: p99 latency at the target request rate (measured for real in section 7), cost per 1,000
#   requests, C = sum(instance $/h) / (requests/s x 3600) x 1000, and the health of the inputs and of serving;
# - **business**: online CTR lift (promote only if its interval lies above zero) and session duration;
# - **ethical**: outcomes per user segment: no segment may lose much to the launch.
#
# Each criterion has a **severity**: a *blocker* must pass; a *condition* that fails becomes a launch
# condition (GO WITH CONDITIONS). The gate engine (`lifecycle_lab.gates`) knows no metric of its own: this project's catalogue, `team_criteria.METRICS`, lists the metrics the recommender's gate knows.

# %%
from lifecycle_lab.projects.p02_gate import criteria as team_criteria

for name, spec in team_criteria.METRICS.items():
    print(f"{spec.group:9} {name:32} {spec.unit:8} {spec.description}")

# %% [markdown]
# The team keeps its criteria in a reviewed file that ships with the package. Besides the rules it names the
# launch's owners and who is told what, and when (the communication plan):

# %%
team = team_criteria.load()  # the shipped file, validated against team_criteria.METRICS
print(f"{team_criteria.CRITERIA_FILE.name}: '{team.name}', {len(team.items)} criteria")
print("owners:", dict(team.owners))
print("communication:", dict(team.communication))

# %% [markdown]
# **Exercise 1.** Write the criteria yourself: three lists of criteria, `technical` (the first cell below),
# `business` and `ethical` (the second), each criterion a dict with `metric`, `op`, `threshold`, `severity`
# and `why`. The product's requirements:
#
# - p99 latency under 200 ms at the target rate (a blocker);
# - at most 1 cent (0.01 USD) per 1,000 requests (a blocker);
# - a CTR lift whose interval lies above zero (a blocker);
# - session minutes may not fall by more than 2%;
# - no segment may lose more than 10% of its CTR.
#
# The check accepts rules at least as strict as these that can still pass, in each metric's unit (a p99
# budget of 0.2 is seconds typed where milliseconds are meant, and is refused); add the other metrics you
# think the gate needs.

# %%
from lifecycle_lab.projects.p02_gate import exercises

ex1 = exercises.criteria_exercise()
### BEGIN SOLUTION
technical = [
    {"metric": "p99_latency_ms", "op": "<", "threshold": 200, "severity": "blocker",
     "why": "the page waits on the recommendation; above 200 ms users see a blank slot"},
    {"metric": "cost_per_1k_usd", "op": "<=", "threshold": 0.01, "severity": "blocker",
     "why": "the budget allows 1 cent per 1,000 requests at the target rate"},
    {"metric": "max_feature_psi", "op": "<", "threshold": 0.25, "severity": "condition",
     "why": "major input drift means the offline evaluation describes a different population"},
    {"metric": "concept_drift_detected", "op": "==", "threshold": False, "severity": "condition",
     "why": "if clicks given the same features moved, the model learned yesterday's tastes"},
    {"metric": "serving_skew_share", "op": "<=", "threshold": 0.01, "severity": "blocker",
     "why": "serving must compute what was evaluated (ML Test Score Monitor 3)"},
    {"metric": "canary_rolled_back", "op": "==", "threshold": False, "severity": "blocker",
     "why": "a canary the automated trigger rolled back has failed in production"},
]
### END SOLUTION
#> technical = None  # [{"metric": ..., "op": ..., "threshold": ..., "severity": ..., "why": ...}, ...]

# %%
### BEGIN SOLUTION
business = [
    {"metric": "ctr_relative_lift", "op": ">", "threshold": 0.0, "severity": "blocker",
     "why": "promote only if the CTR lift's interval lies above zero"},
    {"metric": "session_minutes_relative_change", "op": ">=", "threshold": -0.02, "severity": "condition",
     "why": "more clicks must not come at the cost of shorter sessions"},
    {"metric": "srm_pvalue", "op": ">=", "threshold": 0.001, "severity": "blocker",
     "why": "a sample-ratio mismatch means the split is broken and no result can be trusted"},
]
ethical = [
    {"metric": "worst_segment_relative_lift", "op": ">=", "threshold": -0.10, "severity": "condition",
     "why": "no user segment may lose more than 10% CTR to the launch"},
    {"metric": "segment_ctr_ratio", "op": ">=", "threshold": 0.4, "severity": "condition",
     "why": "the worst-served segment gets at least 40% of the best one's CTR"},
]
### END SOLUTION
#> business = None  # [{...}, ...]
#> ethical = None  # [{...}, ...]
answer = ex1.check({"technical": technical, "business": business, "ethical": ethical})

# %% [markdown]
# Your criteria, with the team's owners and communication plan, become this launch's criteria file, and the
# review reads them back from it. The loader is strict on purpose: a file with a missing field, an unknown
# metric or a threshold that can never hold (or never fail) is refused with a message that names the file
# and says what to fix.

# %%
from lifecycle_lab import gates

criteria_file = team_criteria.write({"name": team.name, **answer, "owners": dict(team.owners),
                                     "communication": dict(team.communication)}, out / "criteria.yaml")
criteria = team_criteria.load(criteria_file)
print(f"{criteria_file.name}: {len(criteria.items)} criteria accepted")
broken = {**answer, "ethical": [{"metric": "segment_ctr_ratio", "op": ">=", "threshold": 1.5,
                                 "severity": "condition", "why": "a typo: 150%"}]}
import yaml

(out / "broken_criteria.yaml").write_text(yaml.safe_dump(broken, sort_keys=False))
for attempt in (lambda: team_criteria.load(out / "broken_criteria.yaml"),
                lambda: team_criteria.validate("criteria.yaml"),
                lambda: team_criteria.validate({**answer, "owners": {"on-call": ""}})):
    try:
        attempt()
    except gates.CriteriaError as err:
        print("refused:", err)

# %% [markdown]
# ## 2. Offline evaluation: what the 15% means
#
# *Lifecycle stage: offline evaluation.* The team's number comes from held-out **logged** clicks: for
# users of the training period, which of the items they clicked does each model put in its top 10? We
# recompute it with an interval (users differ a lot, so a mean without an interval says little), and a
# **paired** bootstrap of the lift (both models scored on the same users).
#
# The review below runs each step of the evaluation on the simulator (`projects.p02_gate.review.RecsysReview`); the tests and
# benchmarks run the same steps.

# %%
from lifecycle_lab.projects.p02_gate import review as recsys

review = recsys.RecsysReview(world, settings, criteria, out, P.seed)
offline = review.offline()
print(offline["table"].round(4).to_string(index=False))
lift = offline["recall_lift"]
print(f"\nrecall@10 lift of the challenger: {lift['lift']:+.1%} (95% CI {lift['lower']:+.1%} to {lift['upper']:+.1%})")

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np

tab = offline["table"]
fig, ax = plt.subplots(figsize=(7, 3.5))
metrics = list(tab.metric.unique())
for j, model in enumerate(["champion", "challenger"]):
    part = tab[tab.model == model].set_index("metric").loc[metrics]
    x = np.arange(len(metrics)) + (j - 0.5) * 0.35
    ax.bar(x, part["mean"], 0.35, yerr=[part["mean"] - part["lower"], part["upper"] - part["mean"]],
           capsize=3, label=model)
ax.set_xticks(np.arange(len(metrics)), metrics)
ax.set_ylabel("mean over users (0-1)")
ax.set_xlabel("ranking metric on held-out logged clicks")
ax.set_title("Offline ranking metrics with 95% bootstrap intervals")
ax.legend()
plt.show()

# %% [markdown]
# **Why offline lift is not online lift** (ML Test Score Model 2):
#
# - the logs only contain items the **old** system chose to show, so the test set is biased toward popular
#   items (a model that recommends outside that set gets no credit, even when users would click);
# - the logs come from a browse grid, where taste drives clicks more than in the single hero slot the
#   product shows; the challenger's personal weight was even fitted on that grid. Online, one click on one
#   slot is the outcome: a different metric on a different surface;
# - current traffic is not the training period's (section 6): more new users, whom a history-based
#   model helps least, or even harms;
# - bugs and latency exist only online (section 7).
#
# The offline number is evidence that the model learned something, not a forecast of the online lift:
# plan for less (section 4 measures how much less). So the experiment is sized for a lift we would still
# care about, well below the offline claim; sized for the offline number, it would be too small to see the
# lift that actually shows up online.
#
# ## 3. Experiment design
#
# *Lifecycle stage: online evaluation planning.* Users per arm to detect a relative CTR lift `d` from
# baseline `p1` (two-sided alpha 0.05, power 0.8):
#
# n = [z(1-a/2) sqrt(2 p(1-p)) + z(1-b) sqrt(p1(1-p1) + p2(1-p2))]^2 / (p2 - p1)^2, p the mean of p1, p2;
# and Kohavi's rule of thumb n ~ 16 s^2 / d^2 with s^2 = p(1-p), d the absolute difference.
# Worked values: 5% baseline, +5% relative -> ~122k per arm; +15% -> ~14.2k; 2% baseline, +5% -> ~315k.

# %%
from lifecycle_lab.evaluation import experiment

for p, d in ((0.05, 0.05), (0.05, 0.15), (0.02, 0.05)):
    print(f"baseline {p:.0%}, lift {d:+.0%}: exact {experiment.sample_size_per_arm(p, d):>7,} per arm, "
          f"16 s^2/d^2 {experiment.rule_of_thumb_per_arm(p, d):>7,}")
print(f"\nthe champion's CTR in the logs: {review.settings.baseline_ctr:.4f}; "
      f"we plan for a {P.planned_lift:+.0%} relative lift")

# %% [markdown]
# **Exercise 2.** Compute the users per arm for our baseline (`review.settings.baseline_ctr`) and planned
# lift, with the exact formula and with the rule of thumb. Put them in a dict
# `{"exact": ..., "rule_of_thumb": ...}`.

# %%
ex2 = exercises.sample_size_exercise(review.settings.baseline_ctr, P.planned_lift)
### BEGIN SOLUTION
from statistics import NormalDist

p1 = review.settings.baseline_ctr
p2 = p1 * (1 + P.planned_lift)
pm = (p1 + p2) / 2
za, zb = NormalDist().inv_cdf(0.975), NormalDist().inv_cdf(0.8)
answer = {"exact": int(np.ceil((za * np.sqrt(2 * pm * (1 - pm)) + zb * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
                               / (p2 - p1) ** 2)),
          "rule_of_thumb": int(np.ceil(16 * p1 * (1 - p1) / (p1 * P.planned_lift) ** 2))}
### END SOLUTION
#> answer = None  # {"exact": ..., "rule_of_thumb": ...}
answer = ex2.check(answer)

# %%
plan = review.plan()
n_per_arm = plan["n_per_arm"]
print(f"users per arm: {n_per_arm:,} (rule of thumb {plan['rule_of_thumb']:,}, "
      f"{plan['rule_of_thumb'] / n_per_arm - 1:+.1%} apart)")
print(f"at {settings.daily_users:,} daily users: {plan['days_at_1pct']:.1f} days with a 1% canary arm, "
      f"{plan['days_at_50pct'] * 24:.1f} hours with a 50/50 split")

# %% [markdown]
# A 1% canary is a safety device, not an experiment design: collecting this sample in a 1% arm takes days
# (above), in a 50/50 split a few hours. The A/B test below splits 50/50; the canary in section 7 watches
# for breakage, with its own rule.
#
# ### Sample-ratio mismatch: check the split before reading any metric
#
# If users were assigned 50/50 but the logged counts differ by more than chance, something removed users
# unevenly (a redirect, a crash, a bot filter), and the comparison is biased whatever it shows. The check
# is a chi-square goodness-of-fit test on the counts; the usual alarm is p < 0.001.
#
# **Exercise 3.** Two logged experiments' counts are below. Compute each p-value (keys `pvalue_experiment_1`
# and `pvalue_experiment_2`) and say which one is broken (`broken`).

# %%
from lifecycle_lab.projects.p02_gate.world import srm_demo_counts

counts = srm_demo_counts(100_000, seed=P.seed)
print(counts)
ex3 = exercises.srm_exercise(counts)
### BEGIN SOLUTION
answer = {f"pvalue_{name}": experiment.srm_check(c).pvalue for name, c in counts.items()}
answer["broken"] = [name for name, c in counts.items() if experiment.srm_check(c).mismatch][0]
### END SOLUTION
#> answer = None  # {"pvalue_experiment_1": ..., "pvalue_experiment_2": ..., "broken": ...}
answer = ex3.check(answer)

# %% [markdown]
# ### Peeking, and what a sequential test does about it
#
# A fixed-horizon test is read **once**, at the planned sample. Reading it every day and stopping at the
# first p < 0.05 inflates the false-positive rate far above 5%. Below, A/A tests (no real difference) are
# simulated and read 20 times. An **always-valid** test (mSPRT, Johari et al. 2017) may be read at any
# time: it stops when a mixture likelihood ratio reaches 1/alpha, and its false-positive rate stays at or
# below alpha however often you look (alpha-spending plans such as O'Brien-Fleming do the same for a fixed
# number of planned looks).

# %%
n_sims = 500 if P.fast else 2000
aa = experiment.peeking_simulation(review.settings.baseline_ctr, n_per_arm, looks=20, n_sims=n_sims, seed=P.seed)
ab_sim = experiment.peeking_simulation(review.settings.baseline_ctr, n_per_arm, looks=20, n_sims=n_sims,
                                       lift=P.planned_lift * 1.5, seed=P.seed + 1)
rules = ["fixed", "peeking", "always_valid"]
print(f"rule          false positives (A/A)   detections of a real {P.planned_lift * 1.5:+.0%} lift")
for r in rules:
    print(f"{r:13} {aa[r]:>10.1%} {ab_sim[r]:>24.1%}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(rules, [aa[r] * 100 for r in rules], color=["tab:blue", "tab:red", "tab:green"])
ax.axhline(5, color="black", linestyle="--", label="alpha = 5%")
ax.set_ylabel("false-positive rate (%)")
ax.set_xlabel("how the A/A test is read (20 looks)")
ax.set_title("Peeking inflates false positives; an always-valid test does not")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. The online test
#
# *Lifecycle stage: online evaluation.* Current traffic is randomised 50/50; each user sees their arm's
# hero recommendation. First the split, then CTR and session minutes with intervals.

# %%
ab_read = review.ab()
ab = review.parts["ab_frame"]
srm, ctr, minutes = ab_read["srm"], ab_read["ctr"], ab_read["minutes"]
print(f"assignment counts {srm.observed}: chi2 = {srm.chi2:.2f}, p = {srm.pvalue:.3g} -> "
      f"{'MISMATCH: the split is broken, no result below can be trusted' if srm.mismatch else 'no mismatch'}")
print(f"CTR champion {ctr.rate_a:.4f}, challenger {ctr.rate_b:.4f}: lift {ctr.relative_lift:+.1%} "
      f"(95% CI {ctr.relative_ci[0]:+.1%} to {ctr.relative_ci[1]:+.1%}), p = {ctr.pvalue:.2g}")
print(f"session minutes {minutes['mean_a']:.2f} vs {minutes['mean_b']:.2f}: {minutes['relative']:+.1%} "
      f"(95% CI {minutes['relative_ci'][0]:+.1%} to {minutes['relative_ci'][1]:+.1%})")
print(f"offline recall@10 lift {lift['lift']:+.1%} vs online CTR lift {ctr.relative_lift:+.1%}: "
      f"the online lift came out {'smaller' if ctr.relative_lift < lift['lift'] else 'larger'}; "
      f"the test was sized for {P.planned_lift:+.0%}")
print("promote on CTR (interval above zero)?", experiment.promote(ctr))

# %% [markdown]
# ## 5. Bias audit across segments
#
# *Lifecycle stage: responsible AI.* An average lift can hide a group that loses. fairlearn's
# `MetricFrame` gives the CTR per segment in each arm with the between-group difference and ratio; each
# segment's lift across arms gets an interval; bootstrap intervals show how sure each per-segment CTR is,
# and how sure the ratio is.

# %%
audit = review.audit()
for model, table in audit["tables"].items():
    print(f"{model}: CTR by segment (fairlearn MetricFrame)")
    print(table.round(4).to_string(), "\n")
print("challenger vs champion, per segment")
print(audit["lifts"].round(4).to_string())
print("\nchallenger CTR per segment, bootstrap 95% intervals (the difference row: max - min)")
print(audit["bootstrap"].round(4).to_string())
lo, hi = audit["ratio_ci"]
print(f"\nchallenger min/max CTR ratio {audit['tables']['challenger'].loc['ratio', 'ctr']:.3f} "
      f"(bootstrap 95% CI {lo:.3f} to {hi:.3f})")

# %% [markdown]
# Segments are not the only way users differ. The same lift per region, per device and per segment x device
# (an intersection: small groups, wide intervals), each attribute's worst group shown; and the **exposure**
# per segment: its share of each arm's users and clicks, and the share of the items shown in the test that
# it got to see (the champion shows everyone in a region the same item; the challenger spreads).

# %%
print(audit["worst"].round(4).to_string())
print()
print(audit["exposure"].round(3).to_string())

# %%
lifts = audit["lifts"]
fig, ax = plt.subplots(figsize=(6, 3))
y = np.arange(len(lifts))
ax.errorbar(lifts["relative_lift"] * 100, y, xerr=[(lifts["relative_lift"] - lifts["lower"]) * 100,
                                                   (lifts["upper"] - lifts["relative_lift"]) * 100], fmt="o")
ax.axvline(0, color="black")
rule = criteria.get("worst_segment_relative_lift")
ax.axvline(rule.threshold * 100, color="red", linestyle="--", label=f"ethical criterion: {rule.threshold:+.0%}")
ax.set_yticks(y, lifts.index)
ax.set_xlabel("CTR lift of the challenger (%), 95% CI")
ax.set_ylabel("user segment")
ax.set_title("Who gains and who loses from the challenger")
ax.legend()
plt.show()

# %% [markdown]
# **Exercise 4.** Read the tables: which segment gains least (`worst_segment`), what is the challenger's
# min/max CTR ratio across segments (`ctr_ratio`), and what does your ethical criterion (printed below) make
# of the worst segment's interval, for the gate (`consequence`: "meets the bar", "a launch condition" or
# "blocks the launch")?

# %%
print("your ethical criterion:", rule.rule(), f"({rule.severity})")
ex4 = exercises.fairness_exercise(ab, threshold=rule.threshold, op=rule.op, severity=rule.severity)
### BEGIN SOLUTION
worst = lifts["relative_lift"].idxmin()
low, high = lifts.loc[worst, "lower"], lifts.loc[worst, "upper"]
status = "PASS" if low >= rule.threshold else "FAIL" if high < rule.threshold else "INCONCLUSIVE"
answer = {"worst_segment": worst, "ctr_ratio": float(audit["tables"]["challenger"].loc["ratio", "ctr"]),
          "consequence": ("meets the bar" if status == "PASS" else
                          "blocks the launch" if rule.severity == "blocker" else "a launch condition")}
### END SOLUTION
#> answer = None  # {"worst_segment": ..., "ctr_ratio": ..., "consequence": ...}
answer = ex4.check(answer)

# %% [markdown]
# ## 6. Drift: training data vs current traffic
#
# *Lifecycle stage: monitoring.* The offline evaluation used the training period's users. Is today's
# traffic the same population? Per numeric feature: the **PSI** (sum over reference deciles of
# (A_i - E_i) ln(A_i / E_i); folklore bands < 0.1 stable, 0.1-0.25 moderate, > 0.25 major, which move with
# the binning) and the **KS** test (D = the largest gap between the two CDFs; with thousands of rows almost
# any shift is "significant", so read D, not only p). Per categorical feature: the PSI over the category
# shares, the Jensen-Shannon distance and a chi-square test.
#
# **Exercise 5.** Compute the PSI of `tenure_days` yourself (decile bins of the reference, shares floored at
# 1e-4). `monitor.psi_table` shows the bins if you want to compare.

# %%
from lifecycle_lab.monitoring import drift as monitor

drift_report = review.drift()
reference, current = drift_report["reference"], drift_report["current"]
ex5 = exercises.psi_exercise(reference.tenure_days, current.tenure_days)
### BEGIN SOLUTION
ref_t, cur_t = reference.tenure_days.to_numpy(), current.tenure_days.to_numpy()
edges = np.quantile(ref_t, np.linspace(0.1, 0.9, 9))
e = np.bincount(np.searchsorted(edges, ref_t), minlength=10) / len(ref_t)
a = np.bincount(np.searchsorted(edges, cur_t), minlength=10) / len(cur_t)
e, a = np.maximum(e, 1e-4), np.maximum(a, 1e-4)
answer = float(np.sum((a - e) * np.log(a / e)))
### END SOLUTION
#> answer = None  # the PSI of tenure_days, a number
answer = ex5.check(answer)
print(monitor.psi_table(reference.tenure_days, current.tenure_days).round(4).to_string())

# %%
print(drift_report["table"].round(4).to_string())
ev_cols = drift_report["evidently"]
print(f"\nEvidently: {ev_cols['share_drifted']:.0%} of columns drifted, dataset drift = {ev_cols['dataset_drift']}")
for col, r in ev_cols["columns"].items():
    print(f"  {col:18} {r['stattest']:32} score {r['score']:.4f} drifted={r['drifted']}")
print(f"report written: {review.drift_report_path.name}")

# %% [markdown]
# Evidently picks its own tests: above 1,000 reference rows, the Wasserstein distance over the reference's
# standard deviation (>= 0.1) for numbers and the Jensen-Shannon distance (>= 0.1) for categories; the data
# set drifts when half the columns do. Its PSI is another number than ours for the same data, because it bins
# differently: Sturges' rule, equal-width bins over both samples together, instead of the reference's deciles.

# %%
binning = monitor.psi_binning_comparison(reference.tenure_days, current.tenure_days)
print(f"PSI of tenure_days: reference deciles {binning['decile']:.4f} ({monitor.psi_band(binning['decile'])}); "
      f"Sturges bins {binning['sturges']:.4f} ({monitor.psi_band(binning['sturges'])}); "
      f"Evidently's method='psi' {binning['evidently']:.4f}")

# %% [markdown]
# **Data drift or concept drift?** The inputs moving (P(X)) needs no labels. Whether the relation between
# inputs and clicks moved (P(Y|X)) needs labels: we measure the challenger's lift per segment in both
# periods and re-weight today's to the training period's segment mix. If that holds, a change in the
# aggregate lift is the mix (data drift); if it falls, the relation moved (concept drift), whether or not
# the inputs moved too.

# %%
by_seg = drift_report["by_segment"]
print(by_seg.round(4).to_string())
mix = drift_report["mix_adjusted_lift"]
print(f"\nmix-adjusted challenger lift: training period {mix['train']:+.1%}, current {mix['current']:+.1%} "
      f"(se of the difference {mix['se']:.1%}; concept drift when it falls by more than "
      f"{settings.concept_drift_se:g} se)")
print("verdict:", drift_report["kind"])

# %%
fig, ax = plt.subplots(figsize=(6, 3))
for period, marker in (("train", "o"), ("current", "s")):
    part = by_seg.loc[period]
    ax.errorbar(part["lift"] * 100, np.arange(len(part)) + (0.1 if period == "current" else -0.1),
                xerr=1.96 * part["se"] * 100, fmt=marker, label=f"{period} period")
ax.set_yticks(np.arange(len(by_seg.loc["train"])), by_seg.loc["train"].index)
ax.axvline(0, color="black")
ax.set_xlabel("challenger CTR lift per segment (%), 95% CI")
ax.set_ylabel("user segment")
ax.set_title("Lift per segment: training period vs current traffic")
ax.legend()
plt.show()

# %% [markdown]
# ## 7. Load test, then rollout with automated rollback
#
# *Lifecycle stage: deployment.* First latency and cost. A **load test** sends requests to both model
# services at the target rate, open loop (request i is due at i / rate whatever happened before, and its
# latency counts from then), at least 1,000 measured requests each after a warm-up. Each request awaits its remote
# call for real (the challenger's feature store, the champion's cache) and is scored on a worker thread.
# The p99's interval comes from order statistics (how many of the requests can lie below the true p99).
# Measured values vary from run to run; they are printed with a `~`.

# %%
load = review.load_test()
for model, r in load["results"].items():
    lo, hi = r.p99_ci()
    print(f"{model:10} {r.n} requests at ~{r.achieved_rps:.0f}/s (target {r.target_rps:g}), {r.errors} errors: "
          f"p50 ~{r.percentile(50):.1f} ms, p99 ~{r.percentile(99):.1f} ms (95% CI ~{lo:.1f} to ~{hi:.1f})")
p99_rule = criteria.get("p99_latency_ms")
print(f"the gate judges the challenger's p99 interval against {p99_rule.rule()}")

# %%
cost = review.cost()
for model, prices_h in cost["prices"].items():
    print(f"{model:10} instances {' + '.join(f'${p:g}' for p in prices_h)} per hour = ${sum(prices_h):.3f}/h; "
          f"at {P.target_rps:g} requests/s: ${sum(prices_h):.3f} / ({P.target_rps:g} x 3600) x 1000 = "
          f"${cost['cost'][model]:.6f} per 1,000 requests")

# %% [markdown]
# Then the rollout. The serving build goes through **shadow** (mirrored requests, responses discarded: only
# for requests safe to process twice; the load test above is that mirrored traffic, and a p99 over the
# budget stops the rollout before anyone is exposed), **dogfood** (staff), a **1% canary**, a **ramp**
# (20/40/60/80%) and **full**. A rule agreed before deployment watches every window: roll back when
# (M_champion - M_challenger) / M_champion > 5% for 3 consecutive windows, counting only windows where the
# challenger saw at least 1,000 users. Rolling back sets the challenger's weight to 0. Dogfood (staff, a few
# hundred users a window) is for qualitative feedback: the trigger does not judge it. A watched stage whose
# windows were all too small to count is **inconclusive**: it gets up to two more windows, then the rollout
# pauses for a human decision instead of being promoted on no evidence.

# %%
from lifecycle_lab.deployment import rollout

rolled = review.rollout()
log = rolled["log"]
shown_cols = ["window", "stage", "weight", "n_champion", "champion", "n", "challenger"]
print(log.table()[shown_cols].round(4).to_string(index=False))
print("\n" + log.reason)
skew_share = review.skew()
print("served impressions agree with the offline model on "
      + (f"{skew_share:.1%} of requests (ML Test Score Monitor 3)" if skew_share is not None
         else "n/a: nobody was exposed, so there is no served log to compare"))

# %%
tab = log.table()
fig, ax = plt.subplots(figsize=(8, 3.5))
ax.plot(tab.window, tab.champion * 100, "o-", label="champion")
ax.plot(tab.window, tab.challenger * 100, "s-", label="challenger")
for _, row in tab.drop_duplicates("stage").iterrows():
    ax.axvline(row.window - 0.5, color="grey", linewidth=0.5)
    ax.text(row.window - 0.4, ax.get_ylim()[1] * 0.98, row.stage, fontsize=7, rotation=90, va="top")
if log.rolled_back:
    ax.axvline(tab.window.iloc[-1], color="red", linestyle="--", label="rolled back")
ax.set_xlabel("analysis window (index)")
ax.set_ylabel("CTR (%)")
ax.set_title("CTR per rollout window and stage")
ax.legend()
plt.show()

# %% [markdown]
# With a quarter of the traffic per window, the canary's windows hold 500 users, below the trigger's minimum:

# %%
from dataclasses import replace

thin = recsys.rollout_evidence(world, replace(settings, window_users=settings.window_users // 4), P.seed)["log"]
print(thin.outcome + ":", thin.reason)

# %% [markdown]
# **Rehearse the rollback.** A rollback path that has never run is a hope. We replay the rollout with the
# page bug switched on for every request (whatever `inject_regression` says) and check that the trigger
# fires in the canary and the weight returns to 0: that is the checklist's "rollback rehearsed" (ML Test
# Score Infra 7).

# %%
rehearsal = review.rehearsal()
print("rehearsal:", rehearsal.reason)

# %% [markdown]
# **What the trigger catches, and what it misses.** A naive trigger fires on the first bad window, whatever
# its size; on a *healthy* challenger (the true CTRs of this world, no bug) it still fires often, because a
# canary window of 2,000 users is mostly noise. The guarded trigger stays quiet. But the guards cost
# sensitivity. With 2,000 users per canary window, a 10% drop is about one standard error: a realistic
# regression (not the -75% of the rehearsal) is often missed in the canary and caught only in the ramp, once
# a fifth of the users or more see it; a drop near the 5% threshold is often missed altogether. And a
# challenger exactly as good as the champion (the first row) is still rolled back by noise now and then.

# %%
truth = world.true_effects()
p_champ, p_chall = truth["ctr"]["champion"], truth["ctr"]["challenger"]
sims = 100 if P.fast else 300
plan_stages = rolled["plan"]
naive_rate = rollout.false_alarm_rate(p_champ, p_chall, rollout.RollbackTrigger.naive(), plan=plan_stages,
                                      n_sims=sims, seed=P.seed)
guarded_rate = rollout.false_alarm_rate(p_champ, p_chall, rolled["trigger"], plan=plan_stages, n_sims=sims,
                                        seed=P.seed)
print(f"true CTR champion {p_champ:.4f}, challenger {p_chall:.4f}")
print(f"false rollbacks of a healthy build: naive {naive_rate:.0%}, guarded {guarded_rate:.0%} "
      f"({sims} simulated rollouts)")
operating = rollout.trigger_operating_table(p_champ, [0.0, 0.05, 0.10, 0.20, 0.40], rolled["trigger"],
                                           plan=plan_stages, n_sims=sims, seed=P.seed, by_stage="canary 1%")
print("\nguarded trigger vs the size of a real regression (challenger CTR = champion's x (1 - drop)):")
print(operating.round(3).to_string())

# %%
hours = settings.window_hours
n_windows = sum(s.windows for s in plan_stages)
print(f"one analysis window = {settings.window_users:,} users at {settings.daily_users:,} a day = {hours:.1f} hours")
print(f"time to roll back = window x failing windows = {rollout.time_to_rollback(hours * 60, settings.trigger_consecutive) / 60:.1f} hours; "
      f"time to promote through all {n_windows} windows = {n_windows * hours:.1f} hours")

# %% [markdown]
# How this compares with the example values in the documentation of two common tools. They are examples, not
# the tools' defaults: Argo Rollouts' `failureLimit`, for one, defaults to 0, so without it a single failed
# measurement fails the analysis.
#
# | | ours | Flagger | Argo Rollouts |
# |---|---|---|---|
# | metric | business CTR, relative to champion | request success rate >= 99%, p99 <= 500 ms | `successCondition: result >= 0.95` |
# | interval | one analysis window (hours, above) | 1 min | 5 min |
# | failures before rollback | 3 consecutive, n >= 1,000 | threshold of failed checks (e.g. 5) | `failureLimit: 3` (example; the default is 0) |
#
# Time to roll back = interval x failure threshold (Argo: 5 min x 3 = 15 min); time to promote = interval x
# maxWeight / stepWeight (Flagger, 1 min, 5% steps to 50%: 10 min). Those tools' examples watch service
# health; a business metric needs far bigger windows than a success rate, which is why ours last hours.

# %%
print("Flagger, documentation example:", rollout.FLAGGER_EXAMPLE)
print("Argo Rollouts, documentation example:", rollout.ARGO_ROLLOUTS_EXAMPLE)
print(f"Argo time to roll back: {rollout.time_to_rollback(5, 3):.0f} min; "
      f"Flagger time to promote: {rollout.time_to_promote(1, 50, 5):.0f} min")

# %% [markdown]
# ## 8. The gate decision
#
# *Lifecycle stage: launch review.* Every criterion is judged against its evidence: a criterion with an
# interval passes only when the whole interval is on the good side, fails when the whole interval is on
# the bad side, and is inconclusive otherwise. Any blocker that does not pass -> **NO-GO**; otherwise any
# failed or inconclusive condition, or an open checklist item -> **GO WITH CONDITIONS**; otherwise **GO**.
# The launch checklist is computed from the same evidence (the load test, the drift report, the rehearsal,
# the owners and communication plan in the criteria file, the offline interval, the canary, the skew check).

# %%
result = review.gate()
print(result.text_table())
print("\nlaunch checklist:")
for item in result.checklist:
    print(f"  [{'x' if item.done else ' '}] {item.item}: {item.evidence}")
print("\nDECISION:", result.decision)
for b in result.blockers:
    print("  blocker:", b)
for c in result.conditions:
    print("  condition:", c)

# %% [markdown]
# **Exercise 6.** Fill in the decision memo: `decision`, `failed_criteria` (a list of metrics; `["none"]`
# when all pass), `conditions` (for a GO `["none"]`; for GO WITH CONDITIONS one per failed condition and per
# open checklist item, each naming it; for a NO-GO what must change, naming each blocker) and a `rationale`
# of two or three sentences that states the decision and names the evidence. The check compares every field
# with the gate table and checklist above.

# %%
ex6 = exercises.memo_exercise(result)
### BEGIN SOLUTION
failed = result.failed()
blocking = [r["metric"] for r in result.rows if r["status"] != "PASS" and r["severity"] == "blocker"]
if result.decision == "NO-GO":
    conditions = [f"{m}: must pass before the next review" for m in blocking]
else:
    conditions = ([f"{m}: owner model owner; fix before widening beyond the affected users" for m in failed]
                  + [f"{i.item}: complete before launch" for i in result.checklist if not i.done])
answer = {
    "decision": result.decision,
    "failed_criteria": failed or ["none"],
    "conditions": conditions or ["none"],
    "rationale": (f"The gate says {result.decision}. Criteria that did not pass: "
                  f"{', '.join(failed) or 'none; ctr_relative_lift and every other criterion passed'}. "
                  f"Each verdict uses the interval of its evidence from the A/B test, the audit, the drift check, "
                  f"the load test and the rollout, judged against criteria written before the results."),
}
### END SOLUTION
#> answer = None  # {"decision": ..., "failed_criteria": [...], "conditions": [...], "rationale": "..."}
answer = ex6.check(answer)

# %%
memo_md = review.memo(answer)
print(memo_md)
print(f"memo written: {(out / 'decision_memo.md').name}")

# %% [markdown]
# ### Check against the truth
#
# The simulator knows what the experiment estimated: the expected CTR of each model on current traffic,
# from the hidden click model. An interval from a well-sized test covers the truth about 95% of the time;
# the decision should be the one an oracle with the true effects would make.

# %%
print(f"CTR lift: estimated {ctr.relative_lift:+.1%} (95% CI {ctr.relative_ci[0]:+.1%} to "
      f"{ctr.relative_ci[1]:+.1%}), true {truth['ctr_lift']:+.1%}")
for seg in lifts.index:
    print(f"  segment {seg:9}: estimated {lifts.loc[seg, 'relative_lift']:+.1%} "
          f"({lifts.loc[seg, 'lower']:+.1%} to {lifts.loc[seg, 'upper']:+.1%}), true {truth['segment_lift'][seg]:+.1%}")
print(f"session minutes: estimated {minutes['relative']:+.1%}, true {truth['minutes_change']:+.1%}")
print(f"power of the planned test at the true lift: "
      f"{experiment.power(review.settings.baseline_ctr, truth['ctr_lift'], n_per_arm):.0%}")

# %% [markdown]
# ## What to take away
#
# - Criteria first, as data, with severities and named owners: the decision then follows from the evidence,
#   and changing the world (try the knobs) changes it: a slow challenger or a broken build is a NO-GO, a
#   segment that loses becomes a launch condition, a clean world is a GO.
# - An offline lift is a hypothesis about online behaviour; size the experiment for less, check the split
#   before the result, and do not peek at a fixed-horizon test (or use a sequential one).
# - An average hides groups: audit per segment and other attributes, with intervals.
# - Drift in the inputs is not by itself a problem; labels tell data drift from concept drift.
# - Latency is measured under load at the target rate, not assumed; a rollback rule needs a minimum sample
#   and consecutive failures, agreed before deployment: it then catches a broken canary within a few windows
#   without firing on noise, and misses small regressions, which is worth knowing before relying on it.

# %%
from lifecycle_lab.course import summary

summary(f"{result.decision}: online CTR lift {ctr.relative_lift:+.1%} "
        f"[{ctr.relative_ci[0]:+.1%}, {ctr.relative_ci[1]:+.1%}] (true {truth['ctr_lift']:+.1%}), worst segment "
        f"'{lifts['relative_lift'].idxmin()}' {lifts['relative_lift'].min():+.1%}, rollout {log.outcome}",
        decision=result.decision, failed=sorted(result.failed()), n_per_arm=int(n_per_arm),
        baseline_ctr=round(float(review.settings.baseline_ctr), 4), planned_lift=round(float(P.planned_lift), 4),
        ctr_lift=round(float(ctr.relative_lift), 4), ctr_lift_lower=round(float(ctr.relative_ci[0]), 4),
        ctr_lift_upper=round(float(ctr.relative_ci[1]), 4), true_ctr_lift=round(float(truth["ctr_lift"]), 4),
        offline_recall_lift=round(float(lift["lift"]), 4), worst_segment=str(lifts["relative_lift"].idxmin()),
        worst_segment_lift=round(float(lifts["relative_lift"].min()), 4),
        true_worst_segment_lift=round(float(min(truth["segment_lift"].values())), 4),
        srm_pvalue=round(float(srm.pvalue), 4), max_psi=round(float(drift_report["table"]["psi"].max()), 4),
        drift_kind=drift_report["kind"], rolled_back=bool(log.rolled_back), rollout_outcome=log.outcome,
        rolled_back_stage=log.stopped_stage if log.rolled_back else None,
        open_checklist=[i.item for i in result.checklist if not i.done],
        naive_false_alarm=round(float(naive_rate), 3), guarded_false_alarm=round(float(guarded_rate), 3),
        detection_10pct=round(float(operating.loc[0.10, "fire_rate"]), 3))
