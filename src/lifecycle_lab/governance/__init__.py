"""Governance of a model in production: risk, regulation, documentation, business case, migration, incidents.

One module per concern: `performance` (monthly outcomes and drift diagnosis), `risk` (SR 11-7 style
assessment and tiering), `regulation` (EU AI Act checklist per variant), `modelcard` (Mitchell et al. 2019),
`business` (costs, thresholds, NPV, sensitivity), `migration` (shadow / canary / sunset plan), `guard`
(the migration's label-free rollback guard), `incident` (the incident report), `framework` (stage gates
and review routes for a whole platform), `policy` (a platform's stage gates as a validated YAML file),
`checker` (the violations of a whole registry and the promotion guard on the champion alias) and
`council` (the governance council's agenda, queue and decision records).
Each validates its inputs and raises `GovernanceError` with a message that says what to fix.
"""

from lifecycle_lab.base.errors import LifecycleLabError

VARIANTS = ("fraud", "credit")
"""The use cases the governance toolkit has rules for: fraud detection (excepted from Annex III 5(b) of the EU AI
Act) and credit scoring of people (high-risk). The transaction world of notebook 03 simulates the same two."""


class GovernanceError(LifecycleLabError, ValueError):
    """An input to a governance computation is invalid (negative cost, unknown variant, empty month...)."""


def check_variant(variant: str) -> str:
    """Raise a clear error for an unknown variant; the rules differ between fraud and credit."""
    if variant not in VARIANTS:
        raise GovernanceError(f"unknown variant {variant!r}: use 'fraud' (not high-risk under the EU AI Act) "
                              f"or 'credit' (high-risk, Annex III 5(b))")
    return variant
