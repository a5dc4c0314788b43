"""Fixtures for the browser tests of the built site (the machinery is in ``sitecheck.py``)."""

from __future__ import annotations

import pytest
from sitecheck import FILE_NAME, SERIOUS, Site, chromium_path, site_dir, why_skip


# Module scope: Playwright's sync API allows one running instance per thread, so the browser is
# shut down when the page tests end and other browser tests can start their own.
@pytest.fixture(scope="module")
def site(request):
    reason = why_skip()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    served = Site(site_dir(), chromium_path())
    yield served
    request.config.adamedu_summary.extend(summary_lines(served))  # printed at the end of the run
    served.close()


def summary_lines(site: Site) -> list[str]:
    """The site's numbers, as in the table of the issue that asked for them."""
    lines = [f"site: {len({page for page, _ in site.reports})} pages read with axe-core {site.axe_version()}"]
    for viewport in ("desktop", "phone"):
        reports = [r for (_, v), r in site.reports.items() if v == viewport]
        if not reports:
            continue
        nav_ok = sum(
            1 for r in reports
            if all(c["opened"] for clicks in r.navigation.values() for c in clicks)
            and r.navigation.get("primary")
        )
        wider = sum(1 for r in reports if r.layout["page_width"] > r.layout["viewport_width"])
        equations = [e for r in reports for e in r.layout["equations"]]
        too_wide = sum(1 for e in equations if e["overflows"])
        clipped = sum(1 for e in equations if (e["overflows"] and not e["scrolls"]) or not e["inside_column"])
        figures = [i for r in reports for i in r.images if i["figure"] and i["visible"]]
        blurry = sum(1 for i in figures if i["natural_width"] < 2 * i["shown_width"] - 1)
        asserts = sum(len(r.layout["visible_asserts"]) for r in reports)
        serious = {
            mode: sum(1 for r in reports for v in r.violations.get(mode, []) if v["impact"] in SERIOUS)
            for mode in ("light", "dark")
        }
        dark = sum(1 for r in reports if r.dark_mode)
        lines.append(
            f"  {viewport}: navigation and contents buttons open their panels on {nav_ok} of "
            f"{len(reports)} pages; {wider} pages wider than the screen; {too_wide} of "
            f"{len(equations)} display equations wider than their column ({clipped} clipped); "
            f"{blurry} of {len(figures)} figure images below 2x; {asserts} visible lines of assert; "
            f"serious/critical axe violations: {serious['light']} light, {serious['dark']} dark "
            f"({dark} pages switched to dark)"
        )
    unnamed = sum(
        1 for r in site.reports.values() for img in r.images
        if not (img["alt"] or "").strip() or FILE_NAME.search(img["alt"] or "")
    )
    lines.append(
        f"  {sum(len(r.third_party) for r in site.reports.values())} third-party requests, "
        f"{sum(len(r.console_errors) for r in site.reports.values())} console errors, "
        f"{unnamed} images without alt text, "
        f"{sum(len(r.sliders) for r in site.reports.values())} sliders moved"
    )
    return lines
