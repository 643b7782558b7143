"""Text formatting shared by the generated documents (model cards, memos, business cases) and their tests."""

from __future__ import annotations


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
