# %% [markdown]
# # 05 · Advanced: a self-improving recommender and its feedback loop
#
# **Lifecycle stages: data collection, training, serving, monitoring, retraining, and the loop that joins them.**
# A video service recommends a slate of 10 videos to every session. What it shows shapes what is logged, and
# tomorrow's model is trained on today's logs. This notebook runs that loop on a simulated world whose true
# preferences are known, so every claim about the logs can be checked against the truth:
#
# 1. **Architecture**: clickstream, feature store, batch and online training, registry, serving, each with its
#    production counterpart.
# 2. **Feedback collection**: clicks, watch time and ratings turned into labels; position bias; weak vs
#    confirmed labels.
# 3. **The CTR decline** (seed 001: CTR down ~15 % while latency and errors stay flat), diagnosed with the
#    monitoring toolkit and fixed.
# 4. **The loop over the days** for four policies: clicks-only (the degenerate loop), epsilon-greedy, IPS, an
#    online learner; true CTR, coverage, Gini of exposure, segments, providers; offline (IPS) vs true online value.
# 5. **Champion/challenger** with a sequential test and guardrails that can veto a CTR win.
# 6. **Bias detection and mitigation**: a fairness audit across user segments and provider groups, an exposure
#    floor and its CTR cost.
# 7. **Cost at scale**: from billions of requests a day to cores and EUR/day, a TTL cache, distillation.
# 8. **The data flywheel**, and when it stalls.
#
# Seven exercises answer back. The code behind every cell is in `lifecycle_lab/projects/p05_recommender/`.

# %% [markdown]
# ## Parameters
#
# `ui_change` (a redesign on `ui_change_day` makes lower positions less looked at) is the seed-001 story;
# `taste_shift` (one segment's tastes move on `shift_day`) is concept drift. `fast=True` simulates 60 days of
# 1,000 sessions instead of 90 of 2,000. The next cell checks every value against
# `lifecycle_lab/projects/p05_recommender/parameters.py` (policy names, day arithmetic, traffic figures).

# %% tags=["parameters"]
seed = 0                    # drives every random draw of the world and the simulation
fast = False                # True: 60 days of 1,000 sessions instead of 90 of 2,000
output_dir = None           # where the tables and the memo go (default: build/outputs/05_...)
n_days = 90                 # simulated days of the recommender in the loop
n_users = 2000              # users in the world
n_items = 300               # videos in the catalogue
sessions_per_day = 2000     # sessions (one slate of 10 each) per day
epsilon = 0.1               # share of slots the exploring policies give to random videos
policies = "clicks_only,epsilon_greedy,ips,online"  # the policies to run
ui_change = True            # a UI redesign changes position bias (the CTR decline)
ui_change_day = 45          # day of the UI redesign
taste_shift = False         # one segment's tastes move (concept drift)
shift_day = 60              # day of the taste shift
shift_segment = "binge"     # the segment whose tastes move
exposure_floor = 0.4        # minimum share of slate slots for independent providers (mitigation)
requests_per_day = 2e9      # recommendation requests a day at production scale
peak_factor = 3.0           # peak requests/s over the daily mean
latency_sla_ms = 20.0       # latency budget of the scoring step per request (ms)
price_core_hour = 0.04      # EUR per core-hour of serving capacity
cache_ttl_s = 300.0         # time-to-live of a cached slate (seconds)

# %%
from lifecycle_lab.projects import p05_recommender as project
from lifecycle_lab.projects.p05_recommender import parameters as setup

P = project.PARAMETERS.validate(globals())  # types, bounds, fast caps, policy names, day arithmetic
world = setup.world(P)
names = setup.policies(P)
print(f"seed={P.seed}: {P.n_users:,} users, {P.n_items} videos, {P.n_days} days x {P.sessions_per_day:,} sessions")
print("policies:", names)
print("changes of the world:", [f"{c.kind} on day {c.day}" for c in world.truth()] or "none")

# %% [markdown]
# ## 1. Architecture: what runs here, and what would run in production
#
# **Stage: system design.** The data pipeline ingests the clickstream and keeps features; training is a daily
# batch retrain and an online learner; serving retrieves and ranks under a latency budget; every retrain is a
# challenger; monitoring and the fairness audit watch the output. Each box says what this notebook runs and
# its production counterpart.

# %%
# %matplotlib inline
import time
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from lifecycle_lab.base import paths
from lifecycle_lab.projects.p05_recommender import audit, champion as cc, diagnosis, diagram, feedback, loop, serving

out = paths.output_dir(project.NOTEBOOK, P.output_dir)
fig, ax = plt.subplots(figsize=(12, 4.8))
diagram.draw(ax)
ax.set_title("Self-improving recommender: data, training, serving, feedback (here vs production)")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## 2. The loop, and the feedback it collects
#
# **Stage: data collection.** Each policy runs for every simulated day: rank the catalogue per user segment,
# show slates, draw the users' answers from the world, log them, retrain. A click at position *k* happens with
# probability P(examined | k) x P(relevant) (the examination hypothesis): the same video gets fewer clicks
# further down. Watch time separates a satisfied click from a mistaken one; a rating comes from about 5 % of
# clicks, three days late, and mostly from people who loved or hated the video.

# %%
keep = (P.n_days - 8, P.n_days - 1)
t0 = time.perf_counter()
runs = {p: loop.simulate(world, p, epsilon=P.epsilon, sessions_per_day=P.sessions_per_day, keep_days=keep)
        for p in names}
elapsed = time.perf_counter() - t0
events = len(names) * P.n_days * P.sessions_per_day * world.slate_size
print(f"{len(names)} policies x {P.n_days} days: {events:,} impressions simulated in ~{elapsed:.1f} s "
      f"(~{events / elapsed / 1e6:.1f} million impressions/s)")
deployed = "ips" if "ips" in runs else [p for p in names if p != "clicks_only"][0]
day_log = feedback.labels(runs[deployed].kept[keep[0]], as_of_day=keep[0] + 1)
day_log.head(4).round(3)

# %%
quality = feedback.label_quality(pd.concat(runs[deployed].kept.values()), world, keep[1])
bias = feedback.rating_bias(day_log)
print(f"weak labels (clicks): {day_log.weak.sum():,}; confirmed (watched >= {feedback.LONG_WATCH_MIN:.0f} min): "
      f"{day_log.confirmed.sum():,}; ratings given {day_log.rating.notna().sum():,}, known a day later "
      f"{day_log.rating_known.notna().sum():,} (the rest arrive {world.rating_delay_days} days late)")
print(f"share of clicks rated {bias['share_of_clicks_rated']:.3f}; 1- or 5-star among them "
      f"{bias['extreme_share']:.2f} (the raters are the enthusiasts and the disappointed)")
print(feedback.position_ctr(day_log).round(4).T.to_string())
quality.round(3)

# %% [markdown]
# Read the label table as a data scientist choosing a training target: **raw clicks** rank videos by where they
# were shown as much as by appeal; **clicks divided by P(examined | position)** (inverse propensity weighting)
# track the true relevance better; **long watches** are the confirmed label (fewer, cleaner); **ratings** are
# sparse and skewed. A common production design trains fast on the weak label and corrects it periodically with
# the confirmed one. The explored slots (random videos at random positions) show the examination curve directly.
#
# ## 3. The CTR decline: diagnose it with the monitoring toolkit
#
# **Stage: monitoring.** The dashboard of the deployed model shows CTR falling while p95 latency and error rate
# stay flat: no technical alert could have fired.

# %%
days, ops = runs[deployed].days, world.ops()
fig, (a, b) = plt.subplots(1, 2, figsize=(12, 3.8))
a.plot(days.day, days.logged_ctr, label="logged CTR")
a.plot(days.day, days.ctr_top, label="CTR at position 1", alpha=0.7)
for c in world.truth():
    a.axvline(c.day, color="red", ls=":", label=f"{c.kind} (truth)")
a.set(title=f"CTR of the deployed policy ({deployed})", xlabel="day", ylabel="clicks per impression")
a.legend(fontsize=8)
b.plot(ops["day"], ops["latency_p95_ms"], label="p95 latency (ms)")
b2 = b.twinx(); b2.plot(ops["day"], ops["error_rate"] * 100, color="grey", label="error rate (%)")
b.set(title="Serving health over the same days", xlabel="day", ylabel="p95 latency (ms)", ylim=(0, 60))
b2.set_ylabel("error rate (%)"); b2.set_ylim(0, 1)
plt.tight_layout(); plt.show()

# %% [markdown]
# `diagnosis.diagnose` finds the steepest decline of the total or of any segment's CTR, compares the 14 days
# either side and asks, in order: did the **inputs** move (PSI and KS on the user features: data drift)? Did the
# **same videos at the same positions** lose CTR only below position 1 (the examination curve moved: a
# presentation change, position bias)? Did **one segment** lose CTR on the same videos at every position while
# the others held (its P(click | video) moved: concept drift)? A segment whose slate merely changed keeps the
# same per-video CTR: then the model moved, not the users.

# %%
found = diagnosis.diagnose(runs[deployed], world)
print(f"step on day {found.change_day}: CTR {found.ctr_before:.4f} -> {found.ctr_after:.4f} "
      f"({-found.relative_drop:+.1%}); causes named: {found.causes}")
print(f"p95 latency {found.ops['latency_p95_ms'][0]:.1f} -> {found.ops['latency_p95_ms'][1]:.1f} ms, "
      f"error rate {found.ops['error_rate'][0]:.4f} -> {found.ops['error_rate'][1]:.4f}")
print("user features, before vs after:")
print(found.drift[["psi", "psi_band", "ks_d"]].round(4).to_string())
print(found.segments.round(4).to_string())
found.examination.round(4).T

# %%
(out / "diagnosis.md").write_text(diagnosis.memo(found, world.truth()))
print(diagnosis.memo(found, world.truth()))

# %% [markdown]
# **The fix.** When the cause is position bias, relevance did not fall: attention below the fold did. The
# remedy is (1) re-estimate the examination curve from the explored slots (the IPS policy does this every day
# from its last 14 days) so the model stops reading "shown low" as "disliked", (2) re-baseline the CTR target
# and (3) put the redesign's cost in attention in front of the product team. When the cause is a taste shift,
# retrain on recent data (the online learner in section 4 adapts fastest). Retraining alone on a position-bias
# change would not bring the clicks back.
#
# ### Exercise 7: diagnose the CTR decline
#
# Answer the `cause` (one of `position_bias`, `taste_shift`, `data_drift`, `none`), the `day` it began (when
# there is a change) and the `evidence` in a sentence or two. It is checked against how the world was built.
#
# **How to get help, here and in every exercise:** run `ex7.hint(1)` in a new cell for a first nudge, then
# `ex7.hint(2)`; `ex7.solution()` shows one answer. After you change your answer, run the cell with
# `ex7.check(answer)` again. The other exercises work the same way.

# %%
from lifecycle_lab.projects.p05_recommender import exercises

ex7 = exercises.diagnose_decline(world)
### BEGIN SOLUTION
answer = {"cause": found.cause, "day": found.change_day,
          "evidence": f"the same videos lost {found.lower_change:.0%} CTR below position 1 while position 1 held; "
                      f"PSI of every user feature stayed under 0.1 and latency stayed flat"}
### END SOLUTION
#> answer = None  # {"cause": ..., "day": ..., "evidence": "..."}
answer = ex7.check(answer)

# %% [markdown]
# ## 4. The loop over the days, policy by policy
#
# **Stage: retraining.** All four policies start from the same history logs (a legacy popularity ranking that
# favoured studio videos) and retrain every day. The **true CTR** comes from the world's click probabilities
# (no sampling noise); **coverage** is the share of the catalogue shown that day; the **Gini** of impressions
# per video measures concentration (0 equal, 1 one video gets everything); the **independent share** is the
# providers' view; **regret** is what a segment-level model that knew the truth would have gained.

# %%
fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
panels = [("true_ctr", "true CTR (clicks per impression)"), ("coverage", "catalogue coverage (share shown)"),
          ("gini", "Gini of exposure (0 = equal)"), ("indie_share", "independent providers' share of impressions")]
for ax, (col, label) in zip(axes.ravel(), panels):
    for p, r in runs.items():
        ax.plot(r.days.day, r.days[col].rolling(3, min_periods=1).mean(), label=p)
    for c in world.truth():
        ax.axvline(c.day, color="red", ls=":")
    ax.set(title=label.split(" (")[0] + " by day (3-day mean)", xlabel="day", ylabel=label)
axes[0, 0].legend(fontsize=8)
plt.tight_layout(); plt.show()
last = {p: r.days.tail(14).mean(numeric_only=True) for p, r in runs.items()}
table = pd.DataFrame(last).T[["true_ctr", "regret", "coverage", "gini", "indie_share", "new_share",
                              "ctr_new", "ctr_casual", "ctr_binge"]]
table.to_csv(out / "loop_metrics.csv"); table.round(4)

# %% [markdown]
# The clicks-only loop ranks by logged clicks: what it showed is what got clicked, so it keeps showing the same
# few dozen videos (high Gini, coverage near the size of its slates), never shows a video released after day 0
# (`new_share` 0: the cold start is permanent) and leaves the independent providers where the legacy ranking
# put them. Exploration costs a few clicks a day and buys knowledge of the whole catalogue; IPS removes the
# position bias from what is learnt.
#
# ### Exercise 2: detect the degenerate loop from exposure data
#
# Two exposure logs (impressions per day and video) are anonymised as `A` and `B`. Which one comes from the
# degenerate loop? Give the `evidence`.

# %%
rng = np.random.default_rng(P.seed)
pair = ["clicks_only", [p for p in names if p != "clicks_only"][0]]
order = rng.permutation(2)
exposure = {"A": runs[pair[order[0]]].exposure, "B": runs[pair[order[1]]].exposure}
ex2 = exercises.degenerate_loop(exposure)
### BEGIN SOLUTION
from lifecycle_lab.evaluation.offpolicy import coverage, gini
stats = {k: (gini(x[-7:].sum(0)), coverage(x[-7:].sum(0))) for k, x in exposure.items()}
worst = max(stats, key=lambda k: stats[k][0])
answer = {"degenerate": worst, "evidence": f"{worst} has Gini {stats[worst][0]:.2f} and coverage "
                                           f"{stats[worst][1]:.2f} over the last week, the other far less concentrated"}
### END SOLUTION
#> answer = None  # {"degenerate": "A" or "B", "evidence": "..."}
answer = ex2.check(answer)

# %% [markdown]
# ### Choosing epsilon: regret against coverage
#
# More exploration shows more of the catalogue (and finds new videos sooner) but spends slots on random videos.
# A sweep over epsilon on shorter runs of the epsilon-greedy policy (30 days, no change of the world):

# %%
calm = setup.world(P, ui_change=False, taste_shift=False, n_days=30)
sweep = []
for eps in (0.02, 0.05, 0.1, 0.2, 0.3):
    r = loop.simulate(calm, "epsilon_greedy", epsilon=eps, sessions_per_day=P.sessions_per_day)
    tail = r.days.tail(10)
    sweep.append({"epsilon": eps, "regret": tail.regret.mean(), "coverage": tail.coverage.mean(),
                  "new_share": tail.new_share.mean(), "true_ctr": tail.true_ctr.mean()})
sweep = pd.DataFrame(sweep)
sweep.round(4)

# %% [markdown]
# ### Exercise 3: choose epsilon by its regret and coverage
#
# The catalogue team asks that at least 90 % of the videos are shown on an average day. Choose the `epsilon`
# with the lowest regret that meets it, and state the `trade_off`.

# %%
ex3 = exercises.choose_epsilon(sweep, min_coverage=0.9)
### BEGIN SOLUTION
ok = sweep[sweep.coverage >= 0.9].sort_values("regret")
answer = {"epsilon": float(ok.epsilon.iloc[0]),
          "trade_off": "more exploration raises coverage and finds new videos sooner, but every explored slot "
                       "costs clicks today, so regret grows beyond the smallest epsilon that meets coverage"}
### END SOLUTION
#> answer = None  # {"epsilon": ..., "trade_off": "..."}
answer = ex3.check(answer)

# %% [markdown]
# ### Online learning next to daily batch retraining, after a taste shift
#
# The daily batch model retrains on the last 21 days; the online learner (`SGDClassifier.partial_fit` after
# every quarter of a day) forgets old data through its constant learning rate. After a taste shift in one
# segment, which recovers faster?

# %%
shift = P.shift_day if P.taste_shift else min(40, P.n_days - 20)
shifted = setup.world(P, ui_change=False, taste_shift=True, shift_day=shift, n_days=min(P.n_days, shift + 20))
seg = f"ctr_{P.shift_segment}"
fig, ax = plt.subplots(figsize=(10, 3.6))
recovery = {}
for p in ("ips", "online"):
    r = loop.simulate(shifted, p, epsilon=P.epsilon, sessions_per_day=P.sessions_per_day)
    ax.plot(r.days.day, r.days[seg].rolling(3, min_periods=1).mean(), label=f"{p} ({'daily batch' if p == 'ips' else 'partial_fit'})")
    recovery[p] = float(r.days[seg].iloc[shift + 1:shift + 11].mean())
ax.axvline(shift, color="red", ls=":", label="taste shift (truth)")
ax.set(title=f"True CTR of segment '{P.shift_segment}' around its taste shift", xlabel="day",
       ylabel="true CTR (clicks per impression)")
ax.legend(fontsize=8); plt.tight_layout(); plt.show()
print("mean true CTR of the shifted segment over the 10 days after the shift:",
      {p: round(v, 4) for p, v in recovery.items()})

# %% [markdown]
# ### Offline (logged) estimates against the true online value
#
# Before a candidate model goes live, its CTR is estimated from the deployed policy's logs. Three candidates
# are trained on the first 30 days of a separate run; they are evaluated on the deployed policy's logs of the
# 14 days before the redesign (data they did not train on). The **naive** estimate reads each video's logged CTR as it is, whatever
# position it was shown at; **IPS** re-weights each click by 1 / P(examined | position) (the curve estimated
# from the explored slots of those days) and places the video where the candidate would put it. The truth is
# the world's expected CTR of the candidate's slates on the same sessions.

# %%
trained = loop.simulate(setup.world(P, ui_change=False, taste_shift=False, n_days=30), "ips", epsilon=P.epsilon,
                        sessions_per_day=P.sessions_per_day, seed=1)
candidates = {"new model": trained.scores, **cc.variants(trained.scores, world.slate_size)}
end = P.ui_change_day if P.ui_change else 45  # logs before the redesign: one examination curve
window = range(max(end - 14, 8), end)
offline = cc.slate_estimates(runs[deployed], candidates, world, window)
offline["naive_error"] = offline.naive_logged_ctr - offline.true_ctr
offline["ips_error"] = offline.ips - offline.true_ctr
replay = cc.replay_estimates(runs[deployed], candidates, world, window)
print("slot-1 replay (Li et al. 2011): IPS and SNIPS of each candidate's position-1 CTR")
print(replay[["naive_logged_ctr", "ips", "snips", "true_ctr", "matched_share"]].round(4).to_string())
offline.round(4)

# %% [markdown]
# The naive estimate cannot tell a slate from the same slate reversed (same videos, so same logged CTRs); the
# truth and IPS can. Slot-1 replay is unbiased too, but an explored video's propensity is epsilon / (n - 10),
# so its weights run into the thousands: look at how far IPS and SNIPS are from the truth above. Off-policy
# evaluation needs the logging policy to explore; the clicks-only policy gives it nothing to re-weight.
#
# ### Exercise 1: IPS-weighted CTR from logs
#
# From the deployed policy's slot-1 logs of the window, estimate the CTR at position 1 of the policy that
# always shows the deployed model's own greedy top video: `target_prob` is 1 where the logged video is that
# video, else 0; `logging_prob` is the logged propensity. Answer `{"ips": ..., "snips": ...}`.

# %%
log = runs[deployed].slot1
rows = np.isin(log["day"], list(window))
clicks, logging_prob = log["click"][rows].astype(float), log["propensity"][rows]
target_prob = (log["item"][rows] == log["greedy"][rows]).astype(float)
ex1 = exercises.ips_ctr(clicks, target_prob, logging_prob)
### BEGIN SOLUTION
w = target_prob / logging_prob
answer = {"ips": float((clicks * w).mean()), "snips": float((clicks * w).sum() / w.sum())}
### END SOLUTION
#> answer = None  # {"ips": ..., "snips": ...}
answer = ex1.check(answer)

# %% [markdown]
# ## 5. Champion/challenger as a standing framework
#
# **Stage: deployment.** Every retrain is a challenger and gets half of the live traffic. Each day the
# always-valid sequential test (mSPRT, `evaluation.experiment.msprt_lambda`) reads the CTR difference and stops
# when the mixture likelihood ratio reaches 1/alpha = 20 (but not before 7 days, so the guardrails have their
# sample); reading it daily does not inflate false positives.
# A CTR win then faces two guardrails: no segment may lose more than 5 % of its CTR (significantly), and the
# Gini of exposure may not rise by more than 0.03. Three challengers, from day 30:
#
# - the **same model** (an A/A check: nothing should happen);
# - **exploit**: the champion's model without exploration (epsilon 0): more clicks today, concentration tomorrow;
# - a **clicks-only champion** replaced by the IPS model.
#
# The last two columns are the world's truth on the same sessions (expected CTR from the true click
# probabilities): a guardrail should fire when, and only when, the truth says the harm is real.

# %%
w30 = setup.world(P, ui_change=False, taste_shift=False)
ips30 = loop.simulate(w30, "ips", epsilon=P.epsilon, n_days=30, sessions_per_day=P.sessions_per_day).scores
clicks30 = loop.simulate(w30, "clicks_only", n_days=30, sessions_per_day=P.sessions_per_day).scores
champ = cc.Arm("IPS model, epsilon", ips30, P.epsilon)
trials = {"same model (A/A)": (champ, cc.Arm("same model", ips30, P.epsilon)),
          "exploit (epsilon 0)": (champ, cc.Arm("exploit", ips30, 0.0)),
          "IPS replaces clicks-only": (cc.Arm("clicks-only model", clicks30, 0.0), champ)}
outcomes = {name: cc.run_experiment(w30, a, b, start_day=setup.EXPERIMENT_START, max_days=setup.EXPERIMENT_DAYS,
                                    sessions_per_day=P.sessions_per_day) for name, (a, b) in trials.items()}
pd.DataFrame([{"experiment": n, "days": o.days, "stopped": o.stopped, "relative_lift": o.relative_lift,
               "gini_champion": o.gini_champion, "gini_challenger": o.gini_challenger,
               "harmed": ",".join(o.harmed) or "-", "vetoes": ",".join(o.vetoes) or "-", "decision": o.decision,
               "true_lift": o.true_lift, "true_worst_segment": min(o.true_segment_change.values())}
              for n, o in outcomes.items()]).set_index("experiment").round(4)

# %%
fig, ax = plt.subplots(figsize=(9, 3.4))
for n, o in outcomes.items():
    ax.plot(o.trace.day, np.log10(o.trace.msprt), marker="o", label=f"{n}: {o.decision}")
ax.axhline(np.log10(20), color="grey", ls="--", label="boundary 1/alpha = 20")
ax.set(title="Always-valid sequential test, read once a day", xlabel="day",
       ylabel="log10 of the mSPRT likelihood ratio")
ax.legend(fontsize=8); plt.tight_layout(); plt.show()

# %% [markdown]
# ### Exercise 4: decide a champion/challenger outcome with a guardrail
#
# For the **exploit** challenger: answer the `decision` (`promote`, `veto` or `keep champion`), the `guardrail`
# that decided it (or `none`) and `why`.

# %%
o = outcomes["exploit (epsilon 0)"]
ex4 = exercises.guardrail_decision(o)
### BEGIN SOLUTION
answer = {"decision": o.decision, "guardrail": o.vetoes[0] if o.vetoes else "none",
          "why": f"the challenger wins CTR (lift {o.relative_lift:+.1%}, the sequential test stopped) but its Gini of "
                 f"exposure rises from {o.gini_champion:.3f} to {o.gini_challenger:.3f}, over the 0.03 guardrail"}
### END SOLUTION
#> answer = None  # {"decision": ..., "guardrail": ..., "why": "..."}
answer = ex4.check(answer)

# %% [markdown]
# ## 6. Bias detection and mitigation
#
# **Stage: evaluation (responsible AI).** Two sides: **users** (does each segment get relevant slates? CTR per
# segment through fairlearn's `MetricFrame`, `evaluation.fairness.group_table`) and **providers** (exposure share
# of studio and independent videos against their catalogue share and their *merit* share: the share of the
# oracle's slots). True quality was drawn the same way for both provider groups: any gap is made by the system.

# %%
audits = {p: audit.provider_audit(pd.concat(runs[p].kept.values()), world, keep[1]) for p in runs}
print("user segments under the deployed policy (logged and true CTR):")
print(audit.segment_audit(pd.concat(runs[deployed].kept.values())).round(4).to_string())
pd.concat(audits, names=["policy"]).round(3)

# %% [markdown]
# **Mitigation: an exposure floor.** The clicks-only loop inherited the legacy ranking's preference for
# studios and never corrected it. Re-ranking each segment's slate so that at least `exposure_floor` of the
# slots go to the best-scored independent videos is the mitigation; its cost is measured in true CTR against
# the same policy without it (same world, same days).

# %%
floor_run = loop.simulate(world, "clicks_only", sessions_per_day=P.sessions_per_day, keep_days=keep,
                          rerank=audit.exposure_floor(world, P.exposure_floor))
before = runs["clicks_only"].days.tail(14).true_ctr.mean()
after = floor_run.days.tail(14).true_ctr.mean()
fair = pd.concat({"clicks_only": audits["clicks_only"],
                  f"clicks_only + floor {P.exposure_floor:.0%}": audit.provider_audit(
                      pd.concat(floor_run.kept.values()), world, keep[1])}, names=["policy"])
fair.to_csv(out / "fairness_audit.csv")
print(f"true CTR, last 14 days: {before:.4f} without the floor, {after:.4f} with it "
      f"({after / before - 1:+.1%}: the price of the mitigation, or its gain when the loop was starving good videos)")
fair.round(3)

# %% [markdown]
# ## 7. Cost at scale: cores, cache and distillation
#
# **Stage: serving.** The ranking model (**teacher**: gradient-boosted trees on user features, segment, genre and
# logged appeal) is distilled into a **student** (a linear model with segment x genre terms, fitted to the
# teacher's logits: Hinton et al. 2015) whose scoring is one matrix product. Both are measured here, on one
# thread, per 1,000 single-user requests (each scores the whole catalogue), and judged by NDCG@10 against the
# world's true relevance.

# %%
train_frame = pd.concat(runs[deployed].kept.values())
teacher = serving.train_teacher(world, train_frame, seed=P.seed)
student = serving.distil(teacher, np.random.default_rng(P.seed).choice(P.n_users, min(300, P.n_users), replace=False))
test_users = np.random.default_rng(P.seed + 1).choice(P.n_users, min(1000, P.n_users), replace=False)
quality = {m.name: serving.ndcg(m, test_users, keep[1]) for m in (teacher, student)}
seconds = {m.name: float(np.median(serving.latency_per_1000(m, test_users[:n], repeats=3)))
           for m, n in ((teacher, 100), (student, 300))}
for name in quality:
    print(f"{name}: NDCG@10 {quality[name]:.3f}, ~{seconds[name]:.3f} s per 1,000 requests "
          f"(= ms per request), ~{1000 / seconds[name]:,.0f} requests/s per core")
print(f"student vs teacher: ~{seconds[teacher.name] / seconds[student.name]:.0f}x faster, "
      f"NDCG change {quality[student.name] - quality[teacher.name]:+.3f}")

# %% [markdown]
# **The cache.** A request is one user; the serving path looks the user up in a `cachetools.TTLCache` before
# scoring. Users request with Zipf-like popularity (a few heavy users ask often), so a short TTL already serves
# a large share from memory. The cost is **staleness**: a cached slate was computed by the model version of its
# time; with the online learner refreshing every 10 minutes, the share of requests answered by an older version
# is measured below. The clock is simulated, the cache is real.

# %%
times, users = serving.request_stream(world, 20_000, 3600.0, seed=P.seed)
caching = []
for ttl in sorted({0.0, 60.0, P.cache_ttl_s, 900.0}):
    s = serving.replay(serving.Server(student, ttl, maxsize=50_000), times, users, refresh_s=600.0)
    caching.append({"ttl_s": ttl, "hit_rate": s.hit_rate, "stale_share": s.stale_share})
caching = pd.DataFrame(caching)
hit_rate = float(caching.loc[caching.ttl_s == P.cache_ttl_s, "hit_rate"].iloc[0])
t0 = time.perf_counter(); serving.replay(serving.Server(student, P.cache_ttl_s, 50_000), times[:3000], users[:3000], 600.0)
with_cache = time.perf_counter() - t0
t0 = time.perf_counter(); serving.replay(serving.Server(student, 0.0, 1), times[:3000], users[:3000], 600.0)
without = time.perf_counter() - t0
print(f"3,000 requests through the student: ~{with_cache:.3f} s with the cache, ~{without:.3f} s without "
      f"(~{without / with_cache:.1f}x)")
caching.round(4)

# %% [markdown]
# **Sizing the fleet.** Mean requests/s = requests per day / 86,400; the fleet is sized for the peak (mean x
# `peak_factor`); only cache misses are scored; one core runs at a 60 % target utilisation; cost = cores x 24 h
# x `price_core_hour`. The options below combine teacher or student with or without the cache; an option
# meets the SLA when its measured scoring latency per request is under `latency_sla_ms`.

# %%
options = []
for m in (teacher, student):
    for cached in (False, True):
        per_core = 1000 / seconds[m.name]
        f = serving.fleet(P.requests_per_day, per_core, peak_factor=P.peak_factor, hit_rate=hit_rate if cached else 0.0,
                          price_core_hour=P.price_core_hour)
        options.append({"option": f"{m.name.split(' ')[0]} {'+ cache' if cached else 'no cache'}",
                        "ms_per_request": seconds[m.name], "meets_sla": seconds[m.name] < P.latency_sla_ms,
                        "ndcg": quality[m.name], "stale_share": float(caching.loc[caching.ttl_s == P.cache_ttl_s,
                        "stale_share"].iloc[0]) if cached else 0.0, "cores": f["cores"], "cost_per_day": f["cost_per_day"]})
options = pd.DataFrame(options)
options.round(4).to_csv(out / "serving_options.csv", index=False)
print(f"{P.requests_per_day:,.0f} requests/day = {P.requests_per_day / 86_400:,.0f}/s on average, "
      f"{P.requests_per_day / 86_400 * P.peak_factor:,.0f}/s at peak; cache hit rate {hit_rate:.3f} at TTL {P.cache_ttl_s:.0f} s")
for r in options.itertuples():
    print(f"{r.option:18s} ~{r.ms_per_request:.3f} ms/request, NDCG {r.ndcg:.3f}, ~{r.cores:,} cores, "
          f"EUR ~{r.cost_per_day:,.0f}/day, SLA {'met' if r.meets_sla else 'missed'}")

# %% [markdown]
# ### Exercise 5: size the serving fleet
#
# How many cores does the **student with the cache** need for the stated traffic (`requests_per_day`,
# `peak_factor`), at 60 % utilisation, with the measured throughput and the cache's hit rate? Answer a number.

# %%
import math
per_core_rps = 1000 / seconds[student.name]
ex5 = exercises.size_fleet(P.requests_per_day, P.peak_factor, per_core_rps, 0.6, hit_rate)
### BEGIN SOLUTION
peak = P.requests_per_day / 86_400 * P.peak_factor
answer = math.ceil(peak * (1 - hit_rate) / (per_core_rps * 0.6))
### END SOLUTION
#> answer = None  # a whole number of cores
answer = ex5.check(answer)

# %% [markdown]
# ### Exercise 6: pick cache TTL or distillation by cost
#
# Which serving option meets the latency SLA at the lowest cost per day? Answer the `option` as named in the
# table and a `defence` that says what you give up (NDCG, staleness).

# %%
ex6 = exercises.pick_serving(options)
### BEGIN SOLUTION
ok = options[options.meets_sla].sort_values("cost_per_day")
answer = {"option": ok.option.iloc[0],
          "defence": "it meets the latency SLA at the lowest cost per day; the student's NDCG stays close to the "
                     "teacher's and the cache's staleness is a few percent of requests served by an older model"}
### END SOLUTION
#> answer = None  # {"option": ..., "defence": "..."}
answer = ex6.check(answer)

# %% [markdown]
# ## 8. The data flywheel, and when it stalls
#
# **Stage: strategy.** The flywheel (seed 004): more users -> more data -> a better model -> more users. Here it
# is quantified on a world without changes: for three traffic levels, the final model's NDCG@10 against the
# world's truth, its true CTR and the share of impressions on videos released during the period.

# %%
fly = audit.flywheel(dict(seed=P.seed, n_users=P.n_users, n_items=P.n_items, n_days=30),
                     traffic=(250, 1000, 4000), policies=("clicks_only", [p for p in names if p != "clicks_only"][0]),
                     epsilon=P.epsilon, seed=P.seed)
fig, ax = plt.subplots(figsize=(8, 3.4))
for p, rows in fly.groupby("policy"):
    ax.plot(np.log2(rows.sessions_per_day), rows.ndcg_vs_truth, marker="o", label=p)
levels = sorted(fly.sessions_per_day.unique())
ax.set(xticks=np.log2(levels), xticklabels=[f"{v:,}" for v in levels], xlabel="sessions per day (log scale)",
       title="Does more traffic make a better model? (30 days)", ylabel="NDCG@10 vs the true relevance")
ax.legend(fontsize=8); plt.tight_layout(); plt.show()
fly.round(4)

# %% [markdown]
# The exploring policy turns the flywheel: more sessions give more explored impressions, a better estimate of
# every video and more clicks. The clicks-only loop stalls: more traffic only repeats the same slates, so the
# data collected is not the data needed; a new video is never shown, so it never gets the clicks that would get
# it shown (cold start). The flywheel also stalls when the users it attracts are not the ones it learnt from
# (a new segment: cold-start users) and when the label is the wrong one (clicks that are not satisfaction).
#
# ## What ran here, and what would run in production
#
# | concern | here (this notebook) | in production at scale |
# |---|---|---|
# | clickstream | numpy arrays drawn from the world | Kafka topics with a schema registry, exactly-once sinks |
# | features | daily cell counts in memory | Redis (online) and Feast (offline, point-in-time joins) |
# | training | daily batch retrain and `partial_fit` in this process | Airflow / Kubeflow batch jobs, a streaming trainer |
# | registry and promotion | frozen segment scores, `champion.run_experiment` | MLflow registry aliases, an A/B platform with mSPRT |
# | serving | `serving.Server` with a `cachetools.TTLCache`, one thread | KServe / Triton replicas behind a load balancer, Redis cache |
# | monitoring | `diagnosis.diagnose` (PSI, KS, same-video CTR) | Evidently reports, Prometheus / Grafana, on-call alerts |
# | fairness | `audit` with fairlearn `MetricFrame`, exposure floor | a scheduled audit with a review board and exposure targets |
#
# ## Summary
#
# The decisions of this notebook, as one line the course runner and the tests read.

# %%
from lifecycle_lab.course import summary

gini_last = {p: float(r.days.tail(7).gini.mean()) for p, r in runs.items()}
summary(f"diagnosed {found.cause}; exploit challenger {outcomes['exploit (epsilon 0)'].decision}",
        truth=[c.kind for c in world.truth()], truth_days=[c.day for c in world.truth()], causes=found.causes,
        change_day=found.change_day, relative_drop=round(found.relative_drop, 4), gini=gini_last,
        coverage={p: float(r.days.tail(7).coverage.mean()) for p, r in runs.items()},
        new_share={p: float(r.days.tail(7).new_share.mean()) for p, r in runs.items()},
        naive_mae=float(offline.naive_error.abs().mean()), ips_mae=float(offline.ips_error.abs().mean()),
        decisions={n: o.decision for n, o in outcomes.items()}, vetoes={n: o.vetoes for n, o in outcomes.items()},
        true_segment_change={n: o.true_segment_change for n, o in outcomes.items()},
        floor_share=float(fair.loc[(f"clicks_only + floor {P.exposure_floor:.0%}", "independent"), "exposure_share"]),
        floor_ctr_change=round(after / before - 1, 4), hit_rate=hit_rate,
        flywheel={f"{r.policy}@{r.sessions_per_day}": r.ndcg_vs_truth for r in fly.itertuples()},
        events=events, days=P.n_days, sessions_per_day=P.sessions_per_day)
