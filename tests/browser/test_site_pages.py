"""Every page of the built site, read by Chromium with the network cut.

Each page must: make no request outside the site, log no console error, have all its math
typeset by the site's own MathJax, load every image and describe it (alt text), have every
slider drive its figure, and have no serious or critical axe-core accessibility violation.
"""

from __future__ import annotations

import pytest
from sitecheck import FILE_NAME, SERIOUS, site_pages, why_skip

PAGES = site_pages() or ["(site not built)"]
pytestmark = pytest.mark.skipif(why_skip() is not None, reason=f"browser tests skipped: {why_skip()}")


@pytest.mark.parametrize("page", PAGES)
def test_no_third_party_request(site, page):
    report = site.report(page)
    assert report.third_party == [], f"{page} requested third-party URLs: {report.third_party}"
    assert report.failed_local == [], f"{page} requested missing site files: {report.failed_local}"


@pytest.mark.parametrize("page", PAGES)
def test_no_console_error(site, page):
    report = site.report(page)
    assert report.console_errors == [], f"{page}: {report.console_errors}"


@pytest.mark.parametrize("page", PAGES)
def test_math_rendered_by_local_mathjax(site, page):
    math = site.report(page).math
    if math["math_nodes"] or math["containers"]:
        assert math["mathjax_loaded"], f"{page} has math but MathJax did not load"
        assert str(math["mathjax_version"]).startswith("3."), math["mathjax_version"]
    assert math["unrendered"] == [], f"{page}: math left untypeset: {math['unrendered']}"
    assert math["raw"] == [], f"{page}: raw TeX delimiters left in the text: {math['raw']}"
    assert math["errors"] == [], f"{page}: MathJax errors (unknown macro?): {math['errors']}"
    assert math["containers"] >= math["math_nodes"]


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads(site, page):
    broken = [img["src"] for img in site.report(page).images if img["natural_width"] <= 0]
    assert broken == [], f"{page}: images that did not load: {broken}"


@pytest.mark.parametrize("page", PAGES)
def test_every_slider_drives_its_figure(site, page):
    dead = [s for s in site.report(page).sliders if not s["changed"]]
    assert dead == [], f"{page}: sliders that change no image or canvas of their figure: {dead}"


@pytest.mark.parametrize("page", PAGES)
def test_no_serious_accessibility_violation(site, page):
    bad = [v for v in site.report(page).violations if v["impact"] in SERIOUS]
    assert bad == [], f"{page}: axe-core violations: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in bad
    )


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_has_alt_text(site, page):
    """A figure's alt text describes it; the file name the build puts there by default does not.

    For a figure made by a code cell, give the text in the cell's metadata::

        ```{code-cell} ipython3
        ---
        mystnb:
          image:
            alt: The loss of Adam and of SGD over 500 steps; Adam reaches 1e-6 first.
        ---
        ```
    """
    unnamed = [
        img["src"][-40:]
        for img in site.report(page).images
        if not (img["alt"] or "").strip() or FILE_NAME.search(img["alt"] or "")
    ]
    assert unnamed == [], f"{page}: images without a description (alt text): {unnamed}"
