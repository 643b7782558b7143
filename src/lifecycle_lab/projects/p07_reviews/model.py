"""The two candidates for review sentiment: a lexicon rule (VADER) and a learned classifier (TF-IDF + logistic
regression), compared on the world's truth, and the classifier saved as the artifact the shared service loads.

Why VADER: the seed asks "could rules do it?" before training anything. VADER (Hutto and Gilbert, ICWSM 2014)
is the lexicon-and-rules tool people reach for: a hand-rated word list plus rules for negation, intensifiers,
"but" and punctuation, giving a `compound` score in [-1, 1]. Its authors suggest >= 0.05 positive and <= -0.05
negative with neutral in between; a product team needs two classes, so the notebook picks one cut-off.

Why these classifier types: the artifact goes through `deployment.registry`, whose loader rebuilds only the
exact types on `ALLOWED_TYPES`. The pipeline uses the same ones as the ticket model (Pipeline, TfidfVectorizer,
LogisticRegression), so the same batch job and API load it without widening that list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.deployment import registry
from lifecycle_lab.projects.p07_reviews.world import SENTIMENTS, data_hash

VADER_SUGGESTED = 0.05
"""The positive cut-off VADER's README suggests (compound >= 0.05 positive)."""


class ReviewModelError(LifecycleLabError, ValueError):
    """A model input is unusable as given; the message says what to pass instead."""


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound score of each text, in [-1, 1] (the lexicon ships with the package: no download)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(str(t))["compound"] for t in texts], dtype=float)


def vader_predict(scores, threshold: float = VADER_SUGGESTED) -> np.ndarray:
    """'positive' where compound >= threshold, else 'negative'."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not -1 <= threshold <= 1:
        raise ReviewModelError(f"threshold={threshold!r} must be a compound score between -1 and 1")
    return np.where(np.asarray(scores, dtype=float) >= threshold, "positive", "negative")


def accuracy_at(scores, labels, threshold: float) -> float:
    """Accuracy of the VADER rule at a cut-off, against the given labels."""
    return float(np.mean(vader_predict(scores, threshold) == np.asarray(labels)))


def best_vader_threshold(scores, labels) -> tuple[float, float]:
    """(cut-off, accuracy): the compound cut-off with the highest accuracy on these labels.

    Candidates are the midpoints between neighbouring observed scores (and both ends); on a tie the one
    nearest 0 wins (a rule should not lean on a lucky gap)."""
    s = np.unique(np.asarray(scores, dtype=float))
    if s.size == 0:
        raise ReviewModelError("no scores: score some reviews first")
    candidates = np.unique(np.r_[-1.0, (s[1:] + s[:-1]) / 2, 1.0])
    acc = np.array([accuracy_at(scores, labels, float(t)) for t in candidates])
    best = np.flatnonzero(acc >= acc.max() - 1e-12)
    i = best[np.argmin(np.abs(candidates[best]))]
    return float(candidates[i]), float(acc[i])


def build_classifier(seed: int, C: float = 4.0):
    """TF-IDF of words and word pairs ("not good" is one feature) + logistic regression, as one Pipeline."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    return Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
                     ("clf", LogisticRegression(C=C, max_iter=2000, random_state=seed))])


def scores(y_true, y_pred) -> dict[str, float]:
    """Accuracy and macro-F1 (scikit-learn's) of predictions against labels."""
    from sklearn.metrics import accuracy_score, f1_score

    return {"accuracy": float(accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=list(SENTIMENTS), zero_division=0))}


def by_kind(frame, predicted, truth: str = "sentiment") -> "object":
    """Accuracy per kind of review (plain, negation, ...) against `truth`, with the count: where a model fails."""
    import pandas as pd

    df = pd.DataFrame({"kind": frame["kind"].to_numpy(), "correct": np.asarray(predicted) == frame[truth].to_numpy()})
    out = df.groupby("kind", sort=False)["correct"].agg(["mean", "size"]).rename(columns={"mean": "accuracy",
                                                                                       "size": "reviews"})
    return out.sort_values("accuracy")


def save_classifier(model, folder, *, train, seed: int, version: str, metrics: dict, review_threshold: float):
    """Save the fitted classifier as a verified artifact (model.skops + model.json) through the shared registry
    code: the batch job and the API refuse it unless every type in it is on ALLOWED_TYPES."""
    meta = registry.save_artifact(model, folder, name="review-sentiment", version=version,
                                  training_data_sha256=data_hash(train), seed=seed, metrics=metrics,
                                  params={"features": "word 1-2 tf-idf", "C": float(model[-1].C)},
                                  review_threshold=review_threshold)
    registry.check_model_file(Path(folder) / registry.MODEL_FILE)  # the allow-list, checked now
    return meta


def write_decision(path, results, kinds, *, decision: str, gap: float, min_gain: float, cutoff: float) -> "object":
    """The rules-or-model decision as a short Markdown memo (the notebook's portfolio document)."""
    path = Path(path)
    lines = ["# Review sentiment: rules or model?", "",
             f"Criterion, fixed before the comparison: ship the classifier only if it beats the VADER rule by at "
             f"least {min_gain:.3f} accuracy on the test reviews' true sentiment.", "",
             f"VADER rule: positive when compound >= {cutoff:.3f} (cut-off chosen on the training reviews).", "",
             "| model | accuracy | macro-F1 |", "|---|---:|---:|"]
    lines += [f"| {name} | {row['accuracy']:.3f} | {row['macro_f1']:.3f} |" for name, row in results.iterrows()]
    lines += ["", "Accuracy by kind of review (test set, true sentiment):", "", "| kind | reviews | "
              + " | ".join(kinds.columns.drop("reviews")) + " |", "|---|---:|" + "---:|" * (len(kinds.columns) - 1)]
    lines += [f"| {kind} | {int(row['reviews'])} | " + " | ".join(f"{row[c]:.3f}" for c in kinds.columns.drop("reviews"))
              + " |" for kind, row in kinds.iterrows()]
    lines += ["", f"Gap (classifier minus rule): {gap:+.3f}. **Decision: ship the {decision}.**", ""]
    path.write_text("\n".join(lines))
    return path
