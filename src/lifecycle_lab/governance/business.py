"""The business case: what errors cost, the cost-optimal threshold, and the NPV of patch / retrain / sunset.

Why in money: leadership decides between options by value, and a model's errors have prices. The cost
matrix turns a confusion matrix into money; Elkan (2001) turns the cost matrix into a threshold; the NPV
turns each option's investment, running costs and avoided losses into one comparable number, and the
sensitivity table shows which assumptions the recommendation rests on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Sequence

from lifecycle_lab.base.fmt import fmt
from lifecycle_lab.evaluation.costs import Costs, expected_cost, nonnegative
from lifecycle_lab.governance import GovernanceError, check_variant

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

OPTIONS = ("patch", "retrain", "sunset")
STATUS_QUO = "status_quo"


DEFAULT_COSTS = {"fraud": Costs(fp=10.0, fn=250.0, review=3.0), "credit": Costs(fp=300.0, fn=3000.0, review=40.0)}


def npv(cashflows: Sequence[float], rate: float, initial_investment: float = 0.0) -> float:
    """NPV = -I0 + sum_{t=1..T} CF_t / (1 + r)^t, with CF_t = dB_t - dC_t at the end of year t."""
    if not -1 < rate <= 1:
        raise GovernanceError(f"discount rate {rate!r} must be a fraction above -1 and at most 1 (e.g. 0.08)")
    flows = [float(c) for c in cashflows]
    if not flows:
        raise GovernanceError("no cash flows: the horizon must be at least one year")
    if any(not math.isfinite(c) for c in flows):
        raise GovernanceError("cash flows must be finite numbers")
    nonnegative("initial_investment", initial_investment, GovernanceError)
    return -float(initial_investment) + sum(c / (1 + rate) ** t for t, c in enumerate(flows, start=1))


@dataclass
class Option:
    """One course of action with its total cost of ownership and how it performs.

    upfront: one-off costs (engineering, validation, compliance, migration, opportunity: the team's time
    not spent elsewhere), summed into I0. annual: yearly running costs (infrastructure, labelling,
    validation, compliance, licence, recurring opportunity cost). cost_per_decision: expected error cost of
    one decision in year 1 (from the cost matrix on recent labelled data). drift_exposure: the share of
    the drift rate that raises this option's error cost each year (1 = the legacy design cannot adapt).
    compliance_exposure: expected yearly cost of unmet regulatory duties (penalties, remediation).
    """

    name: str
    upfront: dict = field(default_factory=dict)
    annual: dict = field(default_factory=dict)
    cost_per_decision: float = 0.0
    drift_exposure: float = 1.0
    compliance_exposure: float = 0.0
    description: str = ""

    def __post_init__(self):
        for key, value in {**self.upfront, **self.annual}.items():
            nonnegative(f"{self.name}.{key}", value, GovernanceError)
        nonnegative(f"{self.name}.cost_per_decision", self.cost_per_decision, GovernanceError)
        nonnegative(f"{self.name}.compliance_exposure", self.compliance_exposure, GovernanceError)
        if not 0 <= self.drift_exposure <= 1:
            raise GovernanceError(f"{self.name}.drift_exposure={self.drift_exposure} must be between 0 and 1")

    @property
    def initial_investment(self) -> float:
        return float(sum(self.upfront.values()))

    @property
    def running_cost(self) -> float:
        return float(sum(self.annual.values()))

    def yearly_total(self, year: int, volume: float, drift_rate: float) -> float:
        """Error cost + running cost + compliance exposure in a year (1-based)."""
        errors = volume * self.cost_per_decision * (1 + drift_rate * self.drift_exposure) ** (year - 1)
        return errors + self.running_cost + self.compliance_exposure


@dataclass(frozen=True)
class CaseInputs:
    """The assumptions every option is valued under; validated so a typo cannot pass silently."""

    volume_per_year: float
    horizon_years: int = 3
    discount_rate: float = 0.08
    drift_rate: float = 0.15

    def __post_init__(self):
        if nonnegative("volume_per_year", self.volume_per_year, GovernanceError) == 0:
            raise GovernanceError("volume_per_year is 0: there are no decisions to value")
        if isinstance(self.horizon_years, bool) or not isinstance(self.horizon_years, int) or \
                not 1 <= self.horizon_years <= 15:
            raise GovernanceError(f"horizon_years={self.horizon_years!r} must be a whole number from 1 to 15")
        if not 0 <= self.discount_rate <= 0.5:
            raise GovernanceError(f"discount_rate={self.discount_rate!r} must be between 0 and 0.5 (e.g. 0.08)")
        if not 0 <= self.drift_rate <= 2:
            raise GovernanceError(f"drift_rate={self.drift_rate!r} must be between 0 and 2 (yearly growth of "
                                  f"an un-adapted model's error cost, e.g. 0.15)")


def cashflows(option: Option, status_quo: Option, inputs: CaseInputs) -> "pd.DataFrame":
    """Year-by-year dB (losses and exposure avoided vs the status quo), dC (extra running cost), PV.

    Why against the status quo: every option is a change from keeping the legacy model as it is, and the
    NPV of a change counts only what changes.
    """
    import pandas as pd

    rows = []
    for t in range(1, inputs.horizon_years + 1):
        sq_err = status_quo.yearly_total(t, inputs.volume_per_year, inputs.drift_rate) - \
            status_quo.running_cost
        op_err = option.yearly_total(t, inputs.volume_per_year, inputs.drift_rate) - option.running_cost
        d_b = sq_err - op_err
        d_c = option.running_cost - status_quo.running_cost
        factor = 1 / (1 + inputs.discount_rate) ** t
        rows.append({"year": t, "dB": d_b, "dC": d_c, "net": d_b - d_c, "discount_factor": factor,
                     "present_value": (d_b - d_c) * factor})
    return pd.DataFrame(rows)


def evaluate_options(options: Sequence[Option], status_quo: Option, inputs: CaseInputs) -> "pd.DataFrame":
    """One row per option: I0, yearly running cost, year-1 error cost, NPV; sorted best first."""
    import pandas as pd

    if not options:
        raise GovernanceError("no options to compare")
    rows = []
    for op in options:
        flows = cashflows(op, status_quo, inputs)
        rows.append({"option": op.name, "I0": op.initial_investment, "running_per_year": op.running_cost,
                     "error_cost_year1": op.cost_per_decision * inputs.volume_per_year,
                     "compliance_exposure": op.compliance_exposure,
                     "npv": npv(flows["net"], inputs.discount_rate, op.initial_investment)})
    return pd.DataFrame(rows).sort_values("npv", ascending=False, ignore_index=True)


def recommend(table: "pd.DataFrame") -> str:
    """The option with the highest NPV; 'status_quo' when no option has a positive NPV."""
    best = table.sort_values("npv", ascending=False).iloc[0]
    return str(best["option"]) if best["npv"] > 0 else STATUS_QUO


# -- the scenario's options ------------------------------------------------------------------------------

# Yearly volumes and TCO assumptions (EUR) per variant: stated, editable, and varied in the sensitivity table.
# fraud: the transactions the model scores after the card switch's rules have passed the obviously safe
# ones (hence the high fraud rate of the simulation); credit: applications decided a year.
VOLUME = {"fraud": 400_000, "credit": 60_000}

# Expected yearly cost of the regulatory gaps the status quo leaves open, built from stated assumptions:
# P(a supervisor acts on the gaps in a year) x the penalty it would impose + remediation work (external
# review, re-documentation) that a finding forces. credit: the AI Act caps fines for breaches of the
# high-risk duties at EUR 15M or 3% of worldwide turnover (Art 99(4)); fraud is not high-risk under the
# AI Act, so its exposure comes from other regimes (consumer protection, payment supervision), assumed far
# smaller. Assumptions for the exercise, not legal or actuarial advice.
COMPLIANCE_ASSUMPTIONS = {
    "fraud": {"p_action_per_year": 0.10, "penalty": 1_000_000, "remediation": 50_000},
    "credit": {"p_action_per_year": 0.05, "penalty": 15_000_000, "remediation": 450_000},
}


def compliance_exposure(variant: str, assumptions: dict | None = None) -> float:
    """Expected yearly cost of unmet regulatory duties = P(action a year) x penalty + remediation."""
    check_variant(variant)
    unknown = sorted(set(assumptions or {}) - set(COMPLIANCE_ASSUMPTIONS[variant]))
    if unknown:  # a misspelt key would otherwise be ignored and the default used in silence
        raise GovernanceError(f"unknown compliance assumptions {unknown}: use "
                              f"{sorted(COMPLIANCE_ASSUMPTIONS[variant])}")
    a = dict(COMPLIANCE_ASSUMPTIONS[variant], **(assumptions or {}))
    p = a["p_action_per_year"]
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise GovernanceError(f"p_action_per_year={p!r} must be a probability between 0 and 1")
    return (p * nonnegative("penalty", a["penalty"], GovernanceError)
            + nonnegative("remediation", a["remediation"], GovernanceError))


COMPLIANCE_EXPOSURE = {v: compliance_exposure(v) for v in COMPLIANCE_ASSUMPTIONS}  # fraud 150k, credit 1.2M


def measured_costs(y_true, probas: dict, costs: Costs, thresholds: dict | None = None) -> dict:
    """Expected error cost per decision of each model on the same labelled rows.

    `probas` maps an option name to its scores; a model without a fixed threshold in `thresholds` is
    operated at p* of `costs` (the status quo keeps the threshold it runs with today). Why a function:
    the sensitivity table re-prices every option when c_FN changes, and the threshold moves with it.
    """
    import numpy as np

    thresholds = thresholds or {}
    return {name: expected_cost(y_true, np.asarray(p) >= thresholds.get(name, costs.p_star), costs)["cost_per_decision"]
            for name, p in probas.items()}


def scenario_options(variant: str, cost_per_decision: dict, *, licence_per_decision: float | None = None,
                     vendor_gap: float = 0.05) -> tuple[Option, list[Option]]:
    """The status quo and the three options of the case, with documented TCO assumptions.

    `cost_per_decision` holds the measured expected error cost per decision for 'status_quo' (legacy as
    is), 'patch' (legacy design refit on recent labels, threshold at p*) and 'retrain' (new architecture);
    'sunset' (retire the in-house model, replace it with a vendor service) is assumed to perform
    `vendor_gap` (5%) worse than the in-house new architecture, because it is not trained on this firm's
    data, and is paid per decision. Credit carries more compliance work (high-risk duties, FRIA, reasons).
    Every option carries an opportunity cost: the team's time spent on it and not elsewhere (for sunset,
    the integration and parallel run with the vendor). The status quo's compliance exposure is
    `compliance_exposure(variant)`; patch halves it, sunset leaves a tenth (the vendor becomes the
    provider; the firm keeps the deployer's duties), retrain closes it.
    """
    check_variant(variant)
    missing = {STATUS_QUO, "patch", "retrain"} - set(cost_per_decision)
    if missing:
        raise GovernanceError(f"cost_per_decision is missing {sorted(missing)}")
    if not 0 <= vendor_gap <= 1:
        raise GovernanceError(f"vendor_gap={vendor_gap!r} must be a share between 0 and 1")
    k = 2.0 if variant == "credit" else 1.0  # compliance work scales with the risk tier
    exposure = COMPLIANCE_EXPOSURE[variant]
    volume = VOLUME[variant]
    licence = (0.75 if variant == "fraud" else 6.0) if licence_per_decision is None else licence_per_decision
    nonnegative("licence_per_decision", licence, GovernanceError)
    sq = Option(STATUS_QUO, {}, {"infrastructure": 400_000, "labelling": 150_000, "validation": 40_000,
                                 "compliance": 40_000 * k},
                cost_per_decision[STATUS_QUO], 1.0, exposure, "keep the legacy model as it is")
    patch = Option("patch", {"engineering": 120_000, "validation": 60_000, "compliance": 100_000 * k,
                             "opportunity": 60_000},
                   {"infrastructure": 400_000, "labelling": 200_000, "validation": 80_000,
                    "compliance": 60_000 * k, "opportunity": 120_000},
                   cost_per_decision["patch"], 1.0, 0.5 * exposure,
                   "refit the legacy design on recent labels, re-tune the threshold, bolt explanations on")
    retrain = Option("retrain", {"engineering": 500_000, "validation": 150_000, "compliance": 150_000 * k,
                                 "opportunity": 250_000},
                     {"infrastructure": 150_000, "labelling": 250_000, "validation": 60_000,
                      "compliance": 40_000 * k},
                     cost_per_decision["retrain"], 0.3, 0.0,
                     "new explainable architecture, retrained yearly, built-in reason codes")
    sunset = Option("sunset", {"migration": 450_000, "validation": 100_000, "compliance": 80_000 * k,
                               "contract": 150_000, "opportunity": 100_000},
                    {"infrastructure": 50_000, "licence": licence * volume, "labelling": 80_000,
                     "validation": 50_000, "compliance": 30_000 * k},
                    cost_per_decision["retrain"] * (1 + vendor_gap), 0.2, 0.1 * exposure,
                    "retire the in-house model; replace it with a vendor scoring service")
    return sq, [patch, retrain, sunset]


def sensitivity(build, inputs: CaseInputs, grid: dict) -> "pd.DataFrame":
    """NPV of every option and the recommendation as one assumption varies at a time.

    `build(inputs, **overrides)` returns (status_quo, options); `grid` maps an assumption name
    (discount_rate, drift_rate, horizon_years, or any override `build` understands, such as cost_fn) to
    the values to try. Why: a recommendation that flips inside the plausible range of an assumption
    needs that assumption checked before anyone signs.
    """
    import pandas as pd

    rows = []
    fields = {"discount_rate", "drift_rate", "horizon_years", "volume_per_year"}
    for name, values in grid.items():
        for value in values:
            if name in fields:
                case = replace(inputs, **{name: value})
                sq, options = build(case)
            else:
                case = inputs
                sq, options = build(case, **{name: value})
            table = evaluate_options(options, sq, case)
            row = {"assumption": name, "value": value}
            row.update({f"npv_{r.option}": r.npv for r in table.itertuples()})
            row["recommendation"] = recommend(table)
            rows.append(row)
    return pd.DataFrame(rows)


NEAR_TIE = 0.05  # the best two NPVs closer than 5% of the best: the ranking rests on the assumptions


def near_tie(table: "pd.DataFrame", within: float = NEAR_TIE) -> dict | None:
    """The runner-up and the gap when the best two options' NPVs are within `within` of the best; else None.

    Why: a 1% lead in a model built on stated assumptions is not a finding; the memo must say so and
    point at the assumptions that decide it instead of presenting the winner as clear.
    """
    if not 0 <= within < 1:
        raise GovernanceError(f"within={within!r} must be a share between 0 and 1, e.g. 0.05")
    ranked = table.sort_values("npv", ascending=False)
    if len(ranked) < 2:
        return None
    best, second = ranked.iloc[0], ranked.iloc[1]
    if best["npv"] <= 0:
        return None
    gap = float(best["npv"] - second["npv"]) / float(abs(best["npv"]))
    return {"best": str(best["option"]), "runner_up": str(second["option"]), "gap": gap} if gap < within else None


MEMO_SECTIONS = ("Decision requested", "Recommendation", "Options compared", "Assumptions", "Sensitivity",
                 "Risks and conditions")


def memo_markdown(variant: str, table: "pd.DataFrame", sens: "pd.DataFrame", inputs: CaseInputs, costs: Costs,
                  *, decision: dict, risks: Sequence[str]) -> str:
    """The one-page memo to leadership (CFO, compliance officer), generated from the business case.

    Why generated: the memo's NPVs must be the table's NPVs. `decision` is the checked decision
    (option, npv, sensitive_to, justification); `risks` are the conditions attached to it.
    """

    check_variant(variant)
    if decision.get("option") not in set(table["option"]) | {STATUS_QUO}:
        raise GovernanceError(f"decision option {decision.get('option')!r} is not among the options compared")
    lines = [f"# Memo: the future of the {variant} model", "", "To: the CFO and the Compliance Officer. "
             "Subject: financial and regulatory exposure of the degraded model, and the decision we need.", "",
             "## Decision requested",
             "Choose between patching the legacy model, retraining on a new architecture, or sunsetting it and "
             "replacing it with a vendor service.", "",
             "## Recommendation",
             f"**{decision['option']}**, NPV EUR {fmt(float(decision['npv']))} over {inputs.horizon_years} years "
             f"at a discount rate of {inputs.discount_rate:.1%}.", "", str(decision.get("justification", "")), "",
             "## Options compared",
             "| option | I0 (EUR) | running / year (EUR) | year-1 error cost (EUR) | NPV (EUR) |", "|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(f"| {r.option} | {fmt(float(r.I0))} | {fmt(float(r.running_per_year))} | "
                     f"{fmt(float(r.error_cost_year1))} | {fmt(float(r.npv))} |")
    lines += ["", "## Assumptions",
              f"- cost matrix: c_FP = {costs.fp:,g}, c_FN = {costs.fn:,g}, c_review = {costs.review:,g} "
              f"EUR; cost-optimal threshold p* = {costs.p_star:.3f}",
              f"- volume: {fmt(float(inputs.volume_per_year))} decisions a year; drift rate "
              f"{inputs.drift_rate:.0%} a year; horizon {inputs.horizon_years} years; discount rate "
              f"{inputs.discount_rate:.1%}", "",
              "## Sensitivity"]
    npv_cols = [c for c in sens.columns if c.startswith("npv_")]
    lines += ["| assumption | value | " + " | ".join(f"NPV {c[4:]} (EUR M)" for c in npv_cols) + " | recommendation |",
              "|---|---|" + "---|" * len(npv_cols) + "---|"]
    for r in sens.to_dict("records"):
        lines.append(f"| {r['assumption']} | {r['value']:g} | "
                     + " | ".join(f"{r[c] / 1e6:.2f}" for c in npv_cols) + f" | {r['recommendation']} |")
    flips = sorted(set(sens.loc[sens["recommendation"] != decision["option"], "assumption"]))
    changes = ", ".join(flips) if flips else "none of the assumptions tested"
    lines += ["", f"The recommendation changes with: {changes}."]
    tie = near_tie(table)
    if tie:
        lines += ["", f"**Near tie:** {tie['best']} leads {tie['runner_up']} by {tie['gap']:.1%} of its NPV, less than "
                      f"the {NEAR_TIE:.0%} the assumptions can be trusted to. Treat the two as equal on money and "
                      f"decide on the assumptions above and on the risks below."]
    lines += ["", "## Risks and conditions", *[f"- {r}" for r in risks]]
    return "\n".join(lines) + "\n"
