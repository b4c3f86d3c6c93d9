"""The slides and the course website, as a reader sees them: built from a smoke run of two short
notebooks (00 and 02, executed here into a temporary runs folder), then opened from ``file://``
in headless Chromium with the network cut off.

- slides: reveal.js initialises from its local copy, the deck has many slides and moves on, the
  math is typeset, and a screenshot is not blank;
- site: the index and two notebook pages load with no console error, ask the network for
  nothing, every local link and file they point at exists, the page fits a phone's width, and
  each page says which run it shows.

Chromium is Debian's (``apt-get install chromium``), driven by playwright's Python package
(playwright's own browser downloads are never used). Without Chromium these tests are skipped,
unless ``COURSE_REQUIRE_BROWSER`` is set, as CI (.ci/run) sets it: there they fail instead.
"""
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from tools import site, slides
from tools.notebooks import NOTEBOOK_DIR

RUN_NOTEBOOKS = ("00", "02")
PHONE = {"width": 390, "height": 844}
SLIDE_SIZE = {"width": 1280, "height": 800}


def browser_missing(reason: str):
    if os.environ.get("COURSE_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (COURSE_REQUIRE_BROWSER is set, so the browser tests may not skip)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    named = os.environ.get("COURSE_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    return next((found for name in ("chromium", "chromium-browser", "google-chrome")
                 if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        browser_missing("no Chromium found: apt-get install chromium (or set COURSE_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_missing("playwright is not installed: python course.py install")
    with sync_playwright() as playwright:
        # The host rules send any name lookup nowhere: the pages must need no network at all.
        chromium = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"])
        yield chromium
        chromium.close()


class Visit:
    """One page opened offline: its console errors, page errors, failed loads and network requests."""

    def __init__(self, browser, path: Path, viewport: dict):
        self.context = browser.new_context(viewport=viewport)
        self.problems, self.network = [], []
        self.context.route("**/*", self._no_network)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed to load {r.url}"))
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.wait_for_math()

    def _no_network(self, route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            self.network.append(route.request.url)
            route.abort()

    def wait_for_math(self):
        self.page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.isReady", timeout=20_000)
        self.page.evaluate("new Promise(done => MathJax.Hub.Queue(done))")

    def local_targets(self) -> list[str]:
        """Every link, picture, script and style sheet of the page that is not on the web or
        inline, as absolute ``file:`` URLs (with a ``#fragment`` for links into a page)."""
        return self.page.evaluate("""() => [
            ...[...document.querySelectorAll('a[href]')].map(a => a.href),
            ...[...document.querySelectorAll('[src]')].map(e => e.src),
            ...[...document.querySelectorAll('link[href]')].map(l => l.href),
        ].filter(u => u.startsWith('file:'))""")

    def broken_targets(self) -> list[str]:
        broken = []
        here = self.page.url.split("#")[0]
        for url in self.local_targets():
            address, _, fragment = url.partition("#")
            path = Path(unquote(urlparse(address).path))
            if not path.is_file():
                broken.append(url)
            elif (fragment and not fragment.startswith("/") and address.split("?")[0] == here
                  and not self.page.evaluate("ids => ids.some(id => document.getElementById(id))",
                                             [fragment, unquote(fragment)])):
                broken.append(url)      # "#/..." is reveal.js's own route; a browser tries an id as written, then decoded
        return broken

    def close(self):
        self.context.close()


def screenshot_is_not_blank(png: bytes) -> tuple[int, float]:
    """The number of colours and the share of pixels that are not the background's."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize((320, 200))
    colours = image.getcolors(maxcolors=320 * 200)
    background = max(colours)[1]
    share = sum(n for n, colour in colours if colour != background) / (320 * 200)
    return len(colours), share


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """Notebooks 00 and 02 executed under smoke into ``<tmp>/runs/smoke`` by the course's runner."""
    from tools import runner

    out = tmp_path_factory.mktemp("runs") / "smoke"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MPLBACKEND", raising=False)    # conftest's Agg would keep the figures out of the run
        assert runner.main([*RUN_NOTEBOOKS, "--profile", "smoke", "--out", str(out)]) == 0
    return out


# ----------------------------------------------------------------------------- without a browser
def test_title_cell_splits_into_motivation_and_goals():
    nb = nbformat.read(NOTEBOOK_DIR / "05_char_rnn.ipynb", as_version=4)
    parts = [c for c in slides.slide_cells(nb) if c.metadata.slideshow.slide_type != "skip"]
    title, goals = parts[0], parts[1]
    assert title.source.startswith("# 05") and "**You will**" not in title.source
    assert title.metadata.slideshow.slide_type == "slide"
    assert goals.source.startswith("**You will**") and goals.metadata.slideshow.slide_type == "subslide"
    sections = [c for c in parts if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert sections and all(c.metadata.slideshow.slide_type == "slide" for c in sections)
    assert not any(c.cell_type == "code" and c.source.startswith("# Setup") for c in parts)


def test_long_markdown_splits_at_paragraphs_and_subheadings():
    paragraph = "word " * 120                      # 600 characters: two do not fit one slide
    text = f"## Section\n\n{paragraph}\n\n{paragraph}\n\n### Detail\n\nshort\n\n$$\na\n\nb\n$$"
    parts = slides.split_markdown(text)
    assert parts[0].startswith("## Section") and paragraph.strip() in parts[0]
    assert parts[1].strip() == paragraph.strip()
    assert parts[2].startswith("### Detail") and parts[2].endswith("$$\na\n\nb\n$$"), "display math stays whole"
    assert max(slides.weight(p) for p in parts) <= slides.SLIDE_BUDGET


def test_site_refuses_a_missing_or_empty_run(tmp_path):
    for folder in (tmp_path / "nothing", tmp_path):
        with pytest.raises(SystemExit, match=r"python course.py run --profile"):
            site.build_site(folder, tmp_path / "site")


def test_a_missing_reveal_package_says_what_to_install(monkeypatch):
    from tools import web_assets

    monkeypatch.setattr(web_assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit, match=r"python course.py install.*--no-deps sphinx-revealjs"):
        web_assets.reveal_folder()


def test_links_become_site_pages_or_the_repository_online():
    pages = {"notebooks/05_char_rnn.ipynb": "05_char_rnn.html", "GLOSSARY.md": "glossary.html"}
    page = ('<a href="05_char_rnn.ipynb#3.-Batching">a</a> <a href="../GLOSSARY.md">g</a> '
            '<a href="06_word2vec.ipynb">b</a> <a href="#here">h</a> <a href="https://arxiv.org/x">p</a> '
            '<a href="x"><img alt="Open In Colab" src="https://colab.research.google.com/badge.svg"></a>')
    out = site.rewrite_links(page, "notebooks", pages)
    assert 'href="05_char_rnn.html#3.-Batching"' in out and 'href="glossary.html"' in out
    assert f'href="{site.REPOSITORY_URL}/blob/main/notebooks/06_word2vec.ipynb"' in out
    assert 'href="#here"' in out and 'href="https://arxiv.org/x"' in out
    assert "<img" not in out and ">Open In Colab</a>" in out


# ----------------------------------------------------------------------------- in Chromium
def test_slides_work_offline(browser, smoke_run, tmp_path):
    deck = slides.make_slides(NOTEBOOK_DIR / "02_rnn_bptt.ipynb", tmp_path / "slides", smoke_run)
    html = deck.read_text(encoding="utf-8")
    assert "https://" not in " ".join(line for line in html.splitlines() if "<script src=" in line)
    visit = Visit(browser, deck, SLIDE_SIZE)
    try:
        page = visit.page
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
        total = page.evaluate("Reveal.getTotalSlides()")
        assert total >= 10, f"only {total} slides: reveal.js did not split the deck"
        assert page.evaluate("document.querySelectorAll('.reveal .slides > section').length") >= 5
        start = page.evaluate("Reveal.getIndices()")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"Reveal.getIndices().h !== {start['h']}", timeout=5_000)
        page.evaluate("Reveal.next()")
        assert page.evaluate("Reveal.getProgress()") > 0
        assert page.evaluate("document.querySelectorAll('.MathJax, .MathJax_Display').length") > 0, \
            "no math was typeset"
        page.evaluate("Reveal.slide(0, 0)")
        page.wait_for_timeout(800)                          # the slide transition
        colours, share = screenshot_is_not_blank(page.screenshot())
        assert colours >= 8 and share > 0.01, f"the screenshot looks blank ({colours} colours, {share:.1%} ink)"
        assert not visit.network, f"the deck asked the network for {visit.network}"
        assert not visit.problems, visit.problems
        assert not visit.broken_targets()
    finally:
        visit.close()


def test_site_reads_offline_on_a_phone(browser, smoke_run, tmp_path):
    out = tmp_path / "site"
    index = site.build_site(smoke_run, out)
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == ["00_getting_started.html", "02_rnn_bptt.html", "glossary.html", "index.html"]
    for page_file in (index, out / "00_getting_started.html", out / "02_rnn_bptt.html"):
        visit = Visit(browser, page_file, PHONE)
        try:
            page = visit.page
            assert not visit.network, f"{page_file.name} asked the network for {visit.network}"
            assert not visit.problems, f"{page_file.name}: {visit.problems}"
            assert not visit.broken_targets(), f"{page_file.name}: broken links {visit.broken_targets()}"
            run_line = page.inner_text(".course-run")
            assert "profile smoke" in run_line and " UTC" in run_line and " on " in run_line, run_line
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1] + 1, f"{page_file.name} is wider than a phone: {width}"
            links = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
            assert "glossary.html" in links and "index.html" in links
            if page_file.name == "index.html":
                assert "00_getting_started.html" in links and "02_rnn_bptt.html" in links
                assert page.locator("table").count() >= 2, "the course map and the results table"
            if page_file.name == "00_getting_started.html":
                assert page.get_attribute("a[rel=next]", "href") == "02_rnn_bptt.html"
            if page_file.name == "02_rnn_bptt.html":
                assert page.locator(".jp-OutputArea-output img").count() > 0, "the run's figures"
                assert page.evaluate("document.querySelectorAll('.MathJax, .MathJax_Display').length") > 0
        finally:
            visit.close()
