# %% [markdown]
# # 04 · Intermediate: operate a live churn model
#
# **Lifecycle stages: monitoring, diagnosis, remediation, retraining.** A churn model scores every customer of
# a SaaS company once a week. A month after a product launch its precision has dropped by about 15 %, while
# latency and error rates stay flat. This notebook operates that model for a simulated year and does what the
# person on call does:
#
# 1. **The model in production**: weekly batch scoring, every prediction in an audit log, labels ~30 days late.
# 2. **Weekly monitoring**: PSI and KS per input (and why KS says "significant" to everything at scale),
#    the score distribution, precision once labels land.
# 3. **The alert rule** and its false-alarm rate on weeks when nothing changed; alerts posted to a webhook.
# 4. **Diagnosis** of each incident against the events calendar: data bug, data drift, concept drift, label
#    shift or benign, checked against how the world was built.
# 5. **Remediation**: fix a bug at its source, time-based vs random split, champion/challenger through the gate.
# 6. **Automation**: a Prefect 3 flow (extract, validate with pandera, drift, train, evaluate, gate, register in
#    MLflow) for one week, and its failure path that keeps the champion.
# 7. **Retraining policies** compared by cost over the year.
# 8. **The monitoring service**: the same weekly monitoring as Evidently snapshots in an Evidently UI workspace,
#    with a dashboard you open in your browser.
# 9. **Here vs production**: what ran here and what would run at scale.
#
# The logic lives in `lifecycle_lab/projects/p04_churn/` and `lifecycle_lab/monitoring/` (tested there); the
# course text is in `course/` (chapters *Monitoring* and *Retraining*).

# %% [markdown]
# ## Parameters
#
# The switches of the world combine: `concept_drift` (a launch changes how usage relates to churn),
# `data_bug` (a deploy breaks one feature), `seasonal_drift` (inputs move, the model still fits) and
# `label_shift` (the churn base rate moves). `fast=True` simulates 40 weeks of 1,500 customers instead of 52 of
# 2,000. The next cell checks every value against `lifecycle_lab/projects/p04_churn/parameters.py` and refuses,
# before any work, a change too late in the year for its labels to land.

# %% tags=["parameters"]
seed = 0                 # drives every random draw of the world
fast = False             # True: 40 weeks of 1,500 customers instead of 52 of 2,000
output_dir = None        # where the audit log, incident log and memo go (default: build/outputs/04_...)
n_weeks = 52             # weeks of weekly scoring in production
n_per_week = 2000        # customers scored each week
label_delay_days = 30    # days until a week's churn labels are known
concept_drift = True     # a product launch changes how usage relates to churn (P(Y|X))
launch_week = 20         # week of the product launch
data_bug = False         # an upstream pipeline deploy breaks one feature
bug_week = 26            # week of the broken deploy
bug_kind = "unit"        # "unit" (usage in minutes) or "join" (support tickets lost)
seasonal_drift = False   # a yearly usage cycle that moves inputs without hurting the model
label_shift = False      # a market change that moves the churn base rate
label_shift_week = 26    # week of the market change
retrain_cost = 20.0      # EUR per retrain in the policy comparison (an automated pipeline)
run_flow = True          # run the Prefect flow (a local server; ~20 s the first time)

# %%
from lifecycle_lab.projects import p04_churn as project
from lifecycle_lab.projects.p04_churn import parameters as setup

P = project.PARAMETERS.validate(globals())  # types, bounds, fast caps, and whether this scenario can run
world = setup.world(P)
print(f"seed={P.seed}, {P.n_weeks} weeks x {P.n_per_week:,} customers, label delay {P.label_delay_days} days "
      f"({world.label_delay_weeks} weeks)")
print("changes switched on:", [f"{c.kind} in week {c.week}" for c in world.truth()] or "none")

# %% [markdown]
# ## 1. The model in production
#
# **Stage: operation.** The champion was trained on the 8 history weeks before go-live. Each week it scores
# every customer; a customer is flagged for the retention team when the score exceeds the cost-optimal
# threshold (a missed churner costs EUR 250, a needless offer EUR 50: the assumptions are written out in
# `p04_churn/model.py`). Every prediction is stored in an audit log, a SQLite table (through SQLAlchemy): the
# week, the customer, the model version, a hash of the inputs (not the inputs), the score and the decision.
# Its key is (week, customer, model version), so re-running a week's scoring logs nothing twice. The label
# (did the customer churn?) is known only `label_delay_days` later, so at week *w* precision is known up to
# week *w* minus the delay.

# %%
# %matplotlib inline
import json, os, shutil
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from lifecycle_lab.base import paths
from lifecycle_lab.monitoring import alerts, weekly
from lifecycle_lab.projects.p04_churn import model as churn_model, operate as op, policies as pol

out = paths.output_dir("04_intermediate_operate_churn", P.output_dir)
report = op.operate(world)  # score every week, monitor, alert and diagnose (as of the last week)
audit = op.audit_columns(report.log)
(out / "audit_log.sqlite").unlink(missing_ok=True)  # a fresh log for every run of the notebook
store, added = op.log_predictions(report.log, out / "audit_log.sqlite")  # SQLite, through SQLAlchemy
added_again = op.log_predictions(report.log, out / "audit_log.sqlite")[1]  # the same weeks scored again
print(f"{added:,} predictions stored ({store.count():,} in the log), {added_again} more on re-running the year")
print(f"{len(audit):,} predictions, {audit.model_version.nunique()} model version; threshold "
      f"{churn_model.THRESHOLD:.3f}; baseline precision {report.baseline_precision:.3f}, "
      f"churn rate {report.baseline_base_rate:.3f}")
evidently_build = op.evidently_workspace(world, report, out / "evidently")  # in a child process: section 8
audit.head(3).round(3)

# %%
ops = world.ops()  # what the serving dashboard sees: flat while the model decays
print(f"latency p95 {ops.latency_p95_ms.min():.0f}-{ops.latency_p95_ms.max():.0f} ms, "
      f"error rate at most {ops.error_rate.max():.3f} over the year")

# %% [markdown]
# ## 2. Weekly monitoring: drift per input, performance once labels land
#
# **Stage: monitoring.** Each week's inputs are compared with the champion's training data: the population
# stability index (PSI; the folklore reads < 0.1 stable, 0.1-0.25 moderate, > 0.25 large) and the two-sample
# Kolmogorov-Smirnov test. **The large-sample caveat**: the KS p-value shrinks with the sample size for the
# same tiny shift, so with thousands of rows a week "significant" says nothing about harm. PSI does not
# depend on n in the same way; neither says whether the model is hurt, only labels do.
#
# While this notebook goes on, a child process writes the same weeks as Evidently snapshots into an Evidently
# UI workspace (data quality, drift, the score distribution, and performance once labels land); section 8
# opens it as a dashboard.

# %%
demo = weekly.ks_large_sample_demo(shift=0.03)  # the same 0.03-sd shift, at growing sample sizes
demo.assign(ks_pvalue=demo.ks_pvalue.map(lambda p: f"{p:.1e}")).round(4)

# %%
fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4))
for feature, rows in report.drift.groupby("feature"):
    a.plot(rows.week, rows.psi, label=feature)
a.axhline(0.1, color="grey", ls="--", label="PSI 0.1")
a.set(title="Input drift against the training data", xlabel="scored week", ylabel="PSI (unitless)")
a.legend(fontsize=7)
perf = report.performance
b.plot(perf.week, perf.precision, marker=".", label="precision of the flags (eventual labels)")
b.axhline(report.baseline_precision, color="grey", ls="--", label="baseline precision")
for c in world.truth():
    b.axvline(c.week, color="red", ls=":", label=f"{c.kind} (truth)")
b.set(title="Precision by scored week", xlabel="scored week", ylabel="precision (share of flags)")
b.legend(fontsize=7)
plt.tight_layout(); plt.show()

# %% [markdown]
# The precision plot uses every week's eventual labels; the person on call at week *w* sees only the weeks up
# to *w* minus the delay. The alert rule below works with what was known at each week.
#
# ## 3. The alert rule and its false-alarm rate
#
# **Stage: monitoring.** `weekly.AlertRule`: alert when any input's PSI exceeds 0.1, or precision (pooled over
# 3 weeks, on at least 300 labelled flags) falls more than 10 % below the baseline, or the labelled churn rate
# moves more than 25 %, in 2 windows in a row. The false-alarm rate is measured on a world where nothing
# changes (same seed, every switch off) and on this world's weeks with no change in effect.

# %%
quiet_world = setup.world(P, concept_drift=False, data_bug=False, seasonal_drift=False, label_shift=False)
quiet = op.operate(quiet_world)
false_alarm_quiet = weekly.false_alarm_rate(quiet.timeline, range(P.n_weeks))
false_alarm_here = weekly.false_alarm_rate(report.timeline, op.quiet_weeks(world))
new = weekly.new_alerts(report.timeline)
print(f"false-alarm rate: {false_alarm_quiet:.1%} of the weeks of the unchanged world, "
      f"{false_alarm_here:.1%} of this world's quiet weeks")
new

# %%
(out / "alerts.jsonl").unlink(missing_ok=True)
with alerts.LocalReceiver() as rx:  # a local stand-in for Slack's incoming webhook
    sent = alerts.send_alerts(new.to_dict("records"), rx.url, out / "alerts.jsonl")
    again = alerts.send_alerts(new.to_dict("records"), rx.url, out / "alerts.jsonl")  # deduplicated
print(f"sent {len(sent)} alerts, then {len(again)} on the re-run; the receiver got {len(rx.received)}")
print(rx.received[0]["text"] if rx.received else "no alert")

# %% [markdown]
# ### Exercise 1: which input drifted, and is it harmful
#
# Take the week with the largest PSI of the year. Answer a dict with the `feature` whose PSI is largest that
# week and `harmless` (True if the diagnosis calls the change benign).
#
# **How to get help, here and in every exercise:** run `ex1.hint(1)` in a new cell for a first nudge, then
# `ex1.hint(2)`; `ex1.solution()` shows one answer. After you change your answer, run the cell with
# `ex1.check(answer)` again. The other exercises work the same way with `ex2` to `ex7`.

# %%
from lifecycle_lab.projects.p04_churn import exercises

peak_week = int(report.drift.loc[report.drift.psi.idxmax(), "week"])
print(f"largest PSI of the year in week {peak_week}")
ex1 = exercises.drifted_feature(report, peak_week)

# %%
### BEGIN SOLUTION
rows = report.drift[report.drift.week == peak_week].sort_values("psi", ascending=False)
found = report.diagnosis[report.diagnosis.onset <= peak_week]
answer = {"feature": rows.feature.iloc[0], "harmless": bool(found.empty or found.kind.iloc[-1] == "benign")}
### END SOLUTION
#> answer = None  # {"feature": ..., "harmless": ...}
answer = ex1.check(answer)

# %% [markdown]
# ### Exercise 4: an alert rule within a false-alarm budget
#
# Choose `psi_limit`, `precision_drop` and `consecutive` so that the rule pages on at most 5 % of the weeks of
# the unchanged world and alerts within 12 weeks of this world's first change.

# %%
ex4 = exercises.alert_rule(quiet, quiet_world, report, world)
### BEGIN SOLUTION
answer = {"psi_limit": 0.1, "precision_drop": 0.1, "consecutive": 2}
### END SOLUTION
#> answer = None  # {"psi_limit": ..., "precision_drop": ..., "consecutive": ...}
answer = ex4.check(answer)

# %% [markdown]
# ## 4. Diagnosis: what kind of incident, against the calendar
#
# **Stage: diagnosis.** For each alert, `monitoring.diagnosis` moves back to the change's onset (alert week
# minus the label delay and the pooled window) and asks, in the seed's order: did one input step at a known
# deploy (**data bug**)? Did inputs move while the labels still agree with the model (**data drift**, harmful
# or **benign**)? Does P(Y|X) still hold: a likelihood-ratio test of the model's own logit against the labels
# after the onset (**concept drift**)? Did the churn rate move as the scores predict (**label shift**)? The
# events calendar (launches, deploys) is the external evidence; the market is not on it.
#
# A later alert can find no new change at its onset: precision is simply still below the floor. If an earlier
# incident was never remediated (the same champion kept scoring), that is the earlier incident still in effect,
# not noise: the diagnosis gives it the earlier kind and the earlier onset in `continues` (the world's truth
# agrees: the launch's change never went away). Only with no open incident is such an alert called benign.

# %%
print("calendar:", world.calendar().to_dict("records"))
cols = ["signal", "alert_week", "onset", "kind", "continues", "calendar_event", "precision_before", "precision_after",
        "precision_p", "concept_p", "why"]
report.diagnosis[cols].round(4)

# %% [markdown]
# Each switch alone, diagnosed the same way: the incident log puts every diagnosis beside the world's truth.

# %%
scenarios = {"as parameterised": world,
             "data bug": setup.world(P, concept_drift=False, data_bug=True),
             "label shift": setup.world(P, concept_drift=False, label_shift=True),
             "seasonal drift": setup.world(P, concept_drift=False, seasonal_drift=True)}
log = []
for name, w in scenarios.items():
    d = report.diagnosis if w is world else op.operate(w).diagnosis
    truth = ", ".join(f"{c.kind} (week {c.week})" for c in w.truth()) or "none"
    for row in d.itertuples():
        log.append({"scenario": name, "alert_week": row.alert_week, "onset": row.onset, "diagnosed": row.kind,
                    "truth": truth, "why": row.why})
    if d.empty:
        log.append({"scenario": name, "diagnosed": "no incident", "truth": truth})
incidents = pd.DataFrame(log)
incidents.to_csv(out / "incident_log.csv", index=False)
incidents.drop(columns="why")

# %% [markdown]
# ### Exercise 2: classify the incident
#
# Classify this world's first incident: its `kind`, the scored week it began (`onset`) and the `evidence` in
# a sentence (name the statistic and the calendar).

# %%
ex2 = exercises.classify_incident(report, world)
### BEGIN SOLUTION
first = report.diagnosis.iloc[0]  # the diagnosis of the first alert, onset moved back by the delay
answer = {"kind": first.kind, "onset": int(first.onset),
          "evidence": f"{first.why}; precision {first.precision_before:.3f} -> {first.precision_after:.3f} "
                      f"after the onset, calendar: {first.calendar_event}, labels {first.labels_after}"}
### END SOLUTION
#> answer = None  # {"kind": ..., "onset": ..., "evidence": "..."}
answer = ex2.check(answer)

# %% [markdown]
# ## 5. Remediation
#
# **Stage: remediation.** The remedy follows the cause. A **data bug** is fixed at its source (revert the
# deploy, backfill the feature): retraining on broken data teaches the model the bug, and when the pipeline is
# fixed the model is wrong again. **Concept drift** calls for retraining on a recent window. **Label shift**
# calls for recalibration. **Benign** drift calls for nothing but a note.
#
# Validation must look like the future: with a world that changes, a **random split** mixes rows of the same
# weeks into training and validation and flatters the model; a **time-based split** validates on the last weeks. Both are trained on weeks that span the launch
# and then scored on the four weeks after them.

# %%
train_weeks = (max(0, P.launch_week - 8), P.launch_week + 6)  # a training window across the launch
leak = pol.split_leakage(world, train_weeks, (P.launch_week + 6, P.launch_week + 10))
pd.DataFrame({split: {"validation AUC": leak[f"{split}_valid_auc"], "future AUC": leak[f"{split}_future_auc"],
                      "overstatement": leak[f"{split}_overstatement"]} for split in ("random", "time")}).round(4)

# %% [markdown]
# ### Exercise 3: the leakage of a random split
#
# How much does each split's validation AUC overstate the AUC on the future weeks? Answer
# `{"random": ..., "time": ...}`.

# %%
ex3 = exercises.split_leakage(leak)
### BEGIN SOLUTION
answer = {"random": leak["random_valid_auc"] - leak["random_future_auc"],
          "time": leak["time_valid_auc"] - leak["time_future_auc"]}
### END SOLUTION
#> answer = None  # {"random": ..., "time": ...}
answer = ex3.check(answer)

# %% [markdown]
# **Champion / challenger.** The challenger is trained on the last 8 labelled weeks known at week
# `n_weeks - 4`; both models are judged on later weeks neither saw. The gate (criteria as data, the workbook's
# gate engine) promotes only if the cost change's paired bootstrap interval lies below zero and precision and
# the regions' flag-rate gap meet their targets.

# %%
champion = churn_model.train(world.history())
challenger = churn_model.train(pol.labelled_by(world, P.n_weeks - 4, 8))
holdout = world.weeks(P.n_weeks - 4, P.n_weeks)
promote, gate = pol.promotion(champion, challenger, holdout)
print(f"gate decision: {gate.decision}; promote: {promote}")
gate_table = gate.table().round(4)
gate_table["ci"] = gate_table.ci.map(lambda ci: None if ci is None else tuple(round(float(x), 4) for x in ci))
gate_table

# %% [markdown]
# ### Exercise 5: promote the challenger?
#
# Decide `promote` (True / False) from the gate's evidence and say `why`, naming the interval.

# %%
ex5 = exercises.promotion(promote, gate)
### BEGIN SOLUTION
answer = {"promote": promote, "why": f"the gate says {gate.decision}: the bootstrap interval of the cost change "
          "decides it, together with the precision target and the regions' flag-rate gap"}
### END SOLUTION
#> answer = None  # {"promote": ..., "why": "..."}
answer = ex5.check(answer)

# %% [markdown]
# ### Exercise 7: the remediation memo with a rollback step
#
# For the diagnosed cause of this world's first incident: the `cause`, the `action` and a `rollback` step.
# The notebook writes the memo into the output folder.

# %%
cause = report.diagnosis.kind.iloc[0] if len(report.diagnosis) else "benign"
ex7 = exercises.remediation_memo(cause)
### BEGIN SOLUTION
answer = {"cause": cause, "action": exercises.ACTIONS[cause],
          "rollback": "if the new version misbehaves, move the champion alias in the MLflow registry back to "
                      "the previous registered version and re-score the week"}
### END SOLUTION
#> answer = None  # {"cause": ..., "action": ..., "rollback": "..."}
answer = ex7.check(answer)
memo = answer or {"cause": cause, "action": exercises.ACTIONS[cause], "rollback": "move the champion alias back"}

# %%
first = report.diagnosis.iloc[0] if len(report.diagnosis) else None
lines = ["# Remediation memo: churn model", "",
         f"- Incident: {first.signal} alert in week {first.alert_week}, onset week {first.onset}"
         if first is not None else "- Incident: none this year",
         f"- Cause (diagnosed): {memo['cause']}", f"- Action: {memo['action']}",
         f"- Validation: time-based split (a random split overstated AUC by {leak['random_overstatement']:.3f})",
         f"- Promotion: gate {gate.decision}, promote={promote}", f"- Rollback: {memo['rollback']}"]
(out / "remediation_memo.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))

# %% [markdown]
# ## 6. Automation: the pipeline as a Prefect flow
#
# **Stage: continuous training.** `pipeline.build_flow()` is a Prefect 3 flow: extract the week (retried on a
# flaky store), validate it with a pandera schema, check drift, train on the recent window, evaluate against
# the champion, gate, register the challenger in the MLflow registry and move the `champion` alias only on a
# pass. It runs here on a local Prefect server in this process (Prefect's own server app, with its scheduler
# service on); re-running a week registers nothing new (idempotent). The failure path: a week whose data fail validation stops the flow, and the champion stays.

# %%
import contextlib
from lifecycle_lab.projects.p04_churn import pipeline
from lifecycle_lab.deployment import registry

flow_week, folder = P.n_weeks - 4, out / "registry"
flow, server = {}, contextlib.ExitStack()  # the server stays up for the next cell; closed there
if P.run_flow:
    for old in (folder, out / "prefect"):  # a fresh registry and run history for every run of the notebook
        shutil.rmtree(old, ignore_errors=True)
    os.environ["PREFECT_LOGGING_LEVEL"] = "CRITICAL"  # the failure path below is expected: no tracebacks
    pipeline.configure(out / "prefect")
    server.enter_context(pipeline.local_server())
    ok = pipeline.run_week(world, flow_week, folder, flaky_failures=1)  # first extract fails, retry runs
    rerun = pipeline.run_week(world, flow_week, folder)
    broken = setup.world(P, data_bug=True, bug_week=flow_week)
    bad = pipeline.run_week(broken, flow_week + 1, folder)  # a broken deploy: validation fails
    result = pipeline.run_result(ok)  # the flow's return value, through Prefect's public State.result()
    flow = {"completed": ok.is_completed(), "promoted": bool(result["promote"]),
            "rerun_new": bool(pipeline.run_result(rerun)["new"]), "failed_run_failed": bad.is_failed(),
            "aliases": registry.aliases(registry.tracking_uri(folder), "churn")}
    print(flow)
    print("the failed run:", bad.message[:160])

# %% [markdown]
# **Triggers: the cron schedule, the drift alert and a backfill.** In production nobody calls the flow by hand.
# `pipeline.deploy` registers it on the Prefect server as a *deployment* with a cron schedule (`0 6 * * 1`:
# Mondays 06:00 UTC, when the week's data are complete) whose runs go to a `process` work pool. From then on the
# server's **scheduler service** (Prefect's own, running in the local server) creates the schedule's runs: the
# next Mondays, marked auto-scheduled, which the engine holds (state Scheduled) until their time. A run of the
# schedule carries no `week`: it works out its week from its scheduled time on the simulated calendar (week 0
# starts on Monday 2026-01-05, `world.GO_LIVE`, the same calendar as the Evidently dashboard's time axis).
# Two more triggers create runs of the same deployment: the alert receiver's handler (`pipeline.alert_trigger`)
# one per drift or performance alert, and a **backfill** (`pipeline.backfill`) the schedule's run of a Monday
# that has passed (the pipeline was down in week 24). A **Prefect worker** (`prefect worker start --pool
# p04-process`, started by `pipeline.worker` in a subprocess) polls the pool and executes each run whose time
# has come, in a process of its own, one at a time. The run history below is read from the engine's API.
# Which Mondays come next depends on today's date: the cell prints how far ahead the next one is with a `~`.

# %%
runs = "flow not run (run_flow=False)"
if P.run_flow:
    with server:  # the local server of the cell above; it stops at the end of this block
        deployment = pipeline.deploy(world, folder)
        print("deployment:", pipeline.deployment_info(deployment)["schedules"])
        upcoming = pd.DataFrame(pipeline.scheduled_runs(deployment))  # created by the scheduler service
        ahead = (upcoming.expected.min() - pd.Timestamp.now(tz="UTC")) / pd.Timedelta(days=1)
        scheduled = {"runs": len(upcoming), "held": set(upcoming.state) == {"Scheduled"},
                     "mondays_0600": set(upcoming.expected.dt.strftime("%a %H:%M")) == {"Mon 06:00"}}
        print("the scheduler's runs:", scheduled, f"- the next in ~{ahead:.1f} days")
        started = pipeline.backfill(deployment, [24])  # the Monday of week 24 has passed: due now
        handler = pipeline.alert_trigger(deployment)
        (out / "alerts-pipeline.jsonl").unlink(missing_ok=True)
        with alerts.LocalReceiver(handler=handler) as rx_pipeline:  # the pipeline's subscription to the alerts
            alerts.send_alerts(new.to_dict("records"), rx_pipeline.url, out / "alerts-pipeline.jsonl")
        started += handler.started
        with pipeline.worker():  # `prefect worker start` in a subprocess runs the runs that are due
            states = pipeline.wait_for(*started)
        history = pd.DataFrame(pipeline.flow_runs(deployment_id=deployment))
    flow.update(deployed_runs=[s.name for s in states], alert_runs=len(handler.started), scheduled=scheduled)
    runs = history[~history.auto][["week", "state", "tags"]].assign(tags=lambda d: d.tags.map(", ".join))
runs

# %% [markdown]
# ## 7. Retraining policies compared over the year
#
# **Stage: retraining.** Five policies operate the same year: never retrain, weekly, monthly, drift-triggered
# (PSI > 0.1 on a numeric input) and performance-triggered (precision on the newest labelled week more than 10 %
# below the model's own at training). Total cost = error cost (the cost matrix on every week's flags) + the
# number of retrains x `retrain_cost`.
#
# **The prices, stated** (`p04_churn/model.py`, `policies.py`): a wasted offer EUR 50, a missed churner EUR 250
# (EUR 1,000 of margin, 30 % of which an offer keeps, minus the offer); a retrain EUR 20 in an automated
# pipeline (minutes of compute and a 15-minute review of the gate's report) or EUR 1,000 by hand (a data
# scientist's day and a half). Most of the error cost is unavoidable (churners no model sees coming), and one
# year of labels is noisy: a few dozen churners more or less move the cost by more than the policies
# differ. The simulation knows every customer's true churn probability, so the table prices each policy's decisions two ways:
# `booked_error_cost` (the cost matrix on the realised labels, what the company's books would show) and
# `error_cost` (the same decisions at their expected cost: the coin flips taken out), and it shows how far each
# policy stays from the best any model could do (`avoidable_cost`, against the world's own probabilities).
# The ranking, `saved_vs_never` and `break_even_retrain_cost` use the expected cost: a policy beats never
# retraining exactly when a retrain costs less than its break-even.
#
# Read the size of the prize before the ranking. A 15 % precision drop is not a 15 % money drop: the customers
# the old model now flags by mistake sit close to the threshold, where an offer and no offer cost about the
# same, so the launch makes only a small share of the error cost avoidable, and a retrain can win back at most
# that share. Whether a policy pays is then decided by what a retrain costs.

# %%
policy_runs = {p: pol.run_policy(world, p) for p in pol.POLICIES}
table = pol.compare_policies(world, pol.PolicyCosts(retrain=P.retrain_cost), runs=policy_runs)
table.round(4).to_csv(out / "policy_comparison.csv", index=False)
dearer = pol.compare_policies(world, pol.PolicyCosts(retrain=pol.MANUAL_RETRAIN), runs=policy_runs)
print(f"best at EUR {P.retrain_cost:,.0f} a retrain: {table.policy.iloc[0]}; "
      f"by hand, at EUR {pol.MANUAL_RETRAIN:,.0f}: {dearer.policy.iloc[0]}")
print("ranking by hand:", ", ".join(dearer.policy))
never = table.set_index("policy").loc["never"]
print(f"never retraining: EUR {never.avoidable_cost:,.0f} of its EUR {never.error_cost:,.0f} expected error cost "
      f"was avoidable ({never.avoidable_cost / never.error_cost:.2%}); the best policy left EUR "
      f"{table.avoidable_cost.iloc[0]:,.0f}")
money = ["booked_error_cost", "error_cost", "avoidable_cost", "retrain_cost", "total_cost", "saved_vs_never",
         "break_even_retrain_cost"]
table.round({**dict.fromkeys(money, 0), "mean_precision": 4})

# %%
fig, ax = plt.subplots(figsize=(10, 4))
for p, r in policy_runs.items():
    ax.plot(r.week, r.precision.rolling(4, min_periods=1).mean(), label=f"{p} ({int(r.retrained.sum())} retrains)")
for c in world.truth():
    ax.axvline(c.week, color="red", ls=":")
ax.set(title="Precision under each retraining policy (4-week rolling mean; red: changes of the world)",
       xlabel="scored week", ylabel="precision (share of flags)")
ax.legend(fontsize=8); plt.tight_layout(); plt.show()

# %% [markdown]
# ### Exercise 6: choose the retraining policy by cost
#
# Pick the `policy` with the lowest total cost and `defence` it in a sentence or two (cost, retrain, precision).

# %%
ex6 = exercises.choose_policy(table)
### BEGIN SOLUTION
answer = {"policy": table.policy.iloc[0],
          "defence": f"{table.policy.iloc[0]} has the lowest total cost at EUR {P.retrain_cost:,.0f} a retrain: "
                     f"the errors it avoids, and the precision they buy, are worth more than its "
                     f"{int(table.retrains.iloc[0])} retrains cost; the break-even column says when that changes"}
### END SOLUTION
#> answer = None  # {"policy": ..., "defence": "..."}
answer = ex6.check(answer)

# %% [markdown]
# ## 8. The monitoring service: the Evidently UI dashboard
#
# **Stage: monitoring.** The tables above are what the tests check; a team looks at a monitoring service.
# `monitoring.evidently_ui` wrote one Evidently snapshot per scored week into a workspace folder: rows and
# missing values per input and usage hours outside 0-168 (data quality), Evidently's drift score per input
# (its normed Wasserstein distance for numbers and Jensen-Shannon for categories, not the PSI above, so the
# numbers differ), the mean score and its drift (prediction distribution), and precision and recall for the
# weeks whose labels had landed by the last week. The project's dashboard panels were added through
# Evidently's API (`project.dashboard.add_panel`): its dashboard tab shows panels only once they are added.
#
# **Open it yourself**: run the printed command in a terminal (in the repository, with the environment
# active), then open `http://127.0.0.1:8000` in your browser, click the project, and read the dashboard; the
# *Reports* tab holds each week's snapshot. Stop it with Ctrl+C. A test starts the same app and checks the
# dashboard in headless Chromium.

# %%
from lifecycle_lab.monitoring import evidently_ui

ev = evidently_build.result()  # waits for the child process if it is still writing
where = ev.path.relative_to(paths.ROOT) if ev.path.is_relative_to(paths.ROOT) else ev.path
print(f"project '{ev.project_name}': {len(ev.weeks)} weekly snapshots, {len(ev.labelled_weeks)} with labels "
      f"(weeks {ev.labelled_weeks[0]}-{ev.labelled_weeks[-1]})")
print("dashboard panels:", *ev.panels, sep="\n  ")
print("open it:", " ".join(evidently_ui.ui_command(where, 8000)))

# %% [markdown]
# ## 9. What ran here, and what would run in production
#
# | concern | here (this notebook) | in production at scale |
# |---|---|---|
# | serving | batch scoring in this process | a batch job on Kubernetes, or an online model server (KServe) |
# | orchestration | Prefect 3 flow on a local Prefect server in this process with its scheduler service: a deployment with a cron schedule on a process work pool, runs created by the scheduler, by the drift alert and by a backfill, executed by one Prefect worker (`prefect worker start`) in a subprocess | Prefect workers (or Airflow) on a cluster pulling the scheduled runs from a Prefect server with a database |
# | features | computed from the simulated week | a feature store with point-in-time correct joins |
# | validation | pandera schema in the flow | the same, or Great Expectations, at the ingestion boundary |
# | registry | MLflow on SQLite, `champion` alias | MLflow (or a cloud registry) on a database server, with approvals |
# | monitoring | PSI / KS / precision tables and plots; weekly Evidently snapshots in a local Evidently UI workspace (a folder), served by `evidently ui` on 127.0.0.1 | Evidently (or another monitoring service) on a server with a database and object store, snapshots written by the scoring job, access control |
# | alerts | Slack-format JSON posted to a local receiver, deduplicated | a real Slack / PagerDuty webhook with on-call routing |
# | audit | a SQLite table through SQLAlchemy, one row per (week, customer, model version), inputs as a hash | an append-only table in the warehouse (or object store) with retention rules and access control |

# %% [markdown]
# ## Summary
#
# The decisions of this notebook, as one line the course runner and the tests read.

# %%
from lifecycle_lab.course import summary

first = report.diagnosis.iloc[0] if len(report.diagnosis) else None
summary(f"first incident: {first.kind if first is not None else 'none'}; best policy {table.policy.iloc[0]}",
        truth=[c.kind for c in world.truth()], truth_weeks=[c.week for c in world.truth()],
        diagnosed=list(report.diagnosis.kind), onsets=[int(o) for o in report.diagnosis.onset],
        alert_weeks=[int(w) for w in new.week], alerts_sent=len(sent), alerts_received=len(rx.received),
        false_alarm_quiet=round(false_alarm_quiet, 4), false_alarm_here=round(false_alarm_here, 4),
        scenario_diagnoses={r.scenario: r.diagnosed for r in incidents.drop_duplicates("scenario").itertuples()},
        random_overstatement=round(leak["random_overstatement"], 4), time_overstatement=round(leak["time_overstatement"], 4),
        promote=bool(promote), best_policy=table.policy.iloc[0], best_policy_dearer=dearer.policy.iloc[0],
        retrains={r.policy: int(r.retrains) for r in table.itertuples()}, flow=flow,
        rows=len(audit), label_delay_weeks=world.label_delay_weeks,
        evidently={"weeks": len(ev.weeks), "labelled": len(ev.labelled_weeks), "panels": len(ev.panels)})
