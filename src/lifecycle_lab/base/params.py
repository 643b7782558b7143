"""Validate a notebook's parameters at once, with a message that says what to change."""

from __future__ import annotations

from typing import Any, Sequence

from lifecycle_lab.base.errors import LifecycleLabError


class ParameterError(LifecycleLabError, ValueError):
    """A notebook parameter is out of range or of the wrong type."""


def require_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"parameter {name}={value!r} must be a whole number, e.g. -p {name}=42")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"parameter {name}={value} is out of range: use a value from {low} to {high}")
    return value


def require_float(name: str, value: Any, *, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"parameter {name}={value!r} must be a number, e.g. -p {name}=0.5")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"parameter {name}={value} is out of range: use a value from {low} to {high}")
    return float(value)


def require_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise ParameterError(f"parameter {name}={value!r} is not allowed: choose one of {list(choices)}")
    return value


def require_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"parameter {name}={value!r} must be True or False, e.g. -p {name}=true")
    return value
