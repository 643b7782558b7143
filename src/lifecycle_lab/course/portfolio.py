"""What a learner keeps: their decision artefacts from every notebook, in one place, for a job interview.

Each practice project declares the documents its notebook writes (`ARTEFACTS` in its package: the threshold
memo, the gate memo, the ML Test Score sheet, model cards, the business case, the incident report, the
sunset plan, ...). `lifecycle-lab portfolio` collects the ones a learner's runs produced (their outputs
folder) and the headline numbers each notebook's closing summary printed (their saved notebooks), into a
markdown folder and one self-contained HTML page. Nothing is invented: a notebook not yet run shows as
"not run yet", and each number is the one the learner's own run printed.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle_lab.base import paths
from lifecycle_lab.base.artefacts import Artefact
from lifecycle_lab.course.summary import MARKER
from lifecycle_lab.projects import PROJECTS, project_for


@dataclass
class Entry:
    notebook: str
    summary: dict | None = None
    found: list[tuple[Artefact, Path]] = field(default_factory=list)
    missing: list[Artefact] = field(default_factory=list)


def saved_summary(path: Path) -> dict | None:
    """The SUMMARY record a saved (executed) notebook shows, or None when it was not run to the end."""
    if not path.exists():
        return None
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    found = None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            text = out.get("text") or ""
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                if line.startswith(MARKER):
                    try:
                        found = json.loads(line[len(MARKER):])
                    except json.JSONDecodeError:
                        pass
    return found


def collect(outputs: Path, notebooks: Path) -> list[Entry]:
    """Each project's artefacts found in `outputs/<notebook>/` and the summary of `notebooks/<notebook>.ipynb`."""
    entries = []
    for stem in PROJECTS:
        project = project_for(stem)
        entry = Entry(stem, saved_summary(notebooks / f"{stem}.ipynb"))
        for artefact in getattr(project, "ARTEFACTS", ()):
            path = outputs / stem / artefact.file
            (entry.found.append((artefact, path)) if path.is_file() else entry.missing.append(artefact))
        entries.append(entry)
    return entries


def _facts_table(summary: dict) -> list[str]:
    rows = [(k, v) for k, v in summary.items() if k != "headline" and not isinstance(v, (dict, list))]
    if not rows:
        return []
    return ["| evidence | value |", "|---|---|"] + [f"| {k.replace('_', ' ')} | {v} |" for k, v in rows]


def build(outputs: Path, notebooks: Path, out: Path) -> dict[str, Path]:
    """Write the portfolio: `out/README.md` (the index), `out/<notebook>/<artefact>`, and `out/index.html`."""
    from markdown_it import MarkdownIt

    entries = collect(outputs, notebooks)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    lines = ["# My ML lifecycle portfolio", "",
             "Decisions I made in the Lifecycle Lab practice projects, each with the evidence my own runs produced.",
             ""]
    sections_html = []
    md = MarkdownIt("commonmark").enable("table")
    for entry in entries:
        lines.append(f"## {entry.notebook}")
        lines.append("")
        if entry.summary is None and not entry.found:
            lines += ["*Not run yet.*", ""]
            continue
        if entry.summary:
            lines += [f"**Result:** {entry.summary.get('headline', '')}", ""] + _facts_table(entry.summary) + [""]
        body = []
        for artefact, path in entry.found:
            target = out / entry.notebook / artefact.file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            lines.append(f"- [{artefact.title}]({entry.notebook}/{artefact.file})" +
                         (f": {artefact.why}" if artefact.why else ""))
            text = path.read_text(encoding="utf-8", errors="replace")
            rendered = md.render(text) if path.suffix == ".md" else f"<pre>{html.escape(text)}</pre>"
            body.append(f"<section><h3>{html.escape(artefact.title)}</h3>{rendered}</section>")
        for artefact in entry.missing:
            lines.append(f"- {artefact.title}: not written yet (run the notebook to the end)")
        lines.append("")
        sections_html.append((entry.notebook, body))
    index = out / "README.md"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>My ML lifecycle portfolio</title>",
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}table{border-collapse:"
            "collapse}td,th{border:1px solid #ccc;padding:2px 6px}section{border-top:1px solid #ddd;margin-top:1em}"
            "</style></head><body>", md.render("\n".join(lines))]
    for notebook, body in sections_html:
        if body:
            page.append(f"<h2>{html.escape(notebook)}: the documents</h2>" + "".join(body))
    page.append("</body></html>")
    (out / "index.html").write_text("\n".join(page), encoding="utf-8")
    return {"markdown": index, "html": out / "index.html"}


def register(sub) -> None:
    cmd = sub.add_parser("portfolio", help="collect your decision documents and evidence from every notebook "
                         "into one HTML page and a markdown folder")
    cmd.add_argument("--outputs", default=str(paths.BUILD / "outputs"),
                     help="where your notebook runs wrote their files (default build/outputs)")
    cmd.add_argument("--notebooks", default=str(paths.NOTEBOOKS),
                     help="your saved notebooks, whose closing summaries give the numbers (default notebooks/)")
    cmd.add_argument("--out", default=str(paths.BUILD / "portfolio"), help="where to write (default build/portfolio)")
    cmd.set_defaults(handler=cmd_portfolio)


def cmd_portfolio(args) -> int:
    written = build(Path(args.outputs), Path(args.notebooks), Path(args.out))
    for kind, path in written.items():
        print(f"{kind}: {path}")
    return 0
