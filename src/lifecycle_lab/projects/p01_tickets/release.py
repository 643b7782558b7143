"""Notebook 01's release steps: the challenger, the release gate, and the tampered artifacts it must refuse.

Why a gate of its own: section 1 states the quality criterion on the *test* set (macro-F1 >= the target,
fixed before training). A rule that promotes on validation alone can serve a model whose own test-set
criterion says "NOT met" (it happened at small sizes). So the gate judges exactly what was stated: the
absolute criterion on test, and "no worse than the champion" on validation, where models are compared
and chosen. When even the served model misses the criterion, the gate says so and why the notebook goes on.
scikit-learn is imported inside the functions.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.deployment.registry import META_FILE, MODEL_FILE
from lifecycle_lab.evaluation.metrics import review_threshold
from lifecycle_lab.projects.p01_tickets.world import build_pipeline

CHALLENGER_C = 50.0
"""The challenger's inverse regularisation strength (the champion's pipeline uses C=5)."""


class ReleaseError(LifecycleLabError, ValueError):
    """A release gate was given something that is not a score."""


@dataclass(frozen=True)
class Challenger:
    """A second model trained on the same data, with its own validation score and review threshold."""

    model: object
    val_macro_f1: float
    review_threshold: float


def train_challenger(train, val, seed: int, review_precision: float, C: float = CHALLENGER_C) -> Challenger:
    """The champion's pipeline with weaker regularisation, fitted on `train` and scored on `val`; its review
    threshold is chosen on validation for the same precision target, exactly as the champion's was."""
    from sklearn.metrics import f1_score

    model = build_pipeline(seed).set_params(clf__C=C).fit(train["text"], train["label"])
    pred = model.predict(val["text"])
    f1 = float(f1_score(val["label"], pred, average="macro"))
    threshold = review_threshold(val["label"], pred, model.predict_proba(val["text"]).max(axis=1),
                                 review_precision).threshold
    return Challenger(model, f1, threshold)


@dataclass(frozen=True)
class ReleaseGate:
    """The release decision, with each part of the rule and what the served model's test score says."""

    promote: bool                 # move the champion alias to the challenger
    challenger_meets: bool        # the challenger's test macro-F1 reaches the stated target
    no_worse_than_champion: bool  # ... and its validation macro-F1 is no worse than the champion's
    served_meets: bool            # the model served after the decision meets the stated criterion
    reason: str
    note: str                     # what the notebook says about the model it serves


def release_gate(*, target: float, champion_val: float, challenger_val: float, champion_test: float,
                 challenger_test: float, tolerance: float = 0.0) -> ReleaseGate:
    """Promote the challenger only when its TEST macro-F1 meets `target` (the criterion stated before
    training) and its VALIDATION macro-F1 is no worse than the champion's (minus `tolerance`).

    Why test for the target: that is the criterion the notebook states and reports as met / NOT met; a gate
    judging validation instead can promote what the report then fails. Why validation for the comparison:
    choosing between models on the test set would make the test score a selected, optimistic number."""
    for label, value in (("target", target), ("champion_val", champion_val), ("challenger_val", challenger_val),
                         ("champion_test", champion_test), ("challenger_test", challenger_test),
                         ("tolerance", tolerance)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ReleaseError(f"{label}={value!r} must be a finite number (a macro-F1 or the target)")
    meets = challenger_test >= target
    no_worse = challenger_val >= champion_val - tolerance
    promote = meets and no_worse
    if promote:
        reason = (f"promote: the challenger's test macro-F1 {challenger_test:.3f} meets the target {target:.2f} "
                  f"and its validation macro-F1 {challenger_val:.3f} is no worse than the champion's "
                  f"{champion_val:.3f}")
    elif not meets:
        reason = (f"keep the champion: the challenger's test macro-F1 {challenger_test:.3f} is below the target "
                  f"{target:.2f}")
    else:
        reason = (f"keep the champion: the challenger's validation macro-F1 {challenger_val:.3f} is worse than "
                  f"the champion's {champion_val:.3f}")
    served_test = challenger_test if promote else champion_test
    served_meets = served_test >= target
    if served_meets:
        note = f"the served model meets the stated criterion (test macro-F1 {served_test:.3f} >= {target:.2f})"
    else:
        note = (f"the served model does NOT meet the stated criterion (test macro-F1 {served_test:.3f} < "
                f"{target:.2f}): a real team would not release it and would improve the data or the model first. "
                f"The notebook still exports and serves it, only so that the rest of the lifecycle can be "
                f"seen (its summary records served_meets_criterion=False); more tickets (n_tickets) or cleaner "
                f"labels (label_noise) give a model that meets it")
    return ReleaseGate(promote, meets, no_worse, served_meets, reason, note)


def tampered_copies(artifact: str | Path, folder: str | Path) -> dict[str, Path]:
    """Two damaged copies of an exported artifact, for the notebook to show that loading refuses them:
    "tampered" has one byte of the model file flipped, "edited" a hand-edited review threshold (0.5) in
    its metadata. Existing copies are replaced."""
    artifact, folder = Path(artifact), Path(folder)
    copies = {"tampered": folder / "tampered", "edited": folder / "edited"}
    for path in copies.values():
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(artifact, path)
    blob = bytearray((copies["tampered"] / MODEL_FILE).read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (copies["tampered"] / MODEL_FILE).write_bytes(bytes(blob))
    fields = json.loads((copies["edited"] / META_FILE).read_text())
    (copies["edited"] / META_FILE).write_text(json.dumps({**fields, "review_threshold": 0.5}))
    return copies
