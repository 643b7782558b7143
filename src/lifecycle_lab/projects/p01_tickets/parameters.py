"""Notebook 01's parameters, declared once (the notebook's validation cell and `lifecycle-lab run` use it)."""

from __future__ import annotations

from lifecycle_lab.base.params import NotebookParameters, Param, ParameterError, Params
from lifecycle_lab.projects.p01_tickets.world import CLASSES, generate, stratified_split

NOTEBOOK = "01_beginner_ticket_classifier"

MIN_PER_CLASS = 3
"""Fewest tickets of each class the validation and the test set must hold: per-class precision, recall and
one-vs-rest ROC-AUC need every class on both sides, and a class seen once or twice gives no usable number."""

CHECK_UP_TO = 20_000
"""Generated data sets up to this size are built and split in the check (under a second); above it every
class has thousands of tickets and the split cannot come out short, so the check is skipped."""


def split_counts(data, seed: int) -> dict[str, dict[str, int]]:
    """Tickets per class in each part of the notebook's split: {"train": {...}, "validation": {...}, "test": {...}}."""
    parts = dict(zip(("train", "validation", "test"), stratified_split(data, seed)))
    return {name: {c: int((part["label"] == c).sum()) for c in CLASSES} for name, part in parts.items()}


def feasible(p: Params) -> None:
    """Refuse, before anything runs, generated tickets whose split leaves a class too small to evaluate.

    Why: the evaluation section reports precision, recall and ROC-AUC per class on the test set and chooses
    the review threshold on validation; a class with fewer than MIN_PER_CLASS tickets there makes those
    numbers undefined or meaningless. The check builds the same tickets and split as the notebook. A
    learner's own file (`tickets_csv`) is checked for existence by its declaration and for its columns and
    rows when the notebook reads it (the schema error names the column or row)."""
    if p.tickets_csv is not None or p.n_tickets > CHECK_UP_TO:
        return
    data = generate(seed=p.seed, n_tickets=p.n_tickets, label_noise=p.label_noise)
    counts = data["label"].value_counts()
    if (counts < 3 * MIN_PER_CLASS).any() or len(counts) < len(CLASSES):
        raise ParameterError(f"n_tickets={p.n_tickets} with seed={p.seed} gives class counts "
                             f"{counts.to_dict()}: too few to split; raise n_tickets")
    for part, per_class in split_counts(data, p.seed).items():
        if part != "train" and min(per_class.values()) < MIN_PER_CLASS:
            raise ParameterError(f"n_tickets={p.n_tickets} with seed={p.seed} leaves the {part} set with "
                                 f"{per_class}: fewer than {MIN_PER_CLASS} of a class; raise n_tickets")


PARAMETERS = NotebookParameters(NOTEBOOK, [
    Param("seed", int, 42, "drives every random draw: data, split, model, batches", low=0, high=2**31 - 1),
    Param("fast", bool, False, "fewer requests and batch runs for a quick run"),
    Param("output_dir", "dir", None, "databases, logs, artifacts, reports (default build/outputs/01_...)"),
    Param("tickets_csv", "file", None, "your own labelled CSV (ticket_id, text, label) instead of the "
          "generated tickets"),
    Param("n_tickets", int, 1000, "generated tickets (1000 with seed 42 is the shipped datasets/tickets.csv)",
          low=200, high=200_000),
    Param("label_noise", float, 0.05, "share of labels the generator flips (annotator error)", low=0.0, high=0.5),
    Param("drift", float, 0.8, "share of 'later' tickets in the drifted batch (new products, a new complaint)",
          low=0.0, high=1.0),
    Param("quality_target", float, 0.80, "macro-F1 on the test set the model must reach (fixed before training)",
          low=0.0, high=1.0),
    Param("p99_target_ms", float, 200.0, "p99 latency target of the API, in milliseconds", low=1.0, high=10_000.0),
    Param("review_precision", float, 0.92, "automatic routing must be this precise; the rest goes to a human",
          low=0.5, high=1.0),
    Param("n_requests", int, 1000, "measured API requests (after a warm-up of 50)", low=100, high=100_000),
    Param("chunk_size", int, 250, "rows per batch-job transaction", low=10, high=100_000),
], fast={"n_requests": 300}, check=feasible)
