"""A notebook's closing summary: printed as one machine-readable line the runner and tests read."""

from __future__ import annotations

import json
from typing import Any

MARKER = "SUMMARY "


def summary(headline: str, **facts: Any) -> None:
    """Print the notebook's headline result and key facts as one `SUMMARY {json}` line.

    The course runner shows the headline in its table; tests assert the facts under other parameters.
    Floats (also inside lists and dicts, numpy ones included) are rounded here to 6 significant digits, so
    the stored line is the same on every CPU; other values must be JSON-serialisable.
    """
    record = {"headline": headline, **{k: rounded(v) for k, v in facts.items()}}
    print(MARKER + json.dumps(record, sort_keys=True, default=_plain))


def rounded(value: Any, digits: int = 6) -> Any:
    """A value with every float in it rounded to `digits` significant digits (what a person reads)."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (float, list, tuple, dict)):
        return value
    if isinstance(value, float):
        return value if value == 0 or value != value else float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    return [rounded(v, digits) for v in value]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"summary value {value!r} is not JSON-serialisable; convert it to a number or string")


def output_text(notebook) -> str:
    """Everything an executed notebook (an nbformat node) showed as text: printed streams and plain reprs."""
    chunks = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            chunks.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(chunks)


def read_summary(notebook) -> dict | None:
    """The last SUMMARY record printed by an executed notebook (an nbformat node), or None."""
    found = None
    for line in output_text(notebook).splitlines():
        if line.startswith(MARKER):
            found = json.loads(line[len(MARKER):])
    return found
