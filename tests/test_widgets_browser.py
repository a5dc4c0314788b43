"""The interactive figures' static fallback in a real browser: moving a slider changes the figure.

Drives the system Chromium (``/usr/bin/chromium``; ``apt-get install chromium``) with Playwright
and never downloads a browser. Skipped, with the reason, where either is missing. Pages load from
``file://`` and every request to the network is refused and recorded: the figures must work
offline.

Two levels: a page built by Jupyter Book with the book's ``_config.yml`` (what readers get, so
the mime-priority settings are exercised too), and each figure's HTML on a bare page (every
factory, every static control).
"""

import os
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

    def __init__(self, browser, url):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.network, self.errors = [], []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def refuse(route):
            self.network.append(route.request.url)
            route.abort()

        self.page.route(lambda url: not url.startswith(("file:", "data:", "blob:")), refuse)
        self.page.goto(url)
        self.page.wait_for_load_state("load")

    def close(self):
        self.page.close()


def figure_state(fig):
    """The image source and a digest of the canvas pixels of one ``.adamedu-figure``."""
    return fig.evaluate("""root => {
        const c = root.querySelector('canvas');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0, sum = 0;
        for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { ink++; sum = (sum + i * data[i]) % 1000000007; } }
        return {src: root.querySelector('img').getAttribute('src').length + ':' +
                     root.querySelector('img').getAttribute('src').slice(-40),
                ink: ink, digest: sum, alt: root.querySelector('img').getAttribute('alt')};
    }""")


def move_first_slider(fig):
    slider = fig.locator("input[type=range]").first
    assert slider.is_enabled(), "the page script did not enable the slider"
    before_value = slider.input_value()
    slider.focus()
    slider.press("End" if before_value == "0" else "Home")
    assert slider.input_value() != before_value
    return slider


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
    p = Page(browser, built_page.as_uri())
    try:
        body = p.page.inner_text("body")
        assert "Error displaying widget" not in body and "<function" not in body
        figs = p.page.locator(".adamedu-figure")
        assert figs.count() == 2
        for i in range(2):
            fig = figs.nth(i)
            fig.scroll_into_view_if_needed()
            img = fig.locator("img")
            assert img.get_attribute("alt") and img.evaluate("i => i.complete && i.naturalWidth > 0")
            shot_before = fig.screenshot()
            state_before = figure_state(fig)
            assert state_before["ink"] == 0  # the default figure is the plain image
            move_first_slider(fig)
            state_after = figure_state(fig)
            assert state_after["ink"] > 0 and state_after["src"] != state_before["src"]
            assert state_after["alt"] != state_before["alt"]
            assert fig.screenshot() != shot_before
        # the drop-down of the race switches the test function: a new background image
        race = figs.nth(1)
        src = figure_state(race)["src"]
        race.locator("select").select_option("1")
        assert figure_state(race)["src"] != src
        # no widget manager, require.js or CDN script is fetched (the site's own offline policy
        # for every other request is checked by the site-wide browser tests)
        assert not [u for u in p.network if any(k in u for k in ("jsdelivr", "unpkg", "require",
                                                                  "widget", "embed"))]
        assert p.errors == []
    finally:
        p.close()


@pytest.mark.parametrize("name", list(widgets.FACTORIES))
def test_every_static_control_of_every_figure_redraws(browser, tmp_path, name):
    fig = widgets.FACTORIES[name]()
    page = tmp_path / f"{name}.html"
    page.write_text('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>figure'
                    f"</title></head><body>{fig.static_html()}</body></html>", encoding="utf-8")
    p = Page(browser, page.as_uri())
    try:
        root = p.page.locator(".adamedu-figure")
        controls = root.locator("[data-control]")
        assert controls.count() == sum(1 for c in fig.controls if c.static)
        last = figure_state(root)
        for i in range(controls.count()):
            control = controls.nth(i)
            label = p.page.locator(f"label[for='{control.get_attribute('id')}']")
            assert label.count() == 1 and label.inner_text().strip()
            is_range = control.evaluate("e => e.tagName") == "INPUT"
            if is_range:
                control.focus()
                control.press("End" if control.input_value() == "0" else "Home")
            else:
                control.select_option("1")
            state = figure_state(root)
            assert state["ink"] > 0
            assert (state["digest"], state["src"]) != (last["digest"], last["src"]), \
                f"moving control {i} of {name} left the figure unchanged"
            if is_range:  # the value is shown next to the slider and given to screen readers
                output = p.page.locator(f"output[for='{control.get_attribute('id')}']").inner_text()
                assert output.strip() and control.get_attribute("aria-valuetext") == output.strip()
            last = state
        assert p.network == [] and p.errors == []
    finally:
        p.close()
