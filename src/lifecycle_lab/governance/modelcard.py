"""A model card (Mitchell et al. 2019, arXiv 1810.03993) generated from the evidence, never typed by hand.

Why generated: a card whose numbers are copied by hand drifts from the model it describes. Here every
number comes from the evidence dict the notebook computed, and tests check each of the nine sections is
present and that its numbers equal the evidence.
"""

from __future__ import annotations

from typing import Mapping

from lifecycle_lab.base.fmt import fmt
from lifecycle_lab.evaluation import fairness
from lifecycle_lab.evaluation.costs import expected_cost
from lifecycle_lab.governance import GovernanceError

SECTIONS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
            "Quantitative analyses", "Ethical considerations", "Caveats and recommendations")

REQUIRED = {
    "model_details": "dict: name, version, owner, date, type, license and contact (both required)",
    "intended_use": "dict: primary uses, primary users, out-of-scope uses",
    "factors": "dict: groups (the audited attribute and its values), instrumentation, environment",
    "metrics": "dict of headline numbers on the evaluation data, units in the name (precision, recall, "
               "'expected cost (EUR per 1,000 decisions)', ...)",
    "thresholds": "dict: decision threshold and how it was chosen",
    "evaluation_data": "dict: what, when, how many rows, label availability",
    "training_data": "dict: what, when, how many rows, base rate",
    "by_group": "pandas DataFrame: metrics per group (rows groups, columns metrics)",
    "intersections": "pandas DataFrame or None: metrics per intersection of two factors",
    "parity": "dict: demographic parity / equalized odds differences and ratios",
    "ethical": "list of str: risks, sensitive data, mitigations",
    "caveats": "list of str: limitations and recommendations",
}
OPTIONAL = {
    "uncertainty": "dict {metric: (lower, upper)}: bootstrap intervals shown under Metrics (Mitchell et al.'s "
                   "'variation approaches'), with the level in `uncertainty_note`",
    "uncertainty_note": "str: how the intervals were computed (level, replicates, resampling unit)",
}


def _kv(d: Mapping) -> list[str]:
    return [f"- **{k.replace('_', ' ')}:** {fmt(v)}" for k, v in d.items()]


def _cell(value, whole: bool) -> str:
    return fmt(int(round(float(value)))) if whole and value == value else fmt(float(value))


def _table(frame, index_name: str) -> list[str]:
    """A markdown table; a column whose values are all whole numbers (counts) prints them as integers."""
    cols = list(frame.columns)
    whole = {c: bool(frame[c].dropna().map(lambda v: float(v).is_integer()).all()) for c in cols}
    lines = [f"| {index_name} | " + " | ".join(str(c).replace("_", " ") for c in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for idx, row in frame.iterrows():
        name = " / ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
        lines.append(f"| {name} | " + " | ".join(_cell(row[c], whole[c]) for c in cols) + " |")
    return lines


COST_METRIC = "expected cost (EUR per 1,000 decisions)"
METRIC_LABELS = {"precision": "precision", "recall": "recall", "cost_per_1k": COST_METRIC,
                 "demographic_parity_difference": "demographic parity difference (flag rate, max - min)",
                 "equalized_odds_difference": "equalized odds difference (max of TPR and FPR gaps)"}


def quantitative(y_true, y_pred, groups, costs, *, intersect=None, n_boot: int = 200, seed: int = 0,
                 level: float = 0.95) -> dict:
    """The Metrics and Quantitative-analyses evidence of a card, computed once for any model.

    Why one function: the legacy model's card and its replacement's must be built the same way to be
    compared. Returns metrics (labels with units, see METRIC_LABELS), percentile-bootstrap intervals
    (rows resampled with replacement, `n_boot` replicates; the parity gaps from resampling within each
    group, `fairness.bootstrap_ci`), by_group, intersections (by group and `intersect`, a Series of a
    second factor, if given) and the parity summary.
    """
    import numpy as np
    import pandas as pd

    y = np.asarray(y_true).astype(int)
    flag = np.asarray(y_pred).astype(int)
    g = pd.Series(np.asarray(groups), name=getattr(groups, "name", None) or "group")
    if not len(y) == len(flag) == len(g) or len(y) == 0:
        raise GovernanceError("y_true, y_pred and groups must be non-empty and of equal length")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 20:
        raise GovernanceError(f"n_boot={n_boot!r}: use a whole number of at least 20 replicates")
    c = expected_cost(y, flag, costs)
    parity = {k: v for k, v in fairness.parity_summary(y, flag, g).items() if k != "by_group"}
    metrics = {"precision": c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else float("nan"),
               "recall": c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else float("nan"),
               "cost_per_1k": 1000 * c["cost_per_decision"],
               "demographic_parity_difference": parity["demographic_parity_difference"],
               "equalized_odds_difference": parity["equalized_odds_difference"]}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(y), size=(n_boot, len(y)))
    yb, fb = y[idx], flag[idx]
    tp, fp, fn = (yb & fb).sum(1), ((1 - yb) & fb).sum(1), (yb & (1 - fb)).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = {"precision": tp / (tp + fp), "recall": tp / (tp + fn),
                "cost_per_1k": 1000 * costs.total(fp, fn, tp + fp) / len(y)}
    alpha = (1 - level) / 2
    uncertainty = {k: tuple(float(q) for q in np.nanquantile(v, [alpha, 1 - alpha])) for k, v in reps.items()}
    dp = fairness.bootstrap_ci("selection_rate", y, flag, g, n_boot=n_boot, seed=seed, level=level)
    uncertainty["demographic_parity_difference"] = (float(dp.loc["difference", "lower"]),
                                                    float(dp.loc["difference", "upper"]))
    table = fairness.group_table(y, flag, g)
    by_group = table.drop(index=["difference", "ratio"])[["selection_rate", "true_positive_rate",
                                                          "false_positive_rate", "count"]]
    inter = None
    if intersect is not None:
        frame = pd.DataFrame({g.name: g.to_numpy(), getattr(intersect, "name", None) or "factor":
                              np.asarray(intersect), "flag": flag, "label": y})
        inter = frame.groupby(list(frame.columns[:2])).agg(flag_rate=("flag", "mean"), base_rate=("label", "mean"),
                                                          count=("label", "size"))
    labels = METRIC_LABELS
    return {"metrics": {labels[k]: float(v) for k, v in metrics.items()},
            "uncertainty": {labels[k]: v for k, v in uncertainty.items()},
            "uncertainty_note": f"{level:.0%} percentile bootstrap, {n_boot} replicates (decisions resampled; "
                                f"for the parity gap, within each group)",
            "by_group": by_group, "intersections": inter, "parity": parity}


def model_card(evidence: Mapping) -> str:
    """Render the nine sections of a model card to markdown from the evidence (see REQUIRED)."""
    missing = sorted(set(REQUIRED) - set(evidence))
    if missing:
        raise GovernanceError(f"model card evidence is missing {missing}; see modelcard.REQUIRED")
    e = evidence
    details = {k.lower() for k in e["model_details"]}
    lacking = [k for k, names in (("license", {"license", "licence"}), ("contact", {"contact"})) if not details & names]
    if lacking:
        raise GovernanceError(f"model_details lacks {lacking}: a card must say under which terms the model is used "
                              f"and whom to contact about it")
    unknown = sorted(set(e.get("uncertainty") or {}) - set(e["metrics"]))
    if unknown:
        raise GovernanceError(f"uncertainty is given for {unknown}, which are not among the metrics; key the "
                              f"intervals by the metrics' own names ({sorted(e['metrics'])})")
    name = e["model_details"].get("name", "model")
    out = [f"# Model card: {name}", ""]
    out += [f"## 1. {SECTIONS[0]}", *_kv(e["model_details"]), ""]
    out += [f"## 2. {SECTIONS[1]}", *_kv(e["intended_use"]), ""]
    out += [f"## 3. {SECTIONS[2]}", *_kv(e["factors"]), ""]
    metric_lines = []
    for k, v in e["metrics"].items():
        line = f"- **{k.replace('_', ' ')}:** {fmt(v)}"
        if k in (e.get("uncertainty") or {}):
            lo, hi = e["uncertainty"][k]
            line += f" (interval {fmt(float(lo))} to {fmt(float(hi))})"
        metric_lines.append(line)
    note = [f"Intervals: {e['uncertainty_note']}", ""] if e.get("uncertainty") and e.get("uncertainty_note") else []
    out += [f"## 4. {SECTIONS[3]}", *metric_lines, "", *note, "Decision threshold:", *_kv(e["thresholds"]), ""]
    out += [f"## 5. {SECTIONS[4]}", *_kv(e["evaluation_data"]), ""]
    out += [f"## 6. {SECTIONS[5]}", *_kv(e["training_data"]), ""]
    out += [f"## 7. {SECTIONS[6]}", "", "Per group:", "", *_table(e["by_group"], "group"), ""]
    if e["intersections"] is not None and len(e["intersections"]):
        out += ["Intersections:", "", *_table(e["intersections"], "intersection"), ""]
    out += ["Parity:", *_kv(e["parity"]), ""]
    out += [f"## 8. {SECTIONS[7]}", *[f"- {x}" for x in e["ethical"]], ""]
    out += [f"## 9. {SECTIONS[8]}", *[f"- {x}" for x in e["caveats"]], ""]
    return "\n".join(out)


def sections_present(markdown: str) -> dict:
    """Which of the nine section headings a card contains (for checks on hand-edited cards too)."""
    return {s: f". {s}\n" in markdown for s in SECTIONS}
