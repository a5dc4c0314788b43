"""Reading the built site in Chromium, for the browser tests.

The site (``_build/html``, or the folder named by ``ADAMEDU_SITE``) is served on 127.0.0.1 by a
tiny HTTP server and read by the system's Chromium through Playwright, with every request that
does not go to that server recorded and aborted: the network is cut, as in a classroom without
internet. Each page is visited once; what the visit found is a :class:`PageReport`, and the tests
in ``test_site_pages.py`` assert on its parts.

The tests skip, saying why, when Playwright, Chromium or the built site is missing.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Pages that are not pages of the book (template fragments Sphinx themes leave in ``_static``).
SKIP_DIRS = {"_static", "_sources", "_images", "reports"}
SERIOUS = {"serious", "critical"}
#: An alt text that is a file name or path (what the build writes when none is given).
FILE_NAME = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|svg|gif|webp)$", re.IGNORECASE)


def site_dir() -> Path:
    return Path(os.environ.get("ADAMEDU_SITE", ROOT / "_build" / "html")).resolve()


def site_pages() -> list[str]:
    """Every HTML page of the built site, relative to its root (empty if it is not built)."""
    root = site_dir()
    if not (root / "index.html").is_file():
        return []
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIP_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("ADAMEDU_CHROMIUM"),
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def why_skip() -> str | None:
    """The reason the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements.txt)"
    if chromium_path() is None:
        return "Chromium is not installed (Debian/Ubuntu: sudo apt-get install chromium)"
    if not site_pages():
        return f"the site is not built: no {site_dir() / 'index.html'} (run jupyter-book build . first)"
    return None


def redirect_target(path: Path) -> str | None:
    """The page a ``<meta http-equiv="refresh">`` page sends the reader to, if it is one."""
    match = re.search(
        r'<meta[^>]+http-equiv="refresh"[^>]+content="\d+;\s*url=([^"]+)"',
        path.read_text("utf-8", errors="replace"),
        flags=re.IGNORECASE,
    )
    return match.group(1).lstrip("./") if match else None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass


@dataclass
class PageReport:
    page: str
    third_party: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    sliders: list[dict] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)


# --- the JavaScript run in each page -------------------------------------------------------

WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
}"""

MATH_STATE = r"""() => {
  const skip = "pre, code, script, style, textarea, mjx-container, mjx-assistive-mml, .highlight";
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const inlineDollar = /\$[^$\s][^$]*\$/;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (parent.closest("[hidden], .d-none") ) continue;
    const text = node.textContent;
    if (text.includes("\\(") || text.includes("\\[") || text.includes("$$") || inlineDollar.test(text)
        || /\\begin\{/.test(text)) {
      raw.push(text.trim().slice(0, 120));
    }
  }
  const mathNodes = Array.from(document.querySelectorAll(".math"));
  const unrendered = mathNodes.filter(el => !el.querySelector("mjx-container"))
                              .map(el => el.textContent.trim().slice(0, 120));
  return {
    raw: raw,
    math_nodes: mathNodes.length,
    unrendered: unrendered,
    containers: document.querySelectorAll("mjx-container").length,
    errors: Array.from(document.querySelectorAll("mjx-merror")).map(e => e.textContent.slice(0, 120)),
    mathjax_loaded: !!(window.MathJax && MathJax.version),
    mathjax_version: (window.MathJax && MathJax.version) || null,
  };
}"""

LOAD_IMAGES = """async () => {
  const imgs = Array.from(document.images);
  for (const img of imgs) { img.loading = "eager"; }
  await Promise.all(imgs.map(img => img.decode().catch(() => null)));
  return imgs.map(img => ({
    src: img.getAttribute("src") || "",
    natural_width: img.naturalWidth,
    complete: img.complete,
    alt: img.getAttribute("alt"),
  }));
}"""

# The figure a slider controls: the nearest ancestor that holds an image, a canvas or a plot.
SLIDER_SNAPSHOT = """(index) => {
  const input = document.querySelectorAll('input[type="range"]')[index];
  let box = input.parentElement;
  while (box && !box.querySelector("img, canvas, svg image, svg.adamedu-plot")) { box = box.parentElement; }
  if (!box) return {container: false, state: []};
  const state = [];
  box.querySelectorAll("img").forEach(img => state.push("img:" + img.currentSrc + "|" + img.src));
  box.querySelectorAll("canvas").forEach(c => { try { state.push("canvas:" + c.toDataURL()); }
                                              catch (e) { state.push("canvas:tainted"); } });
  box.querySelectorAll("svg image").forEach(i => state.push("svgimg:" + i.getAttribute("href")));
  box.querySelectorAll("path.adamedu-track").forEach(p => state.push("track:" + p.getAttribute("d")));
  box.querySelectorAll("g.adamedu-bg").forEach(g => state.push("bg:" + g.style.display));
  return {container: true, state: state, value: input.value, min: input.min, max: input.max,
          label: input.labels && input.labels.length ? input.labels[0].textContent.trim()
                 : (input.getAttribute("aria-label") || input.id || "")};
}"""


class Site:
    """The served site plus one Chromium; visits pages and caches what each visit found."""

    def __init__(self, root: Path, chromium: str):
        from playwright.sync_api import sync_playwright

        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        host, port = self.server.server_address[:2]
        self.origin = f"http://{host}:{port}"
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(
            service_workers="block", viewport={"width": 1280, "height": 900}
        )
        self.axe_source = _axe_source()
        self.reports: dict[str, PageReport] = {}

    def close(self) -> None:
        self.context.close()
        self.browser.close()
        self._pw.stop()
        self.server.shutdown()
        self.server.server_close()

    def report(self, page_name: str) -> PageReport:
        if page_name not in self.reports:
            self.reports[page_name] = self._visit(page_name)
        return self.reports[page_name]

    def _visit(self, page_name: str) -> PageReport:
        report = PageReport(page_name)
        page = self.context.new_page()

        def route(route):
            url = route.request.url
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about") or url.startswith(self.origin + "/"):
                route.continue_()
            else:
                report.third_party.append(url)
                route.abort("blockedbyclient")

        def on_console(msg):
            if msg.type == "error":
                report.console_errors.append(f"console: {msg.text}")

        def on_response(response):
            if response.url.startswith(self.origin) and response.status >= 400:
                report.failed_local.append(f"{response.status} {response.url}")

        page.route("**/*", route)
        page.on("console", on_console)
        page.on("pageerror", lambda err: report.console_errors.append(f"page error: {err}"))
        page.on("response", on_response)
        try:
            target = redirect_target(self.root / page_name)
            page.goto(f"{self.origin}/{page_name}", wait_until="load")
            if target is not None:  # a redirect page (the book's index): read where it leads
                page.wait_for_url(f"**/{target}", wait_until="load")
            page.evaluate(WAIT_FOR_MATHJAX)
            report.images = page.evaluate(LOAD_IMAGES)
            report.math = page.evaluate(MATH_STATE)
            report.violations = self._axe(page)
            report.sliders = self._sliders(page)
            page.wait_for_timeout(100)  # let late console messages arrive
        finally:
            page.close()
        return report

    def _axe(self, page) -> list[dict]:
        page.evaluate(self.axe_source)
        result = page.evaluate(
            """async () => {
                 const r = await axe.run(document, {resultTypes: ["violations"], preload: false});
                 return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
               }"""
        )
        return result

    def _sliders(self, page) -> list[dict]:
        results = []
        count = page.locator('input[type="range"]').count()
        for index in range(count):
            before = page.evaluate(SLIDER_SNAPSHOT, index)
            slider = page.locator('input[type="range"]').nth(index)
            entry = {"index": index, "label": before.get("label", ""), "container": before["container"]}
            if not slider.is_visible():
                slider.scroll_into_view_if_needed()
            if not slider.is_visible():
                entry.update(changed=False, why="slider is not visible")
                results.append(entry)
                continue
            # Move it as a reader would: focus and press a key (End, or Home if already at max).
            slider.focus()
            key = "Home" if before.get("value") == before.get("max") else "End"
            page.keyboard.press(key)
            after = page.evaluate(SLIDER_SNAPSHOT, index)
            for _ in range(40):  # the figure may redraw on the next animation frame: wait <= 2 s
                if after["state"] != before["state"]:
                    break
                page.wait_for_timeout(50)
                after = page.evaluate(SLIDER_SNAPSHOT, index)
            entry.update(
                value_before=before.get("value"),
                value_after=after.get("value"),
                changed=before["container"] and before["state"] != after["state"],
            )
            results.append(entry)
        return results


@functools.lru_cache(maxsize=1)
def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
