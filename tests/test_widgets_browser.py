"""The interactive figures on the site in a real browser: moving a control changes the figure.

Drives the system Chromium (``/usr/bin/chromium``; ``apt-get install chromium``) with Playwright
and never downloads a browser. Skipped, with the reason, where either is missing. Pages load from
``file://`` and every request to the network is refused and recorded: the figures must work
offline.

Two levels: a page built by Jupyter Book with the book's ``_config.yml`` (what readers get, so
the renderer of ``_ext/adamedu_figures.py`` and the mime-priority settings are exercised too), and
each figure's HTML on a bare page (every factory, every static control). Both check the page at a
desktop and at a phone width, in light and in dark mode.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("ADAMEDU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[1]

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright); "
    "the browser tests of the interactive figures are skipped")
if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); the browser tests of the "
                "interactive figures are skipped", allow_module_level=True)

from adamedu import widgets  # noqa: E402  (after the skips: nothing to import if skipped)

_spec = importlib.util.spec_from_file_location("adamedu_figures", ROOT / "_ext" / "adamedu_figures.py")
SITE = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(SITE)

PAGE_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# Figures

"""


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        b = p.chromium.launch(executable_path=executable, args=ARGS)
        yield b
        b.close()


class Page:
    """A browser page that refuses (and records) network requests and records script errors."""

    def __init__(self, browser, url, width=1200, theme="light"):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.network, self.errors = [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def refuse(route):
            self.network.append(route.request.url)
            route.abort()

        self.page.route(lambda url: not url.startswith(("file:", "data:", "blob:")), refuse)
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.page.evaluate(f"document.documentElement.dataset.theme = '{theme}'")

    def close(self):
        self.page.close()


# What one figure shows: the visible layout, its background, the lines of every track (a digest)
# and the description a screen reader gets.
FIGURE_STATE = """root => {
  const layout = Array.from(root.querySelectorAll('.adamedu-layout'))
      .find(l => getComputedStyle(l).display !== 'none');
  const svg = layout.querySelector('svg.adamedu-plot');
  const bg = Array.from(layout.querySelectorAll('g.adamedu-bg'))
      .filter(g => getComputedStyle(g).display !== 'none').map(g => g.dataset.bg);
  const tracks = Array.from(layout.querySelectorAll('path.adamedu-track')).map(p => p.getAttribute('d'));
  let digest = 0;
  for (const ch of tracks.join('|')) { digest = (digest * 31 + ch.charCodeAt(0)) % 1000000007; }
  return {layout: layout.classList.contains('adamedu-narrow') ? 'narrow' : 'wide', bg: bg,
          tracks: tracks, digest: digest, label: svg.getAttribute('aria-label'),
          width: svg.getBoundingClientRect().width,
          readout: (root.querySelector('.adamedu-readout') || {}).textContent || ''};
}"""

# The smallest text of the visible layout in CSS pixels: digits of DejaVu Sans are 0.729 em high.
SMALLEST_TEXT = """root => {
  const layout = Array.from(root.querySelectorAll('.adamedu-layout'))
      .find(l => getComputedStyle(l).display !== 'none');
  const sizes = Array.from(layout.querySelectorAll('use'))
      .filter(u => /DejaVuSans-3[0-9]$/.test(u.getAttribute('xlink:href') || u.getAttribute('href') || ''))
      .map(u => u.getBoundingClientRect().height / 0.729).filter(h => h > 0);
  return Math.min(...sizes);
}"""

# The colour the page paints a figure's text with (the fill a glyph inherits).
TEXT_COLOR = """root => {
  const layout = Array.from(root.querySelectorAll('.adamedu-layout'))
      .find(l => getComputedStyle(l).display !== 'none');
  const use = Array.from(layout.querySelectorAll('use'))
      .find(u => /DejaVuSans-/.test(u.getAttribute('xlink:href') || ''));
  const rgb = getComputedStyle(use).fill.match(/[0-9.]+/g).map(Number);
  return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
}"""


def move(control):
    """Move a control as a reader would: a key on a slider, a click on a box, a new option."""
    assert control.is_enabled(), "the page script did not enable the control"
    kind = control.evaluate("e => e.tagName === 'SELECT' ? 'select' : e.type")
    if kind == "select":  # the next option (the first after the last)
        count = control.evaluate("e => e.options.length")
        control.select_option(str((int(control.input_value()) + 1) % count))
    elif kind == "checkbox":
        control.click()
    else:
        before = control.input_value()
        control.focus()
        control.press("End" if before == "0" else "Home")
        assert control.input_value() != before
    return kind


@pytest.fixture(scope="module")
def built_page(tmp_path_factory):
    """A one-page book with two figures, built by Jupyter Book with the book's configuration."""
    src = tmp_path_factory.mktemp("widget-page")
    page = src / "figures.md"
    page.write_text(PAGE_HEADER + "Two figures.\n\n```{code-cell} ipython3\n"
                    "from adamedu.widgets import direction_figure, race_figure\n"
                    "direction_figure()\n```\n\nThe race.\n\n```{code-cell} ipython3\n"
                    "race_figure()\n```\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("widget-page-build")  # outside the source folder
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(page), "--config", str(ROOT / "_config.yml"), "--path-output", str(out),
           "-W", "-n", "--keep-going"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    html = out / "_build" / "_page" / "figures" / "html" / "figures.html"
    assert result.returncode == 0 and html.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    return html


def test_built_page_sliders_change_the_figures_offline(browser, built_page):
    text = built_page.read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" not in text
    assert "require.js" not in text and "embed-amd" not in text
    # what each figure shows without a script: the lines of its wide layout in the page's HTML
    served = [re.findall(r'data-part="\w+" d="([^"]*)"', chunk.split("adamedu-layout adamedu-narrow")[0])
              for chunk in text.split('class="adamedu-layout adamedu-wide"')[1:]]
    p = Page(browser, built_page.as_uri())
    try:
        body = p.page.inner_text("body")
        assert "Error displaying widget" not in body and "<function" not in body
        figs = p.page.locator(".adamedu-interactive")
        assert figs.count() == 2
        for i in range(2):
            fig = figs.nth(i)
            fig.scroll_into_view_if_needed()
            state_before = fig.evaluate(FIGURE_STATE)
            assert state_before["label"] and state_before["layout"] == "wide"
            # the default frame is in the page itself: the script changed nothing at load
            assert state_before["tracks"] == served[i] and served[i]
            shot_before = fig.screenshot()
            move(fig.locator("input[type=range]").first)
            state_after = fig.evaluate(FIGURE_STATE)
            assert state_after["digest"] != state_before["digest"]
            assert state_after["label"] != state_before["label"]
            assert fig.screenshot() != shot_before
        # the drop-down of the race switches the test function: another background
        race = figs.nth(1)
        bg = race.evaluate(FIGURE_STATE)["bg"]
        race.locator("select").select_option("1")
        assert race.evaluate(FIGURE_STATE)["bg"] != bg
        # no widget manager, require.js or CDN script is fetched (the site's own offline policy
        # for every other request is checked by the site-wide browser tests)
        assert not [u for u in p.network if any(k in u for k in ("jsdelivr", "unpkg", "require",
                                                                  "widget", "embed"))]
        assert p.errors == []
    finally:
        p.close()


@pytest.mark.parametrize("theme, dark", [("light", False), ("dark", True)])
def test_built_page_figures_follow_the_theme_and_stack_on_a_phone(browser, built_page, theme, dark):
    for width, layout, smallest in ((1366, "wide", 9.5), (390, "narrow", 11.0)):
        p = Page(browser, built_page.as_uri(), width=width, theme=theme)
        try:
            for i in range(2):
                fig = p.page.locator(".adamedu-interactive").nth(i)
                fig.scroll_into_view_if_needed()
                state = fig.evaluate(FIGURE_STATE)
                assert state["layout"] == layout
                assert state["width"] <= width
                # labels a reader can read: at least 11 px on a phone
                assert fig.evaluate(SMALLEST_TEXT) >= smallest
                lightness = fig.evaluate(TEXT_COLOR)
                assert (lightness > 0.6) if dark else (lightness < 0.3)
            assert p.errors == []
        finally:
            p.close()


@pytest.mark.parametrize("name", list(widgets.FACTORIES))
def test_every_static_control_of_every_figure_redraws(browser, tmp_path, name):
    fig = widgets.FACTORIES[name]()
    page = tmp_path / f"{name}.html"
    page.write_text(SITE.standalone_page(SITE.figure_html(fig.export())), encoding="utf-8")
    p = Page(browser, page.as_uri())
    try:
        root = p.page.locator(".adamedu-figure")
        controls = root.locator("[data-control]")
        assert controls.count() == sum(1 for c in fig.controls if c.static)
        last = root.evaluate(FIGURE_STATE)
        for i in range(controls.count()):
            control = controls.nth(i)
            label = p.page.locator(f"label[for='{control.get_attribute('id')}']")
            assert label.count() == 1 and label.inner_text().strip()
            kind = move(control)
            state = root.evaluate(FIGURE_STATE)
            assert (state["digest"], state["bg"]) != (last["digest"], last["bg"]), \
                f"moving control {i} of {name} left the figure unchanged"
            assert state["label"] != last["label"]
            if kind == "range":  # the value is shown next to the slider and given to screen readers
                output = p.page.locator(f"output[for='{control.get_attribute('id')}']").inner_text()
                assert output.strip() and control.get_attribute("aria-valuetext") == output.strip()
            last = state
        assert p.network == [] and p.errors == []
    finally:
        p.close()
