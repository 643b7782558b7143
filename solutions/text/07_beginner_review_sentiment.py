# %% [markdown]
# # 07 · Beginner: product-review sentiment, through the same service
#
# An online shop wants every new product review sorted into **positive** or **negative** as it arrives, so that
# negative ones reach the product's support team the same day. This notebook is seed 002's beginner project (*an
# end-to-end sentiment model for product reviews, deployed, with a script that sends test requests whose logged
# predictions start a feedback loop*) built the way a team with one model already in production would build it:
# the second model goes through **the same** service and batch job as the first (notebook 01's ticket classifier),
# not a copy of them.
#
# | section | lifecycle stage | what you do |
# |---|---|---|
# | 1 | framing | the decision, success criteria fixed **before** any result, the non-ML alternative |
# | 2 | data | seeded reviews with their true sentiment, noisy annotator labels and the hard cases |
# | 3 | could rules do it? | VADER, a real lexicon tool, and the cut-off it needs |
# | 4 | model | TF-IDF + logistic regression against VADER on the truth, by kind of review; rules or model? |
# | 5 | artifact | the classifier saved through the registry's allow-list, with its review threshold |
# | 6 | serving | `lifecycle-lab serve` and `lifecycle-lab batch` with the sentiment artifact; the request script |
# | 7 | feedback | logged predictions and later corrected labels in one table; accuracy from it; what errors it shows |
#
# Course text: chapters *Framing* (non-ML baselines), *Deployment* and *Monitoring* in `course/`. Everything runs
# offline: the reviews come from a seeded generator (`lifecycle_lab.projects.p07_reviews.world`), not a download.

# %% [markdown]
# ## Parameters
#
# Try `label_noise=0.2` (sloppier annotators), `new_product_share=0.5` (more traffic the model has not seen),
# `min_gain=0.2` (a team that only runs a model for a large gain) or `correction_share=0.3` (fewer labels come back).

# %% tags=["parameters"]
seed = 42                 # drives every random draw: reviews, split, model, served traffic
fast = False              # True: fewer reviews and requests for a quick run
output_dir = None         # artifact, logs, databases (default build/outputs/07_...)
n_reviews = 2000          # labelled reviews generated (train 60%, validation 20%, test 20%)
label_noise = 0.05        # share of training labels the annotators got wrong
min_gain = 0.05           # accuracy the classifier must gain over the rules to be worth running
review_precision = 0.93   # predictions this precise are automatic; below the threshold a moderator reads the review
n_requests = 300          # served reviews sent to the API by the request script
new_product_share = 0.2   # share of served reviews about products launched after training
correction_share = 0.7    # share of served reviews whose true label arrives later

# %%
from lifecycle_lab.projects import p07_reviews as project

P = project.PARAMETERS.validate(globals())  # types, bounds, and that the split and the feedback have enough rows
print(P)

# %%
# %matplotlib inline
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from lifecycle_lab.base import paths
from lifecycle_lab.projects.p07_reviews import exercises, feedback, serving, world
from lifecycle_lab.projects.p07_reviews import model as sentiment

out = paths.output_dir(project.NOTEBOOK, P.output_dir)
for stale in ("artifact", "predictions.jsonl", "batch.db", "feedback.db", "batch"):
    target = out / stale  # every run starts from an empty log and empty databases: reproducible outputs
    shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)

# %% [markdown]
# ## 1. Framing
#
# **Decision:** each new review goes to the product's support queue (negative) or not (positive). **Cost of an
# error:** a missed complaint waits for a week; a false alarm costs a support agent a minute. **Success criteria,
# written before any model is trained**, so no result can bend them:
#
# - accuracy on the reviews' **true** sentiment (not the annotators' labels, which are sometimes wrong), on a test
#   set touched once;
# - the classifier ships only if it beats the rules by at least `min_gain` accuracy: a model costs training data,
#   retraining and monitoring, rules cost none of that (ML Test Score *Model 5: a simpler model is not better*);
# - predictions below a confidence threshold go to a moderator; the automatic ones must be `review_precision` precise.
#
# **The non-ML alternative** is a sentiment lexicon: a list of words rated by people, plus rules. It needs no
# labelled data at all. Section 3 measures whether it is enough.

# %%
criteria = {"metric": "accuracy on the true sentiment (test set)", "classifier must beat the rules by": P.min_gain,
            "automatic predictions precise to at least": P.review_precision}
for name, value in criteria.items():
    print(f"{name:42} {value}")

# %% [markdown]
# ## 2. Data
#
# Each generated review has a product, a star rating, a text, the **label** an annotator gave it and its true
# **sentiment** (which the world knows and a real team learns only later, one review at a time). `kind` records
# what makes a review easy or hard: opinion words (`plain`), negated ones (`negation`), facts without opinion
# words (`factual`), praise that means the opposite (`sarcasm`, always negative here), both (`mixed`, the clause
# after "but" decides), and 3-star "it's okay" reviews whose text does not settle it (`lukewarm`).

# %%
data = world.generate(seed=P.seed, n_reviews=P.n_reviews, label_noise=P.label_noise)
train, val, test = world.stratified_split(data, P.seed)
print(f"{len(data)} reviews: train {len(train)}, validation {len(val)}, test {len(test)}; "
      f"{(data['sentiment'] == 'positive').mean():.0%} positive; annotator labels wrong on {data['noisy'].mean():.1%}")
with pd.option_context("display.max_colwidth", 90, "display.width", 170):
    print(data.groupby("kind").head(1)[["kind", "stars", "text", "label", "sentiment"]].to_string(index=False))

# %%
print("stars against the true sentiment (reviews):")
print(pd.crosstab(data["stars"], data["sentiment"]).to_string())

# %% [markdown]
# Stars look like a free label, but a 3-star review can be either, and a team that trains on stars learns the
# stars, not the text. The annotators' `label` is what the models train on; the truth is only for judging them.
#
# ## 3. Could rules do it? VADER
#
# VADER (Hutto and Gilbert, ICWSM 2014; the `vaderSentiment` package) scores a text from a lexicon of about 7,500
# rated words and a few rules: negation ("not good" flips and damps "good"), intensifiers ("very"), "but" (the
# clause after it weighs more), capitals and exclamation marks. Its `compound` score lies in [-1, 1]. Its authors
# suggest positive at >= 0.05; we need one cut-off for two classes, and it should be chosen on the training
# reviews, like any other parameter.

# %%
train_scores = sentiment.vader_scores(train["text"])
test_scores = sentiment.vader_scores(test["text"])
fig, ax = plt.subplots(figsize=(7, 3.5))
for label, colour in (("negative", "tab:red"), ("positive", "tab:green")):
    ax.hist(train_scores[train["sentiment"] == label], bins=40, range=(-1, 1), alpha=0.6, color=colour, label=label)
ax.axvline(sentiment.VADER_SUGGESTED, color="grey", linestyle=":", label="suggested cut-off 0.05")
ax.set_xlabel("VADER compound score (unitless, -1 to 1)")
ax.set_ylabel("training reviews (count)")
ax.set_title("VADER scores of the training reviews, by true sentiment")
ax.legend()
plt.show()

# %% [markdown]
# **Exercise 1.** Find the cut-off `t` (positive when `compound >= t`) with the highest accuracy on the training
# reviews' labels (`train["label"]`), and that accuracy. Only cut-offs between two observed scores change anything.

# %%
train_labels = train["label"].to_numpy()
ex1 = exercises.vader_cutoff(train_scores, train_labels)
### BEGIN SOLUTION
s = np.unique(train_scores)
cuts = (s[1:] + s[:-1]) / 2
acc = [(np.where(train_scores >= t, "positive", "negative") == train_labels).mean() for t in cuts]
answer = {"threshold": float(cuts[np.argmax(acc)]), "accuracy": float(max(acc))}
### END SOLUTION
#> answer = {"threshold": None, "accuracy": None}
answer = ex1.check(answer)
cutoff = float(answer["threshold"])
suggested = sentiment.accuracy_at(train_scores, train_labels, sentiment.VADER_SUGGESTED)
print(f"cut-off {cutoff:.3f}: training accuracy {answer['accuracy']:.3f} (at the suggested 0.05: {suggested:.3f})")

# %% [markdown]
# Compare the two accuracies above. Shop reviews carry polite words ("Thanks", "would buy from this seller
# again") that lift a complaint's score a little, so for most seeds the best cut-off sits well above the suggested
# 0.05; for some it is near 0. Either way it was chosen on this shop's reviews: a lexicon's defaults were tuned on
# someone else's text.
#
# ## 4. The classifier, and the comparison on the truth
#
# TF-IDF of words and word pairs (so "not good" is a feature of its own) and logistic regression, trained on the
# annotators' labels. Both candidates are then judged on the **test** reviews' true sentiment.

# %%
clf = sentiment.build_classifier(P.seed).fit(train["text"], train["label"])
rule_test = sentiment.vader_predict(test_scores, cutoff)
model_test = clf.predict(test["text"])
results = pd.DataFrame({"VADER rule": sentiment.scores(test["sentiment"], rule_test),
                        "classifier": sentiment.scores(test["sentiment"], model_test)}).T
noisy_view = {name: sentiment.scores(test["label"], pred)["accuracy"]
              for name, pred in (("VADER rule", rule_test), ("classifier", model_test))}
print("test set, against the true sentiment:")
print(results.round(3).to_string())
print("the same, against the annotators' labels:", {k: round(v, 3) for k, v in noisy_view.items()})

# %%
kinds = sentiment.by_kind(test, rule_test).rename(columns={"accuracy": "VADER rule"})
kinds["classifier"] = sentiment.by_kind(test, model_test)["accuracy"]
fig, ax = plt.subplots(figsize=(7, 3.5))
kinds[["VADER rule", "classifier"]].plot.bar(ax=ax, rot=0, color=["tab:orange", "tab:blue"])
ax.set_xlabel("kind of review")
ax.set_ylabel("accuracy on the true sentiment (fraction)")
ax.set_ylim(0, 1.05)
ax.set_title("Where each model is right, by kind of test review")
plt.show()
print(kinds.round(3).to_string())

# %% [markdown]
# **Exercise 2.** On which kind of test review is the rule worst, what is its accuracy there, and why does a
# lexicon fail on it? (Use `rule_test` against `test["sentiment"]`, grouped by `test["kind"]`.)

# %%
ex2 = exercises.where_rules_fail(test, rule_test)
### BEGIN SOLUTION
acc = test.assign(ok=rule_test == test["sentiment"]).groupby("kind")["ok"].mean().sort_values()
answer = {"worst_kind": acc.index[0], "accuracy": float(acc.iloc[0]),
          "why": "the lexicon scores words, and sarcastic reviews use praise words to complain"}
### END SOLUTION
#> answer = {"worst_kind": None, "accuracy": None, "why": ""}
answer = ex2.check(answer)

# %% [markdown]
# VADER's negation rule does its job ("not bad at all" scores positive). Its failures are where the words and the
# meaning part: sarcasm, and complaints made of facts ("stopped charging after a week") with no rated word in
# them. Lukewarm reviews are near a coin for both: the text does not say, so no model can.
#
# **Exercise 3.** Would rules do? Compute the gap (classifier accuracy minus the rule's, on the truth), apply the
# criterion of section 1, and justify the decision in two sentences.

# %%
ex3 = exercises.rules_or_model(results.loc["VADER rule", "accuracy"], results.loc["classifier", "accuracy"],
                               P.min_gain)
### BEGIN SOLUTION
gap = float(results.loc["classifier", "accuracy"] - results.loc["VADER rule", "accuracy"])
decision = "classifier" if gap >= P.min_gain else "rules"
answer = {"gap": gap, "decision": decision,
          "reason": (f"ship the classifier rather than the rules: it gains {gap:+.3f} accuracy on the true labels "
                     f"and the criterion asks for {P.min_gain}; the lexicon misses sarcasm and factual complaints."
                     if decision == "classifier" else f"ship the rules, not the classifier: the accuracy gap of "
                     f"{gap:+.3f} is below {P.min_gain}, and the rules need no labels or retraining.")}
### END SOLUTION
#> answer = {"gap": None, "decision": None, "reason": ""}
answer = ex3.check(answer)
memo = sentiment.write_decision(out / "rules_or_model.md", results, kinds, decision=answer["decision"],
                                gap=answer["gap"], min_gain=P.min_gain, cutoff=cutoff)
print(f"decision: ship the {answer['decision']}; memo written to {memo.name}")

# %% [markdown]
# ## 5. The artifact: the same registry code, the same allow-list
#
# The threshold below which a moderator reads the review is chosen on the **validation** set for the stated
# precision (`evaluation.metrics.review_threshold`, the same function notebook 01 uses). The model is saved with
# `deployment.registry.save_artifact`: `model.skops` plus `model.json` with the version, training-data hash, seed,
# library versions, metrics, the threshold and checksums. A model file can carry code, so the service loads only
# the exact types on `registry.ALLOWED_TYPES`; this pipeline uses the ticket model's types, so the list did not
# have to grow.

# %%
from lifecycle_lab.deployment import registry
from lifecycle_lab.evaluation import metrics

val_proba = clf.predict_proba(val["text"])
review = metrics.review_threshold(val["label"], clf.predict(val["text"]), val_proba.max(axis=1), P.review_precision)
artifact = out / "artifact"
meta = sentiment.save_classifier(clf, artifact, train=train, seed=P.seed, version="1",
                                 metrics=results.loc["classifier"].to_dict(), review_threshold=review.threshold)
types = registry.check_model_file(artifact / registry.MODEL_FILE)
print(f"review threshold {review.threshold:.3f}: {review.coverage:.0%} of validation reviews automatic at "
      f"precision {review.precision:.3f}")
print(f"artifact {meta.name} version {meta.version}, classes {meta.classes}, data {meta.training_data_sha256[:12]}...")
print("types in the file, all on the allow-list:", [t.rsplit(".", 1)[1] for t in types if t.startswith("sklearn")])

# %% [markdown]
# ## 6. Served by the same service and the same batch job
#
# The service notebook 01 built is `lifecycle-lab serve --model FOLDER`: it loads any verified artifact whose
# pipeline takes texts, and reads the classes and the review threshold from it. Nothing was copied or changed for
# reviews. The notebook starts the real command on a free port of 127.0.0.1 (`serving.Service`), then **the request
# script** (`serving.send_requests`) posts `n_requests` reviews that arrived after launch, one request each, a
# share of them about products launched since training. The service's schema was written for tickets: a review's
# id travels in its `ticket_id` field, echoed back and logged.

# %%
import httpx

served = world.served_reviews(P.seed, P.n_requests, P.new_product_share)
log_path = out / "predictions.jsonl"
with serving.Service(artifact, log_path) as service:
    info = httpx.get(service.url + "/model").json()
    answers = serving.send_requests(service.url, served)
    refused = httpx.post(service.url + "/predict", json={"text": "   "})
print("GET /model:", {k: info[k] for k in ("name", "version", "classes")},
      f"review threshold {info['review_threshold']:.3f}")
print(f"{len(answers)} requests answered; {answers['needs_review'].mean():.0%} sent to a moderator")
print(f"a blank review -> HTTP {refused.status_code}: {refused.json()['error']}")
print(answers.drop(columns="request_id").head(3).round(3).to_string(index=False))

# %% [markdown]
# The nightly path is the same batch job as the tickets': a CSV of the day's reviews scored into a database
# (idempotent upserts, a `runs` table, rejects kept with a reason), run as the command a scheduler would run.

# %%
db_url = f"sqlite:///{out / 'batch.db'}"
batch_input = serving.write_batch_input(served, out / "batch" / "reviews_day1.csv")
report = serving.run_batch(batch_input, db_url, artifact, ledger=out / "batch" / "runs_failed.jsonl")
print("lifecycle-lab batch ->", {k: report[k] for k in ("status", "rows_in", "rows_written", "rows_rejected")})
scored = serving.read_predictions(db_url, report["run_id"]).set_index("review_id").loc[answers["review_id"]]
same = bool((scored["predicted_label"].to_numpy() == answers["predicted_label"].to_numpy()).all())
print(f"batch and API agree on every review: {same}")

# %% [markdown]
# ## 7. The feedback table: predictions now, the truth later
#
# The service logged each prediction (request id, the review id, model version, class, confidence). The true
# labels come back days later, for some reviews only: a moderator read it, the customer returned the product,
# support talked to them. Both land in one SQLite table (`feedback.py`, SQLAlchemy): predictions keyed on
# `request_id`, corrections attached by `review_id`. Logs get shipped twice and exports re-run, so both loads are
# idempotent: loading the same thing again adds and changes nothing.

# %%
fb = feedback.connect(f"sqlite:///{out / 'feedback.db'}")
records = feedback.read_log(log_path)
print(f"predictions added: {feedback.ingest_predictions(fb, records)}, "
      f"the same log again: {feedback.ingest_predictions(fb, records)}")
arrived = world.corrections(served, P.seed, P.correction_share)
first_week = arrived[arrived["arrives_day"] <= 7]
print("first week's corrections:", feedback.ingest_corrections(fb, first_week),
      "the same export again:", feedback.ingest_corrections(fb, first_week))
table = feedback.read_feedback(fb)
print(f"{len(table)} rows, {table['corrected_label'].notna().sum()} with a corrected label")

# %% [markdown]
# **Exercise 4.** From `table`, compute the accuracy of the served predictions whose true label has arrived, and
# how many rows that is. (The check computes it from the world's truth and the request script's own record.)

# %%
ex4 = exercises.feedback_accuracy(answers, first_week)
### BEGIN SOLUTION
labelled = table.dropna(subset=["corrected_label"])
answer = {"accuracy": float((labelled.predicted_label == labelled.corrected_label).mean()), "labelled": len(labelled)}
### END SOLUTION
#> answer = {"accuracy": None, "labelled": None}
answer = ex4.check(answer)

# %%
feedback.ingest_corrections(fb, arrived)  # the rest arrive over the second week
table = feedback.read_feedback(fb).merge(served[["review_id", "product", "kind", "text"]], on="review_id")
truth = served.set_index("review_id").loc[table["review_id"], "sentiment"].to_numpy()
true_accuracy = float((table["predicted_label"].to_numpy() == truth).mean())  # what no team can see
by_day = feedback.accuracy_as_labels_arrive(table)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(by_day["day"], by_day["accuracy"], marker="o", label="from the feedback table (labelled rows)")
ax.axhline(true_accuracy, color="grey", linestyle="--", label="on every served review (the world's truth)")
ax.set_xlabel("days after serving")
ax.set_ylabel("accuracy (fraction)")
ax.set_title("Served accuracy as the corrected labels arrive")
ax.legend()
plt.show()
measured = float(by_day["accuracy"].iloc[-1])
print(f"after {len(by_day)} days: {measured:.3f} measured on {by_day['labelled'].iloc[-1]} rows; "
      f"true accuracy on all {len(table)}: {true_accuracy:.3f}")

# %% [markdown]
# **Exercise 5.** What do the corrections reveal? Compute the error rate of the labelled rows on products launched
# after training (`world.NEW_PRODUCTS`) and on the others.

# %%
labelled = table.dropna(subset=["corrected_label"])
NEW_PRODUCTS = world.NEW_PRODUCTS
ex5 = exercises.error_rates_by_product(labelled)
### BEGIN SOLUTION
new = labelled["product"].isin(NEW_PRODUCTS)
wrong = labelled["predicted_label"] != labelled["corrected_label"]
answer = {"error_new": float(wrong[new].mean()), "error_existing": float(wrong[~new].mean())}
### END SOLUTION
#> answer = {"error_new": None, "error_existing": None}
answer = ex5.check(answer)
errors = labelled[(labelled["predicted_label"] != labelled["corrected_label"]) & labelled["product"].isin(NEW_PRODUCTS)]
with pd.option_context("display.max_colwidth", 80, "display.width", 170):
    print(f"{len(errors)} corrected errors on the new products, the most confident ones:")
    print(errors.sort_values("confidence", ascending=False).head(5)[["product", "text", "predicted_label",
                                                                    "corrected_label"]].to_string(index=False))

# %% [markdown]
# The corrections point at the new products: their complaints use words the training reviews never had ("bricked",
# "firmware", "pairing"), so the model falls back on the polite rest of the text. That is the start of the loop:
# the corrected rows are new training data. Retrained on them, the model is judged on a fresh day of traffic it
# has not seen (and the world's truth), before and after.

# %%
grown = pd.concat([train[["text", "label"]], labelled[["text", "corrected_label"]].rename(
    columns={"corrected_label": "label"})], ignore_index=True)
retrained = sentiment.build_classifier(P.seed).fit(grown["text"], grown["label"])
next_day = world.served_reviews(P.seed + 1, 1000, P.new_product_share)
before = sentiment.scores(next_day["sentiment"], clf.predict(next_day["text"]))["accuracy"]
after = sentiment.scores(next_day["sentiment"], retrained.predict(next_day["text"]))["accuracy"]
print(f"next day's {len(next_day)} reviews: accuracy {before:.3f} before, {after:.3f} after retraining on "
      f"{len(labelled)} corrected rows")

# %% [markdown]
# A real loop adds what this one leaves out: a gate before the retrained model replaces the served one (notebook
# 01's release rule), corrections that are not a random sample (people report the reviews that annoyed them, so
# the measured accuracy is biased), and label delay in the monitoring (notebook 04).
#
# ## Summary

# %%
from lifecycle_lab.course import summary

summary(
    f"classifier {results.loc['classifier', 'accuracy']:.2f} vs VADER {results.loc['VADER rule', 'accuracy']:.2f} "
    f"accuracy on the truth: ship the {ex3.reference['decision']}; feedback accuracy {measured:.2f}",
    vader_cutoff=round(cutoff, 4), vader_accuracy=round(float(results.loc["VADER rule", "accuracy"]), 4),
    vader_macro_f1=round(float(results.loc["VADER rule", "macro_f1"]), 4),
    model_accuracy=round(float(results.loc["classifier", "accuracy"]), 4),
    model_macro_f1=round(float(results.loc["classifier", "macro_f1"]), 4),
    worst_kind_for_rules=str(kinds.index[0]), decision=ex3.reference["decision"],
    review_threshold=round(float(review.threshold), 4), served=int(len(answers)), batch_agrees=same,
    batch_rows_written=int(report["rows_written"]), feedback_rows=int(len(table)),
    corrected=int(table["corrected_label"].notna().sum()), feedback_accuracy=round(float(measured), 4),
    true_served_accuracy=round(true_accuracy, 4), error_new=round(float(ex5.reference["error_new"]), 4),
    error_existing=round(float(ex5.reference["error_existing"]), 4),
    next_day_before=round(float(before), 4), next_day_after=round(float(after), 4),
)
