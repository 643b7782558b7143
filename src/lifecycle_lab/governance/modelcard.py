"""A model card (Mitchell et al. 2019, arXiv 1810.03993) generated from the evidence, never typed by hand.

Why generated: a card whose numbers are copied by hand drifts from the model it describes. Here every
number comes from the evidence dict the notebook computed, and tests check each of the nine sections is
present and that its numbers equal the evidence.
"""

from __future__ import annotations

from typing import Mapping

from . import GovernanceError

SECTIONS = ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data", "Training data",
            "Quantitative analyses", "Ethical considerations", "Caveats and recommendations")

REQUIRED = {
    "model_details": "dict: name, version, owner, date, type, license/contact",
    "intended_use": "dict: primary uses, primary users, out-of-scope uses",
    "factors": "dict: groups (the audited attribute and its values), instrumentation, environment",
    "metrics": "dict of headline numbers on the evaluation data (precision, recall, cost_per_1k, ...)",
    "thresholds": "dict: decision threshold and how it was chosen",
    "evaluation_data": "dict: what, when, how many rows, label availability",
    "training_data": "dict: what, when, how many rows, base rate",
    "by_group": "pandas DataFrame: metrics per group (rows groups, columns metrics)",
    "intersections": "pandas DataFrame or None: metrics per intersection of two factors",
    "parity": "dict: demographic parity / equalized odds differences and ratios",
    "ethical": "list of str: risks, sensitive data, mitigations",
    "caveats": "list of str: limitations and recommendations",
}


def fmt(value) -> str:
    """How numbers appear in generated documents (tests use the same formatting to compare)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def _kv(d: Mapping) -> list[str]:
    return [f"- **{k.replace('_', ' ')}:** {fmt(v)}" for k, v in d.items()]


def _table(frame, index_name: str) -> list[str]:
    cols = list(frame.columns)
    lines = [f"| {index_name} | " + " | ".join(str(c).replace("_", " ") for c in cols) + " |",
             "|---" * (len(cols) + 1) + "|"]
    for idx, row in frame.iterrows():
        name = " / ".join(map(str, idx)) if isinstance(idx, tuple) else str(idx)
        lines.append(f"| {name} | " + " | ".join(fmt(float(v)) for v in row.to_numpy()) + " |")
    return lines


def model_card(evidence: Mapping) -> str:
    """Render the nine sections of a model card to markdown from the evidence (see REQUIRED)."""
    missing = sorted(set(REQUIRED) - set(evidence))
    if missing:
        raise GovernanceError(f"model card evidence is missing {missing}; see modelcard.REQUIRED")
    e = evidence
    name = e["model_details"].get("name", "model")
    out = [f"# Model card: {name}", ""]
    out += [f"## 1. {SECTIONS[0]}", *_kv(e["model_details"]), ""]
    out += [f"## 2. {SECTIONS[1]}", *_kv(e["intended_use"]), ""]
    out += [f"## 3. {SECTIONS[2]}", *_kv(e["factors"]), ""]
    out += [f"## 4. {SECTIONS[3]}", *_kv(e["metrics"]), "", "Decision threshold:", *_kv(e["thresholds"]), ""]
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
