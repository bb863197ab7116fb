"""The built book works in a real browser with no network beyond 127.0.0.1.

Headless Chromium from Debian's packages (`apt-get install chromium`, done by `make browser`), driven by Playwright,
loads every page of _toc.yml from a local http.server and checks: no console errors, no request leaving
localhost (MathJax, require.js and the widget manager are vendored, see scripts/fetch_assets.py), equations typeset,
images loaded, solution dropdowns open, interactive sliders change the frame, embedded ipywidgets render, and
the search page finds a word. Full-page screenshots go to _build/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import HTML, ROOT, toc_files

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # belt and braces: even a request that escaped Playwright's routing could not resolve a name
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"
PAGES = toc_files()
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]
LOCAL_HOSTS = {"127.0.0.1"}
TIMEOUT_MS = 60_000  # generous: CI machines may be busy


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def base_url(html_dir):
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageVisit:
    """One page in a fresh context that records console errors and every request, and blocks non-local ones."""

    def __init__(self, browser, url):
        self.requests, self.external, self.errors = [], [], []
        self.inflight, self.last_activity = 0, time.monotonic()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on(
            "requestfailed",
            lambda r: (
                urlparse(r.url).hostname in LOCAL_HOSTS and self.errors.append(f"request failed: {r.url} ({r.failure})")
            ),
        )
        self.page.on("request", lambda r: self._activity(+1))
        self.page.on("requestfinished", lambda r: self._activity(-1))
        self.page.on("requestfailed", lambda r: self._activity(-1))
        self.page.goto(url, wait_until="load")

    def _activity(self, delta):
        self.inflight += delta
        self.last_activity = time.monotonic()

    def settle(self, quiet_s=1.0, timeout_s=90.0):
        """Wait until no request has been in flight for `quiet_s` (Playwright's "networkidle" is flaky on a busy
        machine)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.inflight <= 0 and time.monotonic() - self.last_activity > quiet_s:
                return
            self.page.wait_for_timeout(100)  # lets Playwright deliver events
        raise AssertionError(f"{self.page.url}: requests still in flight after {timeout_s:.0f} s")

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        scheme = urlparse(url).scheme
        if scheme in ("data", "blob", "about") or urlparse(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def close(self):
        self.context.close()


def _wait_mathjax(page):
    """Wait until MathJax (if the page loads it) has typeset everything."""
    page.wait_for_function("document.readyState === 'complete'")
    has_mathjax = page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')")
    if has_mathjax:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("() => MathJax.startup.promise")
    return has_mathjax


def _visible_text_outside_code(page):
    return page.evaluate("""() => {
        const clone = document.querySelector('main, article, body').cloneNode(true);
        clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight').forEach(e => e.remove());
        return clone.innerText;
    }""")


@pytest.fixture(scope="module")
def visits(browser, base_url):
    """Load each page once; the tests below inspect the same visit (in toc order)."""
    opened = {}

    def visit(page):
        if page not in opened:
            opened[page] = PageVisit(browser, f"{base_url}/{page}.html")
            _wait_mathjax(opened[page].page)
        return opened[page]

    yield visit
    for v in opened.values():
        v.close()


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_without_errors(visits, page):
    v = visits(page)
    v.settle()
    assert not v.external, f"{page}: requests leaving 127.0.0.1 at page load (all must be vendored): {v.external}"
    assert not v.errors, f"{page}: console errors:\n" + "\n".join(v.errors)


@pytest.mark.parametrize("page", PAGES)
def test_screenshot(visits, page):
    v = visits(page)  # taken before the tests below click and scroll
    v.page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / (page.replace("/", "__") + ".png")
    v.page.screenshot(path=str(out), full_page=True)
    assert out.stat().st_size > 10_000, f"{out} is suspiciously small"


@pytest.mark.parametrize("page", PAGES)
def test_equations_typeset(visits, page):
    v = visits(page)
    n_math = v.page.locator("span.math, div.math").count()
    if n_math:
        untypeset = v.page.evaluate(
            "() => [...document.querySelectorAll('span.math, div.math')]"
            ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))"
        )
        assert not untypeset, f"{page}: {len(untypeset)} of {n_math} equations not typeset, e.g. {untypeset[:3]}"
    errors = v.page.evaluate("() => [...document.querySelectorAll('mjx-merror')].map(e => e.textContent)")
    assert not errors, f"{page}: MathJax errors (undefined macro?) {errors[:5]}"
    text = _visible_text_outside_code(v.page)
    raw = [m.group(0) for m in re.finditer(r".{0,40}\$\$.{0,40}", text)]
    assert not raw, f"{page}: raw `$$` left in the text (math not parsed): {raw[:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_images_load(visits, page):
    v = visits(page)
    broken = v.page.evaluate("""async () => {
        const imgs = [...document.querySelectorAll('main img, article img')];
        await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
        return imgs.filter(i => !(i.naturalWidth > 0)).map(i => i.getAttribute('src').slice(0, 100));
    }""")
    assert not broken, f"{page}: images that did not load: {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_solutions_toggle(visits, page):
    v = visits(page)
    solutions = v.page.locator("div.solution.dropdown")
    for i in range(solutions.count()):
        sol = solutions.nth(i)
        body = sol.locator("> :not(.admonition-title)").first
        assert not body.is_visible(), f"{page}: solution {i + 1} is open before it is clicked"
        sol.locator(".admonition-title").click()
        body.wait_for(state="visible", timeout=5_000)
        sol.locator(".admonition-title").click()  # and it closes again
        body.wait_for(state="hidden", timeout=5_000)


@pytest.mark.parametrize("page", PAGES)
def test_interactive_figures_move(visits, page):
    v = visits(page)
    figs = v.page.locator("div.sb-interactive")
    for i in range(figs.count()):
        fig = figs.nth(i)
        slider, img = fig.locator("input[type=range]").first, fig.locator("img").first
        lo, hi, now = (float(slider.get_attribute(a)) for a in ("min", "max", "value"))
        assert hi > lo, f"{page}: interactive figure {i + 1} has a slider with a single position"
        before = img.get_attribute("src")
        target = hi if now != hi else lo
        slider.scroll_into_view_if_needed()
        slider.fill(str(int(target)))
        v.page.wait_for_function(
            "([el, s]) => el.getAttribute('src') !== s", arg=[img.element_handle(), before], timeout=5_000
        )
        assert img.evaluate("e => e.complete && e.naturalWidth > 0"), f"{page}: new frame of figure {i + 1} broken"


@pytest.mark.parametrize("page", PAGES)
def test_static_widgets_render(visits, page):
    # every embedded view renders its own kind of element (a slider view a .widget-slider, a box its children...)
    from test_html import expected_widget_elements

    v = visits(page)
    expected = expected_widget_elements((HTML / f"{page}.html").read_text(encoding="utf-8"))
    for selector, n in expected.items():
        v.page.wait_for_function(f"() => document.querySelectorAll('{selector}').length >= {n}", timeout=15_000)


def test_every_chapter_has_a_screenshot():
    missing = [c for c in CHAPTERS if not (SCREENSHOTS / (c.replace("/", "__") + ".png")).is_file()]
    assert not missing, f"no screenshot for {missing}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_colab_and_binder_open_the_notebook_twin(page):
    """Colab cannot open a .md page (book-stack trap 4): the launch links must name the committed .ipynb twin."""
    html = (HTML / f"{page}.html").read_text(encoding="utf-8")
    if not (ROOT / f"{page}.md").is_file() or "kernelspec" not in (ROOT / f"{page}.md").read_text(encoding="utf-8"):
        return  # not a notebook page: no launch buttons
    colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
    binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', html)
    assert colab and binder, f"{page}: no Colab/Binder launch link"
    for link in colab + binder:
        assert link.endswith(f"{page}.ipynb"), f"{page}: launch link does not open the .ipynb twin: {link}"
    assert (ROOT / f"{page}.ipynb").is_file(), f"{page}.ipynb (the twin) is missing: run `make notebooks`"


def test_search_finds_a_word(browser, base_url):
    v = PageVisit(browser, f"{base_url}/search.html?q=diffusion")
    try:
        v.page.wait_for_selector("#search-results ul.search li", timeout=TIMEOUT_MS)
        n = v.page.locator("#search-results ul.search li").count()
        assert n >= 1
        assert not v.external, f"search page requested {v.external}"
        assert not v.errors, "search page console errors:\n" + "\n".join(v.errors)
    finally:
        v.close()


def test_live_code_button_loads_nothing_at_page_load(browser, base_url):
    """Thebe ("Live code") may use the network when clicked, never at page load."""
    target = next((p for p in CHAPTERS), PAGES[0])
    v = PageVisit(browser, f"{base_url}/{target}.html")
    try:
        v.settle()
        thebe = [u for u in v.requests if "thebe" in u and "sphinx-thebe" not in u]
        assert not thebe, f"thebe loaded at page load: {thebe}"
    finally:
        v.close()
