"""A notebook's closing summary: printed as one machine-readable line the runner and tests read."""

from __future__ import annotations

import json
from typing import Any

MARKER = "SUMMARY "


def summary(headline: str, **facts: Any) -> None:
    """Print the notebook's headline result and key facts as one `SUMMARY {json}` line.

    The course runner shows the headline in its table; tests assert the facts under other parameters.
    Values must be JSON-serialisable (numbers are rounded by the caller for stable output).
    """
    record = {"headline": headline, **facts}
    print(MARKER + json.dumps(record, sort_keys=True, default=_plain))


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
