"""Governance of a model in production: risk, regulation, documentation, business case, migration, incidents.

One module per concern: `performance` (monthly outcomes and drift diagnosis), `risk` (SR 11-7 style
assessment and tiering), `regulation` (EU AI Act checklist per variant), `modelcard` (Mitchell et al. 2019),
`business` (costs, thresholds, NPV, sensitivity), `migration` (shadow / canary / sunset plan), `guard`
(the migration's label-free rollback guard), `incident` (the incident report), `framework` (stage gates
and review routes for a whole platform).
Each validates its inputs and raises `GovernanceError` with a message that says what to fix.
"""

from ..scenarios.transactions import VARIANTS  # one list of variants for the world and its governance


class GovernanceError(ValueError):
    """An input to a governance computation is invalid (negative cost, unknown variant, empty month...)."""


def check_variant(variant: str) -> str:
    """Raise a clear error for an unknown variant; the rules differ between fraud and credit."""
    if variant not in VARIANTS:
        raise GovernanceError(f"unknown variant {variant!r}: use 'fraud' (not high-risk under the EU AI Act) "
                              f"or 'credit' (high-risk, Annex III 5(b))")
    return variant
