# %% [markdown]
# # 00 · Start here: how this workbook works, and a warm-up on evaluation metrics
#
# Welcome to **Lifecycle Lab**. Each practice project is a real, runnable system that takes a model through
# one or more stages of the ML product lifecycle:
#
# | stage | where you practise it |
# |---|---|
# | problem framing, data, training, evaluation | `01_beginner_ticket_classifier` |
# | deployment (batch job, REST API), monitoring | `01_beginner_ticket_classifier` |
# | graduation gates, experiments, rollout, drift | `02_intermediate_graduation_gate` |
# | governance, explainability, fairness, sunset | `03_advanced_governance_sunset` |
# | operating a live model: monitoring, alerts, diagnosis, remediation, retraining policies | `04_intermediate_operate_churn` |
# | feedback loops: implicit feedback, exploration, off-policy evaluation, guardrails, serving cost | `05_advanced_feedback_loop_recommender` |
# | governance of a whole platform: stage gates, registry checks, council, roadmap, retire or retrain | `06_advanced_platform_governance` |
# | a second model through the same service: rules or ML, serving, a feedback table | `07_beginner_review_sentiment` |
#
# This notebook does three things: it checks that your environment is the one the course was tested with,
# it shows how parameters, exercises, hints and solutions work, and it warms you up on the metrics every
# later notebook uses: the confusion matrix, precision, recall, F1, ROC-AUC, and the trade-off you make when
# you move a decision threshold. The course text for these ideas is in `course/` (chapter *Training and
# evaluation*); the site is built with `make site`.

# %% [markdown]
# ## Parameters
#
# Every notebook starts with a cell tagged `parameters`. Running the notebook yourself uses these defaults;
# `lifecycle-lab run 00 --seed 7 -p min_precision=0.8` (or papermill) injects other values after this
# cell. An instructor gives each workshop team its own `seed`: the data, the numbers and the exercise
# checks all follow it.

# %% tags=["parameters"]
seed = 42             # drives every random draw in this notebook
fast = False          # True: smaller data for a quick run
n_tickets = 4000      # tickets generated (half train the model, half are scored)
urgent_share = 0.2    # share of urgent tickets
min_precision = 0.75  # the precision the support team asks for when we flag a ticket urgent
output_dir = None     # where files go (default: build/outputs/00_start_here)

# %%
from lifecycle_lab.projects import p00_start_here as project

P = project.PARAMETERS.validate(globals())  # types, bounds, the fast caps, and whether this combination can run
print(f"seed={P.seed}, tickets={P.n_tickets}, urgent share={P.urgent_share}, precision target={P.min_precision}")

# %% [markdown]
# ## 1. Is this the environment the course was tested with?
#
# Course notebooks break most often because a library changed under them. The workbook pins every
# package in one generated lock file, `requirements.lock`; `make course` and `make test` install exactly
# that into `.venv`. The table compares what is installed with what is locked.

# %%
from lifecycle_lab.base import env
from lifecycle_lab.base import paths

locked = env.locked_versions((paths.ROOT / "requirements.lock").read_text())
installed = env.versions()
for name, version in installed.items():
    want = locked.get(env.normalise(name), "not locked")
    status = "ok" if version == want else "DIFFERENT: run `make env`"
    print(f"{name:14} {version:10} locked {want:10} {status}")

# %% [markdown]
# **Offline.** Nothing in this workbook downloads data, models or pages: data sets are generated from
# seeds or shipped in `datasets/`. The next cell switches off the usage telemetry of MLflow and Evidently
# and installs a guard that makes any connection outside this machine fail loudly for the rest of the
# session, so offline is checked, not just promised.

# %%
print(env.disable_telemetry())
env.forbid_network()
print("network guard on: connections outside 127.0.0.1 now raise OfflineViolation")

# %% [markdown]
# ## 2. How exercises work
#
# An exercise cell in your copy (`notebooks/`) looks like this:
#
# ```python
# answer = None  # a dict {"precision": ..., "recall": ..., "f1": ...}
# answer = ex1.check(answer)
# ```
#
# Replace the stub with your code and run the cell. `check` tells you at once whether you are right, and
# if not, which part is wrong and what to try. Until you answer, it says *not attempted yet* and the
# notebook carries on with the reference result, so you can run everything first and come back.
# `ex1.hint(1)`, `ex1.hint(2)`, ... give hints from a nudge to nearly the answer; `ex1.solution()` shows
# one answer. The solved notebooks, with their outputs, are in `solutions/`.
#
# The expected answers are computed from *this* notebook's data, so they change with the seed.

# %% [markdown]
# ## 3. Warm-up: which tickets are urgent?
#
# A support team wants urgent tickets flagged. A model gives each ticket a score between 0 and 1. We
# score held-out tickets and look at what happens when we flag every ticket whose score is at least a
# threshold.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
from sklearn.metrics import confusion_matrix
from lifecycle_lab.projects.p00_start_here.world import urgent_ticket_scores
from lifecycle_lab.projects.p00_start_here import exercises as start_here

tickets = urgent_ticket_scores(n=P.n_tickets, seed=P.seed, urgent_share=P.urgent_share)
truth = tickets["urgent"].to_numpy()
scores = tickets["score"].to_numpy()
print(f"{len(tickets)} scored tickets, {truth.sum()} urgent ({truth.mean():.1%})")
tickets.head()

# %% [markdown]
# ### The confusion matrix
#
# At a threshold of 0.5, each ticket lands in one of four cells: true positive (urgent and flagged), false
# positive (flagged but not urgent), false negative (urgent but missed), true negative. Rows are the truth,
# columns the prediction.

# %%
predicted = (scores >= 0.5).astype(int)
cm = confusion_matrix(truth, predicted)
fig, ax = plt.subplots(figsize=(4, 3.5))
ax.imshow(cm, cmap="Blues")
for (i, j), count in np.ndenumerate(cm):
    ax.text(j, i, f"{count}", ha="center", va="center", color="black")
ax.set_xticks([0, 1], ["not urgent", "urgent"])
ax.set_yticks([0, 1], ["not urgent", "urgent"])
ax.set_xlabel("predicted class (threshold 0.5)")
ax.set_ylabel("true class")
ax.set_title("Confusion matrix, counts of tickets")
plt.show()
print(cm)

# %% [markdown]
# **Exercise 1.** From `cm`, compute precision (of the flagged tickets, how many are urgent?), recall (of
# the urgent tickets, how many did we flag?) and F1 (their harmonic mean) for the *urgent* class.

# %%
ex1 = start_here.confusion_metrics(truth, predicted)
### BEGIN SOLUTION
tn, fp, fn, tp = cm.ravel()
precision = tp / (tp + fp) if tp + fp else 0.0  # nothing flagged: count precision as 0, as sklearn does
recall = tp / (tp + fn)
f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
answer = {"precision": float(precision), "recall": float(recall), "f1": float(f1)}
### END SOLUTION
#> answer = None  # a dict {"precision": ..., "recall": ..., "f1": ...}
metrics_at_half = ex1.check(answer)

# %% [markdown]
# **Exercise 2.** Write `f1(tp, fp, fn)` as a function. The check runs it on seven cases, including ones where
# a naive formula divides by zero (no ticket flagged; no urgent ticket at all; nothing to count at all).

# %%
ex2 = start_here.f1_from_counts()
### BEGIN SOLUTION
def f1(tp, fp, fn):
    denominator = 2 * tp + fp + fn
    return 0.0 if denominator == 0 else 2 * tp / denominator
### END SOLUTION
#> def f1(tp, fp, fn):
#>     raise NotImplementedError  # return the F1 score computed from tp, fp and fn
f1 = ex2.check(f1)
print(f"F1 at threshold 0.5: {f1(int(cm[1, 1]), int(cm[0, 1]), int(cm[1, 0])):.4f}")

# %% [markdown]
# ### ROC-AUC: ranking quality, whatever the threshold
#
# The ROC curve plots the true-positive rate against the false-positive rate as the threshold sweeps from
# 1 down to 0. The area under it (ROC-AUC) is the probability that a randomly chosen urgent ticket scores
# higher than a randomly chosen non-urgent one: 0.5 is a coin, 1.0 a perfect ranking.

# %%
from sklearn.metrics import roc_curve

fpr, tpr, _ = roc_curve(truth, scores)
fig, ax = plt.subplots(figsize=(4.5, 4))
ax.plot(fpr, tpr, label="model")
ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random ranking")
ax.set_xlabel("false-positive rate (fraction of non-urgent tickets flagged)")
ax.set_ylabel("true-positive rate (recall)")
ax.set_title("ROC curve of the urgency model")
ax.legend()
plt.show()

# %% [markdown]
# **Exercise 3.** Compute ROC-AUC yourself by counting pairs: over all (urgent, non-urgent) pairs, the share
# where the urgent ticket has the higher score, ties counting one half.

# %%
ex3 = start_here.roc_auc(truth, scores)
### BEGIN SOLUTION
pos, neg = scores[truth == 1], scores[truth == 0]
wins = (pos[:, None] > neg[None, :]).sum()
ties = (pos[:, None] == neg[None, :]).sum()
answer = (wins + 0.5 * ties) / (len(pos) * len(neg))
### END SOLUTION
#> answer = None  # a number between 0 and 1
auc = ex3.check(answer)
print(f"ROC-AUC = {auc:.4f}")

# %% [markdown]
# ### Moving the threshold: the precision / recall trade-off
#
# Raising the threshold flags fewer tickets: precision usually rises, recall falls. The team has told us
# what it needs, **before** we looked at results: precision of at least `min_precision`, because every false
# alarm pulls an engineer off other work. Within that constraint we want the highest recall.

# %%
import pandas as pd
from sklearn.metrics import precision_recall_curve

precision_curve, recall_curve, thresholds = precision_recall_curve(truth, scores)
table = pd.DataFrame({"threshold": thresholds, "precision": precision_curve[:-1], "recall": recall_curve[:-1]})
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(table.threshold, table.precision, label="precision")
ax.plot(table.threshold, table.recall, label="recall")
ax.axhline(P.min_precision, color="grey", linestyle=":", label=f"precision target {P.min_precision}")
ax.set_xlabel("decision threshold (model score)")
ax.set_ylabel("metric value (fraction)")
ax.set_title("Precision and recall as the threshold moves")
ax.legend()
plt.show()
table.iloc[:: max(1, len(table) // 10)].round(3)

# %% [markdown]
# **Exercise 4.** Choose the threshold: the one with the highest recall among those that meet the precision
# target. Report it as a small decision record with the recall you get and one or two sentences on the
# trade-off. The check tests each field against the table above.

# %%
ex4 = start_here.threshold_memo(truth, scores, P.min_precision)
### BEGIN SOLUTION
ok = table[table.precision >= P.min_precision]
row = ok.loc[ok.recall.idxmax()]
answer = {"threshold": float(row.threshold), "recall": float(row.recall),
          "reason": "the lowest threshold that meets the precision target keeps recall as high as possible; "
                    "the urgent tickets below it are missed (false negatives)"}
### END SOLUTION
#> answer = {"threshold": None, "recall": None, "reason": ""}
decision = ex4.check(answer)
print(f"flag tickets with score >= {decision['threshold']:.3f}: recall {decision['recall']:.3f}")

# %% [markdown]
# ### Checked quizzes
#
# Each chapter of the course text ends with a short quiz, checked the same way as the exercises: answer one
# question per call and read the feedback and the explanation. Question 2 of the *evaluation* quiz is the F1
# score you just coded, so the cell below answers it with your own `f1` function. The other quizzes are
# `framing`, `data`, `deployment`, `monitoring`, `retraining`, `governance` and `retirement`; on the command
# line, `lifecycle-lab quiz evaluation` asks them one by one.

# %%
from lifecycle_lab.course.quiz import load_quiz

quiz = load_quiz("evaluation")
print(quiz.question(2).text())
answered_right = quiz.answer(2, round(f1(40, 10, 20), 3))  # your f1 from exercise 2; quiz.hint(2): a hint

# %% [markdown]
# ## Summary
#
# - The environment matches the lock file, and the session is guarded against network access.
# - At a threshold of 0.5 the model's precision, recall and F1 are in exercise 1; ROC-AUC summarises the
#   ranking whatever the threshold.
# - The threshold is a product decision: the precision target came from the support team before we
#   looked, and the chosen threshold is the one that keeps recall highest within it.
#
# Next: `01_beginner_ticket_classifier`, where a real text classifier goes from notebook to a scheduled
# batch job, an API and a monitoring dashboard.

# %%
from lifecycle_lab.course import summary

summary(f"ROC-AUC {auc:.3f}; flag at score >= {decision['threshold']:.3f} for precision >= {P.min_precision} "
        f"with recall {decision['recall']:.2f}",
        roc_auc=round(float(auc), 4), threshold=round(float(decision["threshold"]), 4),
        recall=round(float(decision["recall"]), 4), f1_at_half=round(float(metrics_at_half["f1"]), 4),
        tickets=int(len(tickets)))
