"""Notebook 07's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it)."""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.projects.p07_reviews.world import NEW_PRODUCTS, SENTIMENTS, corrections, generate, served_reviews, \
    stratified_split

NOTEBOOK = "07_beginner_review_sentiment"

MIN_PER_LABEL = 5
"""Fewest reviews of each label the validation and the test set must hold (accuracy and F1 per label)."""
MIN_CORRECTED = 5
"""Fewest corrected labels of each product group (new, existing) the feedback section needs to measure errors."""


def feasible(p: Params) -> None:
    """Refuse, before anything runs, a split with a label too small to evaluate or a feedback table with too
    few corrected labels to measure (the check builds the same reviews and corrections as the notebook, in
    well under a second)."""
    data = generate(seed=p.seed, n_reviews=p.n_reviews, label_noise=p.label_noise)
    for part, frame in zip(("train", "validation", "test"), stratified_split(data, p.seed)):
        counts = {label: int((frame["label"] == label).sum()) for label in SENTIMENTS}
        if min(counts.values()) < MIN_PER_LABEL:
            raise ParameterError(f"n_reviews={p.n_reviews} with seed={p.seed} leaves the {part} set with {counts}: "
                                 f"fewer than {MIN_PER_LABEL} of a label; raise n_reviews")
    served = served_reviews(p.seed, p.n_requests, p.new_product_share)
    arrived = corrections(served, p.seed, p.correction_share)
    new = served.set_index("review_id").loc[arrived["review_id"], "product"].isin(NEW_PRODUCTS)
    if min(int(new.sum()), int((~new).sum())) < MIN_CORRECTED:
        raise ParameterError(f"n_requests={p.n_requests}, new_product_share={p.new_product_share}, correction_share="
                             f"{p.correction_share} give {int(new.sum())} corrected reviews of new products and "
                             f"{int((~new).sum())} of existing ones; the feedback section needs {MIN_CORRECTED} of "
                             f"each: raise n_requests or correction_share, or move new_product_share towards 0.5")


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 42, "drives every random draw: reviews, split, model, served traffic", low=0, high=2**31 - 1),
    Param("fast", bool, False, "fewer reviews and requests for a quick run"),
    Param("output_dir", "dir", None, "artifact, logs, databases (default build/outputs/07_beginner_review_sentiment)"),
    Param("n_reviews", int, 2000, "labelled reviews generated (train 60%, validation 20%, test 20%)", low=400,
          high=100_000),
    Param("label_noise", float, 0.05, "share of training labels the annotators got wrong", low=0.0, high=0.3),
    Param("min_gain", float, 0.05, "accuracy the classifier must gain over the rules to be worth running (fixed "
          "before the comparison)", low=0.0, high=0.5),
    Param("review_precision", float, 0.93, "predictions this precise are automatic; below the threshold a "
          "moderator reads the review", low=0.5, high=0.99),
    Param("n_requests", int, 300, "served reviews sent to the API by the request script", low=50, high=5000),
    Param("new_product_share", float, 0.2, "share of served reviews about products launched after training",
          low=0.05, high=0.8),
    Param("correction_share", float, 0.7, "share of served reviews whose true label arrives later", low=0.1,
          high=1.0),
], fast={"n_reviews": 1200, "n_requests": 200}, check=feasible)
