"""Prioritising a backlog of AI features: ICE, RICE, value vs effort, OKR alignment, and how fragile a ranking is.

ICE = Impact x Confidence x Ease (each 1-10; Sean Ellis's growth scoring, seed 004). RICE = Reach x Impact x
Confidence / Effort (Intercom). The value-vs-effort matrix puts each item in one of four boxes: quick win
(high value, low effort), big bet (high, high), fill-in (low, low), money pit (low value, high effort).

Why the sensitivity: confidence is the softest of the inputs (a guess about a guess), and a ranking that
flips when one confidence moves by a point is a ranking to discuss, not to follow. `flip_confidence` says
exactly where it flips.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from lifecycle_lab.base.errors import LifecycleLabError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ICE_FIELDS = ("impact", "confidence", "ease")
BACKLOG_COLUMNS = ("feature", "okr", "impact", "confidence", "ease", "value", "effort")
QUADRANTS = ("quick win", "big bet", "fill-in", "money pit")


class PriorityError(LifecycleLabError, ValueError):
    """A backlog item's score is out of range, or it names an OKR the company does not have."""


def _score(name: str, value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
            not 1 <= value <= 10:
        raise PriorityError(f"{where}: {name}={value!r} must be a number from 1 to 10")
    return float(value)


def ice(impact: float, confidence: float, ease: float, where: str = "item") -> float:
    """ICE = Impact x Confidence x Ease, each on 1-10 (so 1 to 1,000)."""
    return _score("impact", impact, where) * _score("confidence", confidence, where) * _score("ease", ease, where)


def rice(reach: float, impact: float, confidence: float, effort: float) -> float:
    """RICE = Reach x Impact x Confidence / Effort (confidence as a share 0-1, effort in person-months > 0)."""
    if not 0 <= confidence <= 1 or effort <= 0 or reach < 0 or impact < 0:
        raise PriorityError("RICE: reach >= 0, impact >= 0, confidence in [0, 1], effort > 0")
    return reach * impact * confidence / effort


def validate_backlog(backlog: "pd.DataFrame", okrs: Mapping[str, str]) -> "pd.DataFrame":
    """Every item with its columns, scores on 1-10, value >= 0, effort > 0, and an OKR the company has."""
    missing = [c for c in BACKLOG_COLUMNS if c not in backlog.columns]
    if missing:
        raise PriorityError(f"backlog: missing columns {missing}; it needs {list(BACKLOG_COLUMNS)}")
    for row in backlog.itertuples():
        where = f"backlog item {row.feature!r}"
        for f in ICE_FIELDS:
            _score(f, getattr(row, f), where)
        if row.okr not in okrs:
            raise PriorityError(f"{where}: okr {row.okr!r} is not one of the company's OKRs {sorted(okrs)}; an "
                                f"AI feature that serves no objective is not on the roadmap")
        if not row.value >= 0 or not row.effort > 0:
            raise PriorityError(f"{where}: value must be >= 0 and effort > 0 (person-weeks)")
    if backlog["feature"].duplicated().any():
        raise PriorityError(f"backlog: features listed twice {sorted(backlog.feature[backlog.feature.duplicated()])}")
    return backlog


def rank_ice(backlog: "pd.DataFrame") -> "pd.DataFrame":
    """The backlog with its ICE score and rank (1 = build first; ties broken by feature name)."""
    out = backlog.copy()
    out["ice"] = [ice(r.impact, r.confidence, r.ease, f"item {r.feature!r}") for r in out.itertuples()]
    out = out.sort_values(["ice", "feature"], ascending=[False, True]).reset_index(drop=True)
    return out.assign(rank=range(1, len(out) + 1))


def quadrant(value: float, effort: float, value_cut: float, effort_cut: float) -> str:
    """The value-vs-effort box: value above the cut is high, effort above the cut is high."""
    high_value, high_effort = value > value_cut, effort > effort_cut
    return {(True, False): "quick win", (True, True): "big bet", (False, False): "fill-in",
            (False, True): "money pit"}[(high_value, high_effort)]


def value_effort(backlog: "pd.DataFrame", value_cut: float | None = None,
                 effort_cut: float | None = None) -> "pd.DataFrame":
    """Each item's box (cuts default to the medians) and value per unit of effort; sorted quick wins first,
    then by value per effort."""
    vc = float(backlog["value"].median()) if value_cut is None else value_cut
    ec = float(backlog["effort"].median()) if effort_cut is None else effort_cut
    out = backlog.copy()
    out["quadrant"] = [quadrant(r.value, r.effort, vc, ec) for r in out.itertuples()]
    out["value_per_effort"] = out["value"] / out["effort"]
    out["_q"] = out["quadrant"].map({q: i for i, q in enumerate(QUADRANTS)})
    return out.sort_values(["_q", "value_per_effort"], ascending=[True, False]).drop(columns="_q") \
        .reset_index(drop=True)


def okr_coverage(backlog: "pd.DataFrame", okrs: Mapping[str, str]) -> "pd.DataFrame":
    """Per OKR: how many backlog items serve it and the best ICE among them (0 items = an objective with no AI
    work behind it)."""
    import pandas as pd

    ranked = rank_ice(backlog)
    rows = [{"okr": k, "objective": v, "items": int((ranked.okr == k).sum()),
             "best_ice": float(ranked.loc[ranked.okr == k, "ice"].max()) if (ranked.okr == k).any() else 0.0}
            for k, v in okrs.items()]
    return pd.DataFrame(rows)


def confidence_sensitivity(backlog: "pd.DataFrame", deltas: Sequence[float] = (-2, -1, 1, 2)) -> "pd.DataFrame":
    """For each item and each change of its confidence by `delta` (clipped to 1-10), the new top item and the
    item's new rank: which single guesses the ranking rests on."""
    import pandas as pd

    base = rank_ice(backlog)
    top = base.feature.iloc[0]
    rows = []
    for feature in base.feature:
        for d in deltas:
            changed = backlog.copy()
            i = changed.index[changed.feature == feature][0]
            changed.loc[i, "confidence"] = min(10.0, max(1.0, float(changed.loc[i, "confidence"]) + d))
            ranked = rank_ice(changed)
            rows.append({"feature": feature, "delta": d, "new_rank": int(ranked.loc[ranked.feature == feature,
                                                                                    "rank"].iloc[0]),
                         "old_rank": int(base.loc[base.feature == feature, "rank"].iloc[0]),
                         "new_top": ranked.feature.iloc[0], "top_changes": ranked.feature.iloc[0] != top})
    return pd.DataFrame(rows)


def flip_confidence(backlog: "pd.DataFrame", feature: str, rival: str) -> float:
    """The confidence at which `feature`'s ICE equals `rival`'s: above it (ties aside) `feature` ranks first.

    ICE_f = I_f x C x E_f = ICE_rival  =>  C* = ICE_rival / (I_f x E_f). May lie outside 1-10 (no flip possible)."""
    rows = {r.feature: r for r in backlog.itertuples()}
    for name in (feature, rival):
        if name not in rows:
            raise PriorityError(f"no backlog item {name!r}; items are {sorted(rows)}")
    f, r = rows[feature], rows[rival]
    return ice(r.impact, r.confidence, r.ease) / (f.impact * f.ease)


def compare_rankings(ice_ranked: "pd.DataFrame", ve_ranked: "pd.DataFrame", top: int = 3) -> dict:
    """What value-vs-effort changes against ICE: the top items of each, those only one of them puts on top."""
    a, b = list(ice_ranked.feature[:top]), list(ve_ranked.feature[:top])
    return {"ice_top": a, "value_effort_top": b, "only_ice": [x for x in a if x not in b],
            "only_value_effort": [x for x in b if x not in a]}


def items(features: Iterable[Mapping]) -> "pd.DataFrame":
    """A backlog DataFrame from a list of dicts with BACKLOG_COLUMNS."""
    import pandas as pd

    table = pd.DataFrame(list(features), columns=list(BACKLOG_COLUMNS))
    return table.astype({c: float for c in ("impact", "confidence", "ease", "value", "effort")})
