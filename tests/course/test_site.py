"""The course website: it builds offline from course/ and solutions/, and works in a real browser.

The site is built once per session into a temporary folder. The browser test serves it on 127.0.0.1 and
opens every page in headless Chromium (Debian's package) through a small checker page that loads each page
in a same-origin frame and records, from the live DOM: the title, the main text, every element id, every
same-site link, and every image with whether the browser actually decoded it. Python then checks that each
link reaches a page (and the anchor exists there) and that each solution notebook page shows as many
figures as the notebook has stored image outputs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.parse
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lifecycle_lab.base import paths


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and ".ipynb_checkpoints" not in p.parts:
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    from lifecycle_lab.course.site import build_site

    before = {name: _tree_digest(folder) for name, folder in
              [("course", paths.COURSE), ("solutions", paths.SOLUTIONS)]}
    out = tmp_path_factory.mktemp("site")
    result = build_site(out)
    after = {name: _tree_digest(folder) for name, folder in
             [("course", paths.COURSE), ("solutions", paths.SOLUTIONS)]}
    result.untouched = before == after
    return result


def test_site_builds_every_chapter_and_present_notebook(site):
    import yaml

    html = site.html
    assert (html / "index.html").is_file()
    toc = yaml.safe_load((paths.COURSE / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for f in files:
        assert (html / f"{f}.html").is_file(), f"{f} is in the toc but was not built"
    present = sorted(p.stem for p in paths.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    assert site.notebooks == present
    for stem in present:
        assert (html / "solutions" / f"{stem}.html").is_file()


def test_build_leaves_course_and_solutions_untouched(site):
    assert site.untouched, "building the site changed files in course/ or solutions/"
    assert not (paths.COURSE / "_build").exists(), "a build wrote into course/_build"


WEB_LOADERS = re.compile(r"""<(?:script|img|iframe|source)\b[^>]*\bsrc=["'](https?:)?//|"""
                         r"""<link\b[^>]*\bhref=["'](https?:)?//""", re.I)


def _pages_loading_from_the_web(html: Path) -> list[str]:
    return [str(page.relative_to(html)) for page in html.rglob("*.html")
            if WEB_LOADERS.search(page.read_text(encoding="utf-8", errors="replace"))]


def test_no_page_loads_anything_from_the_web(site):
    offenders = _pages_loading_from_the_web(site.html)
    assert not offenders, f"pages that would fetch from the network: {offenders}"


def test_missing_notebook_links_become_text_not_broken_links(tmp_path):
    """A chapter linking a notebook that does not exist yet still builds, and says so."""
    from lifecycle_lab.course.site import SiteResult, rewrite_links

    result = SiteResult(html=tmp_path, notebooks=[])
    text = "See [the gate](../solutions/99_future_thing.ipynb#gate) for practice."
    out = rewrite_links(text, {}, result, "chapters/x.md")
    assert "99_future_thing" in out and "not yet available" in out and "](" not in out
    assert result.missing_links == ["chapters/x.md: 99_future_thing"]


def test_section_links_resolve_to_headings(tmp_path):
    from lifecycle_lab.course.site import resolve_section, slugify

    heads = [(1, "00 · Start"), (2, "1. Is this the environment?"), (3, "ROC-AUC: ranking quality")]
    assert resolve_section(heads, "roc-auc") == slugify("ROC-AUC: ranking quality")
    assert resolve_section(heads, "environment") == slugify("1. Is this the environment?")
    assert resolve_section(heads, "no-such-words") is None
    assert resolve_section(heads, "nothing|environment") == slugify("1. Is this the environment?")
    assert resolve_section(heads, "nothing|else") is None
    assert resolve_section(heads, "start") is None, "the level-1 title is not a section"


def test_section_words_survive_renumbering_and_ambiguity_is_reported(tmp_path):
    """A link names a section by its words: the number may change, and words two headings share fail."""
    from lifecycle_lab.course.site import SiteResult, resolve_section, rewrite_links, section_matches

    heads = [(2, "2. Data"), (3, "Which inputs moved (data drift)?"), (2, "7. The business case: sunset?"),
             (2, "8. Migration: shadow, canary, sunset"), (3, "The sunset plan"),
             (2, "9. Bias audit across segments")]
    assert resolve_section(heads, "data") == "2-data"            # the number is not part of the name
    assert resolve_section(heads, "5-data") is None              # a stale number does not match
    assert resolve_section(heads, "migration") == "8-migration-shadow-canary-sunset"
    assert resolve_section(heads, "sunset-plan") == "the-sunset-plan"
    assert resolve_section(heads, "segment") == "9-bias-audit-across-segments"
    assert resolve_section(heads, "act") is None                 # words match from their start only
    assert section_matches(heads, "sunset") == ["7-the-business-case-sunset", "8-migration-shadow-canary-sunset",
                                                "the-sunset-plan"]
    assert resolve_section(heads, "sunset") is None
    # in a chapter, the ambiguous link is reported and points at the notebook's top, not at a guess
    nb = tmp_path / "03_x.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": f"{'#' * level} {text}"}
                                        for level, text in heads], "metadata": {}, "nbformat": 4,
                              "nbformat_minor": 5}))
    result = SiteResult(html=tmp_path, notebooks=[])
    out = rewrite_links("[plan](../solutions/03_x.ipynb#sunset) and [data](../solutions/03_x.ipynb#data)",
                        {"03_x": nb}, result, "chapters/y.md")
    assert out.startswith("[plan](../solutions/03_x.ipynb) and {ref}`data <nb-03-x-2-data>`"), out
    assert result.ambiguous_sections == ["chapters/y.md: 03_x#sunset fits 7-the-business-case-sunset, "
                                         "8-migration-shadow-canary-sunset, the-sunset-plan"]
    assert result.unresolved_sections == []


# -- the browser ----------------------------------------------------------------------------------------

CHECKER = """<!doctype html><html><head><meta charset="utf-8"><title>checker</title></head><body>
<iframe id="f" style="width:1200px;height:900px"></iframe><pre id="result">pending</pre>
<script>
const pages = %s;
const out = {};
function settle(doc) {
  return new Promise(resolve => {
    const imgs = Array.from(doc.images);
    let left = imgs.filter(i => !i.complete).length;
    if (!left) return resolve();
    imgs.filter(i => !i.complete).forEach(i => {
      const done = () => { if (--left === 0) resolve(); };
      i.addEventListener('load', done); i.addEventListener('error', done);
    });
  });
}
async function visit(path) {
  const frame = document.getElementById('f');
  await new Promise(resolve => { frame.onload = resolve; frame.src = path; });
  const doc = frame.contentDocument;
  await settle(doc);
  const mj = frame.contentWindow.MathJax;
  if (mj && mj.Hub && mj.Hub.Queue) await new Promise(resolve => mj.Hub.Queue(resolve));
  const here = frame.contentWindow.location;
  const main = doc.querySelector('main, article, [role=main]');
  out[path] = {
    title: doc.title,
    text: main ? main.innerText.length : 0,
    ids: Array.from(doc.querySelectorAll('[id]')).map(e => e.id),
    links: Array.from(doc.querySelectorAll('a[href]')).map(a => a.href)
      .filter(h => h.startsWith(here.origin)),
    images: Array.from(doc.images).map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
    math: doc.querySelectorAll('.MathJax_CHTML, mjx-container').length,
  };
}
(async () => {
  for (const p of pages) {
    try { await visit(p); } catch (e) { out[p] = {error: String(e)}; }
  }
  document.getElementById('result').textContent = JSON.stringify(out);
})();
</script></body></html>
"""


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browsed(site, tmp_path_factory):
    """Serve the built site on 127.0.0.1 and record every page as Chromium renders it."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") or os.environ.get("LIFECYCLE_LAB_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed; CI must install Debian's chromium (see .ci/run)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); the browser test runs in CI")
    html = site.html
    pages = sorted("/" + p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if p.relative_to(html).parts[0] not in ("_static", "_sources", "_downloads", "_images"))
    (html / "_checker.html").write_text(CHECKER % json.dumps(pages), encoding="utf-8")
    handler = partial(_QuietHandler, directory=str(html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    profile = tmp_path_factory.mktemp("chromium-profile")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=120000",
           "--dump-dom", f"{base}/_checker.html"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=110)
    finally:
        server.shutdown()
    m = re.search(r'<pre id="result">(.*?)</pre>', proc.stdout, re.S)
    assert m, f"Chromium returned no result page (exit {proc.returncode}): {proc.stderr[-500:]}"
    raw = m.group(1)
    assert raw != "pending", "the checker did not finish within the virtual time budget"
    import html as htmllib

    return base, pages, json.loads(htmllib.unescape(raw))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


def test_every_page_loads_in_the_browser(browsed):
    _, pages, seen = browsed
    assert set(seen) == set(pages)
    for page, info in seen.items():
        assert "error" not in info, f"{page}: {info.get('error')}"
        assert info["title"] and "404" not in info["title"], f"{page}: no title ({info['title']!r})"
        if page not in ("/search.html", "/genindex.html"):
            assert info["text"] > 100, f"{page}: the main content is (almost) empty"


def test_every_internal_link_resolves(browsed, site):
    base, _, seen = browsed
    broken = []
    for page, info in seen.items():
        for link in info["links"]:
            url = urllib.parse.urlsplit(link)
            path = urllib.parse.unquote(url.path)
            if path.endswith("/"):
                path += "index.html"
            target = seen.get(path)
            if target is None:
                file = site.html / path.lstrip("/")
                if not file.is_file():
                    broken.append(f"{page} -> {link} (no such file)")
                continue
            if url.fragment and urllib.parse.unquote(url.fragment) not in target["ids"]:
                broken.append(f"{page} -> {link} (no element with id {url.fragment!r})")
    assert not broken, "broken links:\n" + "\n".join(sorted(set(broken))[:40])


def test_notebook_figures_are_present_and_load(browsed):
    import nbformat

    _, _, seen = browsed
    stems = sorted(p.stem for p in paths.SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    if not stems:
        pytest.skip("no solution notebooks present")
    for stem in stems:
        nb = nbformat.read(paths.SOLUTIONS / f"{stem}.ipynb", as_version=4)
        expected = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                       if any(k in o.get("data", {}) for k in ("image/png", "image/svg+xml", "image/jpeg")))
        info = seen[f"/solutions/{stem}.html"]
        figures = [i for i in info["images"] if "_images/" in (i["src"] or "")]
        assert len(figures) >= expected, f"{stem}: {expected} figures in the notebook, {len(figures)} on the page"
        failed = [i["src"] for i in figures if not i["ok"]]
        assert not failed, f"{stem}: figures that did not load: {failed}"


def test_formulas_are_typeset(browsed, site):
    if not site.mathjax:
        pytest.skip("no local MathJax (Debian package libjs-mathjax); formulas are shown as TeX source")
    _, _, seen = browsed
    assert seen["/chapters/03_training_evaluation.html"]["math"] > 0, "MathJax typeset no formula"


def test_build_without_any_notebook_still_works(tmp_path):
    """Notebooks land at different times: with none present the site builds and says they are coming."""
    from lifecycle_lab.course.site import build_site

    empty = tmp_path / "empty"
    empty.mkdir()
    result = build_site(tmp_path / "site", solutions=empty, notebooks=empty)
    assert result.notebooks == []
    page = (result.html / "chapters" / "03_training_evaluation.html").read_text(encoding="utf-8")
    assert "not yet available" in page and "solutions/" not in page
    assert not (result.html / "solutions").exists()


def test_build_without_mathjax_succeeds_and_loads_nothing_from_the_web(tmp_path, monkeypatch):
    """A laptop without Debian's libjs-mathjax still builds the site; formulas stay TeX, nothing is fetched."""
    from lifecycle_lab.course.site import NO_MATHJAX, build_site, find_mathjax

    monkeypatch.setenv("LIFECYCLE_LAB_MATHJAX", "none")
    assert find_mathjax() is None
    empty = tmp_path / "empty"
    empty.mkdir()
    result = build_site(tmp_path / "site", solutions=empty, notebooks=empty)
    assert result.mathjax == ""
    assert not (result.html / "_static" / "mathjax").exists(), "no MathJax may be copied when told none"
    assert (result.html / "_static" / NO_MATHJAX).is_file()
    page = (result.html / "chapters" / "03_training_evaluation.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*\bsrc=[\"']([^\"']+)", page)
    assert any(src.endswith(NO_MATHJAX) for src in scripts), scripts
    assert not [src for src in scripts if re.match(r"(https?:)?//", src)], scripts
    assert r"\frac{TP}{TP + FP}" in page, "the formulas should still be on the page, as TeX source"
    assert not _pages_loading_from_the_web(result.html)


def test_bad_quiz_fails_the_build_with_a_clear_message(tmp_path, capsys):
    from lifecycle_lab.cli import main
    from lifecycle_lab.course import site as sitemod

    course = tmp_path / "course"
    shutil.copytree(paths.COURSE, course)
    (course / "quizzes" / "broken.yml").write_text("title: x\nchapter: chapters/01_framing\nquestions: [\n")
    with pytest.raises(sitemod.SiteError, match=r"broken.yml: not valid YAML at line"):
        sitemod.build_site(tmp_path / "site", course=course)
    # the command line reports it without a traceback
    original = sitemod.paths.COURSE
    try:
        sitemod.paths.COURSE = course
        assert main(["site", "--out", str(tmp_path / "site2")]) == 1
    finally:
        sitemod.paths.COURSE = original
    err = capsys.readouterr().err
    assert "broken.yml" in err and "Traceback" not in err
