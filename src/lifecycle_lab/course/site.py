"""Build the course website from course/ and the solution notebooks, offline, with jupyter-book 1.x.

The book source is staged in <out>/source so that course/ and solutions/ are never written to: the
chapters are copied, the solution notebooks that exist are copied in with their stored outputs (they are
not re-executed), the learner copies are attached as downloads, and links from chapters to notebooks are
resolved here. A link `solutions/NN_name.ipynb#words` names a section by stable words of its heading
rather than by its number, so chapters keep working while the notebooks' sections are renumbered; a link
whose words fit several headings is reported as ambiguous instead of landing on the first one (see
`section_matches`). A link to a notebook that does not exist yet becomes plain text marked "not yet
available" instead of a broken link.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle_lab.base import paths
from lifecycle_lab.base.errors import LifecycleLabError
from lifecycle_lab.course import quiz as quizmod

MARKER = "<!-- NOTEBOOK-TABLE -->"
LINK_RE = re.compile(r"\[([^\]]+)\]\(((?:\.\./)*)solutions/([0-9A-Za-z_]+)\.ipynb(?:#([^)\s]*))?\)")
MATHJAX_DIRS = [Path("/usr/share/javascript/mathjax"), Path("/usr/share/mathjax")]


class SiteError(LifecycleLabError, RuntimeError):
    """The site could not be built; the message says which step failed and what to do."""


@dataclass
class SiteResult:
    html: Path
    notebooks: list[str]
    missing_links: list[str] = field(default_factory=list)
    unresolved_sections: list[str] = field(default_factory=list)
    ambiguous_sections: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mathjax: str = ""


def notebook_headings(path: Path) -> list[tuple[int, str]]:
    """(level, text) of the markdown headings of a notebook, in order."""
    import json

    nb = json.loads(path.read_text(encoding="utf-8"))
    found = []
    in_fence = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        for line in source.splitlines():
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
            m = None if in_fence else re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
            if m:
                found.append((len(m.group(1)), m.group(2)))
    return found


def slugify(text: str) -> str:
    """A heading's slug, by MyST's own slug function: the stable name the section labels are built from."""
    from myst_parser.mdit_to_docutils.base import default_slugify

    return default_slugify(text)


NUMBER_PREFIX = re.compile(r"^\d+-")


def section_matches(headings: list[tuple[int, str]], word: str) -> list[str]:
    """The slugs of the level-2+ headings that `word` names, by the first rule that finds any.

    The rules, strictest first: (1) the slug itself (`7-the-rest-api`); (2) the slug without its number
    (`data` for "2. Data", so a renumbered section still matches); (3) a slug without its number that
    starts with `word` (`migration` for "8. Migration: shadow, canary..."); (4) a slug containing `word`
    at the start of one of its words (`rest-api`, `segment` for "Bias audit across segments").
    More than one slug in the returned list means `word` is ambiguous. `word` may list alternatives
    separated by `|` (`segment|fairlearn`); the first alternative that matches anything decides, so a
    chapter link survives a notebook author's choice between two natural headings.
    """
    slugs = list(dict.fromkeys(slugify(text) for level, text in headings if level >= 2))
    bare = {slug: NUMBER_PREFIX.sub("", slug) for slug in slugs}
    for alternative in word.split("|"):
        needle = slugify(alternative.strip())
        if not needle:
            continue
        rules = [
            lambda slug: slug == needle,
            lambda slug: bare[slug] == needle,
            lambda slug: bare[slug].startswith(needle),
            lambda slug: re.search(rf"(?:^|-){re.escape(needle)}", slug) is not None,
        ]
        for rule in rules:
            found = [slug for slug in slugs if rule(slug)]
            if found:
                return found
    return []


def resolve_section(headings: list[tuple[int, str]], word: str) -> str | None:
    """The slug of the one heading `word` names (see `section_matches`); None when none or several do."""
    found = section_matches(headings, word)
    return found[0] if len(found) == 1 else None


def rewrite_links(text: str, available: dict[str, Path], result: SiteResult, page: str) -> str:
    """Point chapter links at existing notebooks and their sections; mark missing notebooks as planned."""
    cache: dict[str, list] = {}

    def replace(m: re.Match) -> str:
        label, up, stem, word = m.group(1), m.group(2), m.group(3), m.group(4)
        if stem not in available:
            result.missing_links.append(f"{page}: {stem}")
            return f"{label} _(notebook `{stem}` not yet available)_"
        if not word:
            return m.group(0)
        headings = cache.setdefault(stem, notebook_headings(available[stem]))
        found = section_matches(headings, word)
        if len(found) != 1:  # no heading, or several: point at the notebook's top rather than guess
            if found:
                result.ambiguous_sections.append(f"{page}: {stem}#{word} fits {', '.join(found)}")
            else:
                result.unresolved_sections.append(f"{page}: {stem}#{word}")
            return f"[{label}]({up}solutions/{stem}.ipynb)"
        return f"{{ref}}`{label} <{section_label(stem, found[0])}>`"

    return LINK_RE.sub(replace, text)


def section_label(stem: str, slug: str) -> str:
    """The explicit target put before a notebook heading in the staged copy (see label_headings)."""
    return f"nb-{stem}-{slug}".lower().replace("_", "-")


def label_headings(path: Path) -> None:
    """Add a MyST target line before every heading of a staged notebook copy, so chapters can link to
    its sections with {ref} (heading anchors inside notebooks are not cross-document targets)."""
    import json

    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        out, in_fence = [], False
        for line in source.splitlines():
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
            m = None if in_fence else re.match(r"^(#{2,6})\s+(.+?)\s*#*\s*$", line)
            if m:
                out += [f"({section_label(path.stem, slugify(m.group(2)))})=", ""]
            out.append(line)
        cell["source"] = "\n".join(out)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def notebook_title(path: Path) -> str:
    heads = notebook_headings(path)
    return next((t for level, t in heads if level == 1), path.stem)


def notebook_table(solutions: list[Path], learner: dict[str, Path]) -> str:
    """The markdown table of notebooks: rendered solution page and the learner copy to download."""
    if not solutions:
        return "_No solution notebooks were present when this site was built._\n"
    rows = ["| Solution, rendered with its outputs | Learner copy |", "|---|---|"]
    for nb in solutions:
        copy = (f"{{download}}`download <learner/{nb.name}>`" if nb.stem in learner
                else "not generated yet (`make learner`)")
        rows.append(f"| [{notebook_title(nb)}](solutions/{nb.stem}.ipynb) | {copy} |")
    return "\n".join(rows) + "\n"


QUIZ_MARKER = "<!-- QUIZ-LIST -->"


def quiz_pages(folder: Path) -> str:
    """Every quiz as markdown: questions and options, the answer and explanation folded in a dropdown."""

    quizzes = []
    for name in quizmod.available(folder):
        try:
            quizzes.append(quizmod.load_quiz(name, folder))
        except quizmod.QuizError as err:
            raise SiteError(f"cannot put the quizzes on the site: {err}") from None
    parts = []
    for q in sorted(quizzes, key=lambda q: (q.chapter, q.name)):  # in chapter order
        name = q.name
        parts.append(f"## {q.title}\n\nChapter: {{doc}}`{q.chapter}`. On the command line: "
                     f"`lifecycle-lab quiz {name}`.\n")
        for item in q.questions:
            parts.append(f"**Q{item.id}.** {item.prompt.strip()}\n")
            if item.kind == "choice":
                parts += [f"- ({key}) {text}" for key, text in item.options.items()]
                parts.append("")
            parts.append(f":::{{dropdown}} Answer\n{item.shown_answer()}. {item.explanation.strip()}\n:::\n")
    return "\n".join(parts)


def stage(out: Path, course: Path, solutions: Path, notebooks: Path, result: SiteResult) -> Path:
    """Copy the book source into out/source and return it."""
    import yaml

    if not (course / "_config.yml").is_file() or not (course / "_toc.yml").is_file():
        raise SiteError(f"{course} has no _config.yml/_toc.yml; is this a Lifecycle Lab checkout?")
    src = out / "source"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(course, src, ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints", "__pycache__"))
    present = sorted(solutions.glob("[0-9][0-9]_*.ipynb"))
    (src / "solutions").mkdir(exist_ok=True)
    for nb in present:
        shutil.copy2(nb, src / "solutions" / nb.name)
        label_headings(src / "solutions" / nb.name)
    learner = {p.stem: p for p in sorted(notebooks.glob("*.ipynb"))}
    (src / "learner").mkdir(exist_ok=True)
    for nb in learner.values():
        shutil.copy2(nb, src / "learner" / nb.name)
    result.notebooks = [p.stem for p in present]
    available = {p.stem: src / "solutions" / p.name for p in present}
    for md in sorted(src.rglob("*.md")):
        text = md.read_text(encoding="utf-8")
        new = rewrite_links(text, available, result, str(md.relative_to(src)))
        if QUIZ_MARKER in new:
            new = new.replace(QUIZ_MARKER, quiz_pages(course / "quizzes"))
        if MARKER in new:
            new = new.replace(MARKER, notebook_table(present, learner))
        if new != text:
            md.write_text(new, encoding="utf-8")
    toc = yaml.safe_load((src / "_toc.yml").read_text(encoding="utf-8"))
    if present:
        toc.setdefault("parts", []).append({
            "caption": "Solution notebooks",
            "chapters": [{"file": f"solutions/{p.stem}"} for p in present],
        })
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return src


def find_mathjax() -> Path | None:
    """A local MathJax 2 (Debian's libjs-mathjax), so formulas are typeset without any network.

    LIFECYCLE_LAB_MATHJAX names another MathJax 2 folder to try first, or `none` to build without one.
    """
    import os

    chosen = os.environ.get("LIFECYCLE_LAB_MATHJAX", "").strip()
    if chosen.lower() == "none":  # build as a machine without MathJax would (formulas stay TeX source)
        return None
    candidates = [Path(chosen)] if chosen else []
    for folder in candidates + MATHJAX_DIRS:
        if (folder / "MathJax.js").is_file():
            return folder
    return None


NO_MATHJAX = "no-mathjax.js"  # the local stand-in script when no MathJax is installed
MATHJAX_PARTS = ["MathJax.js", "config/TeX-AMS_CHTML.js", "jax/input/TeX", "jax/output/CommonHTML",
                 "jax/element", "extensions", "fonts/HTML-CSS/TeX/woff", "localization/en"]


def copy_mathjax(folder: Path, static: Path) -> None:
    """Copy the parts of MathJax 2 that the CommonHTML output needs (a few MB, not the 40 MB package)."""
    target = static / "mathjax"
    for part in MATHJAX_PARTS:
        source = folder / part
        if source.is_dir():
            shutil.copytree(source, target / part, dirs_exist_ok=True)
        elif source.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)


def sphinx_conf(src: Path, mathjax: Path | None) -> None:
    """Generate conf.py with jupyter-book, then pin the offline choices that must not depend on config."""
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "config", "sphinx", str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SiteError(f"`jupyter-book config sphinx` failed: {proc.stderr.strip().splitlines()[-1:]}")
    conf = src / "conf.py"
    extra = ["", "# --- added by lifecycle_lab.course.site: offline build, stored outputs only ---",
             "nb_execution_mode = 'off'",
             "html_theme_options = dict(html_theme_options, search_bar_text='Search the course')",
             "# thebe and comments would load scripts from the web (unpkg, hypothes.is) when used",
             "extensions = [e for e in extensions if e not in ('sphinx_thebe', 'sphinx_comments')]",
             "exclude_patterns = list(exclude_patterns) + ['learner/*', 'source/*']"]
    if mathjax is not None:
        extra.append("mathjax_path = 'mathjax/MathJax.js?config=TeX-AMS_CHTML'")
        extra.append("mathjax3_config = None")
        extra.append("mathjax2_config = {'tex2jax': {'inlineMath': [['\\\\(', '\\\\)']], "
                     "'displayMath': [['\\\\[', '\\\\]']], 'processEscapes': True, "
                     "'processClass': 'math|output_area', 'ignoreClass': 'document'}, "
                     "'messageStyle': 'none'}")
    else:
        # No local MathJax: Sphinx insists on a script path, so point it at a local no-op file (written by
        # build_site) rather than a CDN; formulas stay readable as TeX source.
        extra.append(f"mathjax_path = '{NO_MATHJAX}'")
    conf.write_text(conf.read_text(encoding="utf-8") + "\n".join(extra) + "\n", encoding="utf-8")


def build_site(out: Path, *, course: Path | None = None, solutions: Path | None = None,
               notebooks: Path | None = None, quiet: bool = True) -> SiteResult:
    """Stage the book in out/source and build HTML into out/html; raise SiteError on failure."""
    import importlib.util

    missing = [m for m in ("sphinx", "myst_nb", "jupyter_book") if importlib.util.find_spec(m) is None]
    if missing:
        raise SiteError(f"{', '.join(missing)} not installed in this environment; the site needs "
                        f"jupyter-book 1.x (the dev extra): run `make env`")
    course = course or paths.COURSE
    solutions = solutions or paths.SOLUTIONS
    notebooks = notebooks or paths.NOTEBOOKS
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    html = out / "html"
    result = SiteResult(html=html, notebooks=[])
    src = stage(out, course, solutions, notebooks, result)
    mathjax = find_mathjax()
    sphinx_conf(src, mathjax)
    if html.exists():
        shutil.rmtree(html)
    warnings_file = out / "warnings.txt"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-d", str(out / "doctrees"), "-E", "-w",
           str(warnings_file), str(src), str(html)]
    if quiet:
        cmd.insert(3, "-q")
    import os

    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", MPLBACKEND="Agg")
    proc = subprocess.run(cmd, capture_output=quiet, text=True, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-5:] if quiet else []
        raise SiteError("sphinx could not build the site:\n  " + "\n  ".join(tail)
                        + f"\n  full warnings: {warnings_file}")
    if mathjax is not None:
        copy_mathjax(mathjax, html / "_static")
        result.mathjax = str(mathjax)
    else:
        (html / "_static" / NO_MATHJAX).write_text(
            "/* No local MathJax was found at build time (install Debian's libjs-mathjax and rebuild):\n"
            "   formulas are shown as TeX source. Nothing is loaded from the web. */\n", encoding="utf-8")
    result.warnings = [w for w in warnings_file.read_text(encoding="utf-8").splitlines() if w.strip()] \
        if warnings_file.exists() else []
    return result
