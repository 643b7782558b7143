"""A notebook's parameters, declared once: name, type, default, bounds and meaning.

Why one declaration: the same rules are used in three places that must agree: the notebook's validation
cell (`P = PARAMETERS.validate(globals())`), the command line before a kernel starts (`lifecycle-lab run 01
-p n_tickets=50` is refused at once, not after a minute of work), and the tests that sweep every accepted
value through the notebook's cheap feasibility check. Every refusal is a `ParameterError` that names the
parameter and says what to give instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from lifecycle_lab.base.errors import LifecycleLabError

KINDS = (int, float, bool, str, "choice", "file", "dir")


class ParameterError(LifecycleLabError, ValueError):
    """A notebook parameter is out of range, of the wrong type, or cannot work with the others."""


def require_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """A whole number within [low, high] (booleans refused: True is not the number 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        else:
            raise ParameterError(f"parameter {name}={value!r} must be a whole number, e.g. -p {name}=42")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"parameter {name}={value} is out of range: use a value from {_bound(low)} to "
                             f"{_bound(high)}")
    return value


def require_float(name: str, value: Any, *, low: float | None = None, high: float | None = None) -> float:
    """A finite number within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParameterError(f"parameter {name}={value!r} must be a finite number, e.g. -p {name}=0.5")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ParameterError(f"parameter {name}={value} is out of range: use a value from {_bound(low)} to "
                             f"{_bound(high)}")
    return float(value)


def require_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if isinstance(value, bool) or value not in choices:
        raise ParameterError(f"parameter {name}={value!r} is not allowed: choose one of {list(choices)}")
    return value


def require_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"parameter {name}={value!r} must be True or False, e.g. -p {name}=true")
    return value


def _bound(value) -> str:
    if value is None:
        return "any"
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 10_000 else str(value)


@dataclass(frozen=True)
class Param:
    """One declared parameter.

    kind: int, float, bool, str, "choice" (one of `choices`), "file" (an existing file's path) or "dir" (a
    folder to write into, created when missing). `optional=True` also accepts None. `low`/`high` bound
    numbers; `help` says what the parameter means (shown in errors, `lifecycle-lab params` and the docs).
    """
    name: str
    kind: Any
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: Sequence[Any] | None = None
    optional: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: kind {self.kind!r} must be one of {KINDS}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"parameter {self.name}: a choice needs its choices")
        if self.kind in ("file", "dir") and not self.optional:
            object.__setattr__(self, "optional", self.default is None)

    def check(self, value: Any) -> Any:
        """The value, validated and normalised (int given for a float becomes a float), or ParameterError."""
        if value is None:
            if self.optional:
                return None
            raise ParameterError(f"parameter {self.name} is required ({self.help}); give e.g. "
                                 f"-p {self.name}={self.default!r}")
        kind = self.kind
        if kind is int:
            return require_int(self.name, value, low=self.low, high=self.high)
        if kind is float:
            return require_float(self.name, value, low=self.low, high=self.high)
        if kind is bool:
            return require_bool(self.name, value)
        if kind == "choice":
            return require_choice(self.name, value, self.choices)
        if not isinstance(value, (str, Path)) or (isinstance(value, str) and not value.strip()):
            what = "a path to an existing file" if kind == "file" else "a folder path" if kind == "dir" else "a text"
            raise ParameterError(f"parameter {self.name}={value!r} must be {what}" +
                                 (", or None" if self.optional else ""))
        if kind == "file":
            path = Path(value).expanduser()
            if not path.is_file():
                raise ParameterError(f"parameter {self.name}={str(value)!r}: no such file ({self.help}); give the "
                                     f"path of an existing file, or leave it None")
            return str(path)
        if kind == "dir":
            path = Path(value).expanduser()
            if path.exists() and not path.is_dir():
                raise ParameterError(f"parameter {self.name}={str(value)!r} is a file, not a folder; give a folder "
                                     f"to write into (it is created when missing), or leave it None")
            return str(path)
        return str(value)

    def describe(self) -> str:
        """One line: name, type, default, bounds and meaning."""
        kind = self.kind.__name__ if isinstance(self.kind, type) else self.kind
        span = ""
        if self.low is not None or self.high is not None:
            span = f" in [{_bound(self.low)}, {_bound(self.high)}]"
        if self.choices:
            span = f" one of {list(self.choices)}"
        return f"{self.name} ({kind}{span}, default {self.default!r}): {self.help}"


class Params:
    """Validated parameter values, read as attributes (`P.seed`); immutable."""

    def __init__(self, values: Mapping[str, Any], notebook: str):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "notebook", notebook)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self.notebook} declares no parameter {name!r}; it has "
                                 f"{', '.join(self._values)}") from None

    def __setattr__(self, name, value):
        raise AttributeError("validated parameters are read-only: change the parameters cell and run again")

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def __repr__(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self._values.items())


class NotebookParameters:
    """The declaration of one notebook's parameters, and its validation.

    `fast`: caps applied when `fast=True` (a size is lowered to the cap, never raised). `check(P)`: a cheap
    cross-parameter feasibility check that raises ParameterError (e.g. "this seed leaves no threshold that
    reaches the precision target"); it runs inside `validate`, before any heavy work.
    """
    def __init__(self, notebook: str, params: Iterable[Param], *, fast: Mapping[str, Any] | None = None,
                 check: Callable[[Params], None] | None = None):
        self.notebook = notebook
        self.params = {p.name: p for p in params}
        self.fast = dict(fast or {})
        self._check = check
        for p in self.params.values():
            p.check(p.default)  # a declaration whose own default is refused is a bug
        unknown = sorted(set(self.fast) - set(self.params))
        if unknown:
            raise ValueError(f"{notebook}: fast caps for undeclared parameters {unknown}")

    def __iter__(self):
        return iter(self.params.values())

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.params.items()}

    def check_names(self, names: Iterable[str]) -> None:
        unknown = sorted(set(names) - set(self.params))
        if unknown:
            raise ParameterError(f"{self.notebook} has no parameter {', '.join(unknown)}; it declares: "
                                 f"{', '.join(self.params)}")

    def values(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Each declared parameter checked and normalised: the override when given, else the default."""
        self.check_names(overrides)
        values = {name: p.check(overrides.get(name, p.default)) for name, p in self.params.items()}
        if values.get("fast"):
            for name, cap in self.fast.items():
                if values[name] is not None and values[name] > cap:
                    values[name] = cap
        return values

    def validate(self, namespace: Mapping[str, Any]) -> Params:
        """Validate the declared names found in `namespace` (a notebook passes `globals()`) and run the
        feasibility check; return the values as a read-only `Params`. Names it does not declare are ignored,
        so the rest of a notebook's namespace does not matter."""
        missing = [name for name in self.params if name not in namespace]
        if missing:
            raise ParameterError(f"{self.notebook}: the parameters cell does not set {missing}; restore them "
                                 f"(defaults: {', '.join(f'{n}={self.params[n].default!r}' for n in missing)})")
        params = Params(self.values({name: namespace[name] for name in self.params}), self.notebook)
        if self._check is not None:
            self._check(params)
        return params

    def check_overrides(self, overrides: Mapping[str, Any]) -> Params:
        """What the command line runs before starting a kernel: names, types, bounds and feasibility."""
        return self.validate({**self.defaults(), **overrides})

    def describe(self) -> str:
        return "\n".join(p.describe() for p in self.params.values())
