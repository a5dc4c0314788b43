"""Reading the built site in Chromium, for the browser tests.

The site (``_build/html``, or the folder named by ``ADAMEDU_SITE``) is served on 127.0.0.1 by a
tiny HTTP server and read by the system's Chromium through Playwright, with every request that
does not go to that server recorded and aborted: the network is cut, as in a classroom without
internet. Each page is visited once at each reader's size (a 1366x900 laptop, a 390x844 phone);
one visit reads the page in light mode, clicks its navigation and contents buttons, switches it to
dark mode with the theme's own button and reads it again. What a visit found is a
:class:`PageReport`; the tests in ``test_site_pages.py`` assert on its parts.

Accessibility is checked with axe-core, the copy in ``vendor/`` (4.14.1, from the npm registry;
to update: ``npm install axe-core@latest`` in a scratch folder, then copy
``node_modules/axe-core/axe.min.js`` here). A newer axe-core installed with npm in
``tests/browser/node_modules`` is used instead when present.

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
HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: The two readers: a laptop and a phone (CSS pixels). Figures are checked for a 2x screen.
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
#: Pages that are not pages of the book (template fragments Sphinx themes leave in ``_static``).
SKIP_DIRS = {"_static", "_sources", "_images", "reports"}
SERIOUS = {"serious", "critical"}
#: An alt text that is a file name or path (what the build writes when none is given).
FILE_NAME = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|svg|gif|webp)$", re.IGNORECASE)
#: axe-core's rules about colours, run again in dark mode.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
#: The theme's breakpoint: from this width on, the ☰ folds the sidebar instead of opening a dialog.
WIDE = 992


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


def axe_path() -> Path:
    """axe-core's ``axe.min.js``: one installed with npm next to the tests, else the vendored copy."""
    installed = HERE / "node_modules" / "axe-core" / "axe.min.js"
    return installed if installed.is_file() else HERE / "vendor" / "axe.min.js"


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
    if not axe_path().is_file():
        return f"axe-core is missing: no {axe_path()}"
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
    viewport: str
    third_party: list[str] = field(default_factory=list)
    failed_local: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    math: dict = field(default_factory=dict)
    images: list[dict] = field(default_factory=list)
    sliders: list[dict] = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    navigation: dict = field(default_factory=dict)
    #: axe-core's violations in each colour mode: {"light": [...], "dark": [...]}
    violations: dict = field(default_factory=dict)
    dark_mode: bool = False


# --- the JavaScript run in each page -------------------------------------------------------

WAIT_FOR_MATHJAX = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  await new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
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
  return imgs.map(img => {
    const box = img.getBoundingClientRect();
    return {
      src: img.getAttribute("src") || "",
      natural_width: img.naturalWidth,
      shown_width: box.width,
      visible: img.checkVisibility() && box.width > 0,
      figure: !!img.closest(".bd-article") && !img.closest(".sd-card-img-top, .logo"),
      complete: img.complete,
      alt: img.getAttribute("alt"),
    };
  });
}"""

# What a reader meets on the page, measured (see test_site_pages.py for what each number means).
LAYOUT = r"""() => {
  const root = document.documentElement;
  const article = document.querySelector(".bd-article") || document.body;
  const column = article.getBoundingClientRect();
  const shown = el => el.checkVisibility() && el.getBoundingClientRect().width > 0;
  const describe = el => (el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + "." + String(el.className).split(" ").slice(0, 2).join(".")) + " '"
      + (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 50) + "'";
  const clippedByAncestor = el => {
    for (let p = el.parentElement; p && p !== document.body && p !== root; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };

  // Elements that stick out of the viewport without a scrolling box around them.
  const sticking = [];
  if (root.scrollWidth > root.clientWidth + 1) {
    for (const el of document.querySelectorAll("body *")) {
      const box = el.getBoundingClientRect();
      if (box.right > root.clientWidth + 1 && box.width > 0 && !clippedByAncestor(el)) {
        sticking.push(describe(el));
        if (sticking.length >= 5) break;
      }
    }
  }

  // Display equations: wider than their box (then they must scroll within themselves)?
  const equations = Array.from(article.querySelectorAll("mjx-container[display='true']"))
    .filter(shown).map(el => {
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return {
        tex: (el.closest(".math") || el).getAttribute("data-tex") || describe(el),
        overflows: el.scrollWidth > el.clientWidth + 1,
        scrolls: ["auto", "scroll"].includes(style.overflowX),
        inside_column: box.left >= column.left - 1 && box.right <= column.right + 1,
        width: Math.round(el.scrollWidth), column: Math.round(column.width),
      };
    });

  // Lines of `assert` a reader sees (code in closed toggles is not seen).
  const asserts = [];
  for (const pre of article.querySelectorAll("pre")) {
    if (!shown(pre)) continue;
    for (const line of pre.textContent.split("\n")) {
      if (/^\s*assert\b|\bassert_\w*\(/.test(line)) asserts.push(line.trim().slice(0, 80));
    }
  }

  // Tables wider than their column.
  const wideTables = Array.from(article.querySelectorAll("table")).filter(shown).filter(t => {
    const box = t.closest(".pst-scrollable-table-container") || t.parentElement;
    return t.scrollWidth > box.clientWidth + 1 || t.getBoundingClientRect().right > column.right + 1;
  }).map(describe);

  // Prose: the measure of running text, in characters a line: the width of its paragraphs over
  // the mean width of a character of English text in their font.
  const probe = document.createElement("span");
  probe.textContent = "Adam keeps two moving averages of the gradients, corrects them for their start at zero, and steps along their ratio.";
  probe.style.cssText = "position:absolute;visibility:hidden;white-space:nowrap";
  const lineLengths = [];
  for (const p of article.querySelectorAll("section > p")) {
    if (!shown(p) || p.closest(".cell, table, .admonition, details, .sd-card, nav, figure, .adamedu-map")) continue;
    if (p.getClientRects().length === 0 || p.textContent.trim().length < 200) continue;
    p.appendChild(probe);
    const charWidth = probe.getBoundingClientRect().width / probe.textContent.length;
    probe.remove();
    lineLengths.push(Math.round(p.getBoundingClientRect().width / charWidth));
  }

  // Inline maths against the text around it: font size ratio.
  const inlineMath = Array.from(article.querySelectorAll("p span.math > mjx-container")).filter(shown)
    .map(m => parseFloat(getComputedStyle(m).fontSize) / parseFloat(getComputedStyle(m.closest("p")).fontSize));

  // Punctuation after inline maths that a line break could separate from it.
  const punctuation = [];
  for (const math of article.querySelectorAll("span.math")) {
    if (math.closest("div.math, .cell_output, pre")) continue;
    const next = math.nextSibling;
    if (next && next.nodeType === Node.TEXT_NODE && /^[.,;:!?)]/.test(next.textContent)
        && !math.parentElement.classList.contains("adamedu-nowrap")) {
      punctuation.push(describe(math.parentElement).slice(0, 80));
    }
  }
  const brokenGroups = Array.from(article.querySelectorAll(".adamedu-nowrap")).filter(shown)
    .filter(span => {
      const tops = new Set(Array.from(span.getClientRects()).map(r => Math.round(r.top / 4)));
      return span.getClientRects().length > 1 && tops.size > 1;
    }).map(describe);

  // Checks out of the flow: the page's count and its markers.
  const markers = Array.from(article.querySelectorAll("details.adamedu-check"));
  const summary = article.querySelector(".adamedu-checks-summary");

  return {
    viewport_width: root.clientWidth,
    page_width: root.scrollWidth,
    sticking_out: sticking,
    equations: equations,
    visible_asserts: asserts,
    wide_tables: wideTables,
    prose_chars_per_line: lineLengths,
    inline_math_size: inlineMath,
    punctuation_alone: punctuation,
    punctuation_broken: brokenGroups,
    check_markers: markers.length,
    check_markers_closed: markers.filter(d => !d.open).length,
    checks_summary: summary ? summary.textContent.trim() : null,
  };
}"""

# The figure a slider controls: the nearest ancestor that holds an image or a canvas.
SLIDER_SNAPSHOT = """(index) => {
  const input = document.querySelectorAll('input[type="range"]')[index];
  let box = input.parentElement;
  while (box && !box.querySelector("img, canvas, svg image")) { box = box.parentElement; }
  if (!box) return {container: false, state: []};
  const state = [];
  box.querySelectorAll("img").forEach(img => state.push("img:" + img.currentSrc + "|" + img.src));
  box.querySelectorAll("canvas").forEach(c => { try { state.push("canvas:" + c.toDataURL()); }
                                              catch (e) { state.push("canvas:tainted"); } });
  box.querySelectorAll("svg image").forEach(i => state.push("svgimg:" + i.getAttribute("href")));
  return {container: true, state: state, value: input.value, min: input.min, max: input.max,
          label: input.labels && input.labels.length ? input.labels[0].textContent.trim()
                 : (input.getAttribute("aria-label") || input.id || "")};
}"""

PANELS = """() => {
  const visible = el => !!el && el.checkVisibility() && el.getBoundingClientRect().width > 20;
  const primary = document.getElementById("pst-primary-sidebar");
  const dialogs = id => document.getElementById(id);
  const open = id => { const d = dialogs(id); return !!d && d.open && visible(d)
                                                   && d.querySelectorAll("a").length > 0; };
  return {
    primary_dialog: open("pst-primary-sidebar-modal"),
    secondary_dialog: open("pst-secondary-sidebar-modal"),
    primary_sidebar: visible(primary) && !primary.classList.contains("pst-sidebar-hidden"),
  };
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
        self.contexts = {
            name: self.browser.new_context(
                service_workers="block",
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                is_mobile=False,
            )
            for name, (width, height) in VIEWPORTS.items()
        }
        self.axe_source = axe_path().read_text("utf-8")
        self.reports: dict[tuple[str, str], PageReport] = {}

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()
        self.browser.close()
        self._pw.stop()
        self.server.shutdown()
        self.server.server_close()

    def report(self, page_name: str, viewport: str = "desktop") -> PageReport:
        key = (page_name, viewport)
        if key not in self.reports:
            self.reports[key] = self._visit(page_name, viewport)
        return self.reports[key]

    def axe_version(self) -> str:
        match = re.search(r"axe v([\d.]+)", self.axe_source[:200])
        return match.group(1) if match else "?"

    def _visit(self, page_name: str, viewport: str) -> PageReport:
        report = PageReport(page_name, viewport)
        page = self.contexts[viewport].new_page()

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
            report.layout = page.evaluate(LAYOUT)
            report.violations["light"] = self._axe(page)
            if viewport == "desktop":
                report.sliders = self._sliders(page)
            report.navigation = self._navigation(page, VIEWPORTS[viewport][0])
            report.dark_mode = self._switch_to_dark(page)
            if report.dark_mode:
                # Dark mode changes colours only (the same DOM, re-styled): the colour rules.
                report.violations["dark"] = self._axe(page, COLOUR_RULES)
            page.wait_for_timeout(100)  # let late console messages arrive
        finally:
            page.close()
        return report

    def _axe(self, page, rules: list[str] | None = None) -> list[dict]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        return page.evaluate(
            """async (rules) => {
                 const options = {resultTypes: ["violations"], preload: false};
                 if (rules) options.runOnly = {type: "rule", values: rules};
                 const r = await axe.run(document, options);
                 return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map(n => n.target.join(" ") + " " + n.html.slice(0, 80)).slice(0, 5)}));
               }""",
            rules,
        )

    def _navigation(self, page, width: int) -> dict:
        """Click every visible ☰ and contents button as a reader would; did its panel open?"""
        result = {}
        for kind in ("primary", "secondary"):
            toggles = page.locator(f".{kind}-toggle")
            visible = [toggles.nth(i) for i in range(toggles.count()) if toggles.nth(i).is_visible()]
            clicks = []
            for toggle in visible:
                before = page.evaluate(PANELS)
                toggle.click()
                page.wait_for_timeout(350)  # the sidebar's transition
                after = page.evaluate(PANELS)
                if after[f"{kind}_dialog"]:
                    opened = True
                    page.keyboard.press("Escape")
                    page.wait_for_timeout(150)
                    closed = not page.evaluate(PANELS)[f"{kind}_dialog"]
                elif kind == "primary" and width >= WIDE:
                    # On a wide screen the ☰ folds the sidebar away and unfolds it again.
                    opened = before["primary_sidebar"] != after["primary_sidebar"]
                    toggle.click()
                    page.wait_for_timeout(350)
                    closed = page.evaluate(PANELS)["primary_sidebar"] == before["primary_sidebar"]
                else:
                    opened, closed = False, False
                clicks.append({"opened": opened, "restored": closed})
            result[kind] = clicks
        return result

    def _switch_to_dark(self, page) -> bool:
        """Switch to dark mode with the theme's own button, as a reader does."""
        buttons = page.locator(".theme-switch-button")
        button = next((buttons.nth(i) for i in range(buttons.count()) if buttons.nth(i).is_visible()), None)
        if button is None:
            return False
        for _ in range(3):
            if page.evaluate("() => document.documentElement.dataset.theme") == "dark":
                break
            button.click()
            page.wait_for_timeout(50)
        page.mouse.move(0, 0)  # no tooltip left over the page
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.wait_for_timeout(250)  # colour transitions
        return page.evaluate("() => document.documentElement.dataset.theme") == "dark"

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
