"""Convert a notebook to and from a plain-text 'percent' script, for authors who prefer a text editor.

    python tools/notebook_text.py to-ipynb draft.py solutions/NAME.ipynb
    python tools/notebook_text.py to-py solutions/NAME.ipynb draft.py

Cells start with `# %%` (code; `# %% tags=["parameters"]` adds tags) or `# %% [markdown]`
(markdown lines are written as comments `# ...`). The .ipynb in solutions/ stays the single source:
the script is a draft format, not committed beside it. After converting, run
`lifecycle-lab refresh NAME` to execute it and `lifecycle-lab learner` to rebuild the learner copy.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def to_notebook(text: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    cells: list[tuple[bool, list, list[str]]] = []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            cells.append((bool(match.group("md")), json.loads(match.group("tags") or "[]"), []))
        elif cells:
            cells[-1][2].append(line)
    for index, (markdown, tags, lines) in enumerate(cells):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if markdown:
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if tags:
            cell.metadata["tags"] = tags
        cell["id"] = f"cell-{index:03d}"
        nb.cells.append(cell)
    return nb


def to_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags")
        suffix = f" tags={json.dumps(tags)}" if tags else ""
        if cell.cell_type == "markdown":
            body = "\n".join(("# " + l) if l else "#" for l in cell.source.splitlines())
            parts.append(f"# %% [markdown]{suffix}\n{body}\n")
        else:
            parts.append(f"# %%{suffix}\n{cell.source}\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in {"to-ipynb", "to-py"}:
        print(__doc__)
        return 2
    mode, src, dst = argv
    if mode == "to-ipynb":
        nbformat.write(to_notebook(Path(src).read_text()), dst)
    else:
        Path(dst).write_text(to_text(nbformat.read(src, as_version=4)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
