"""Fixtures for the browser tests of the built site (the machinery is in ``sitecheck.py``)."""

from __future__ import annotations

import pytest
from sitecheck import FILE_NAME, SERIOUS, Site, _axe_source, chromium_path, site_dir, why_skip


# Module scope: Playwright's sync API allows one running instance per thread, so the browser is
# shut down when the page tests end and other browser tests can start their own.
@pytest.fixture(scope="module")
def site():
    reason = why_skip()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    try:
        _axe_source()
    except ImportError:
        pytest.skip("browser tests skipped: axe-playwright-python (axe-core) is not installed")
    served = Site(site_dir(), chromium_path())
    yield served
    _SUMMARY.update(
        pages=len(served.reports),
        third_party=sum(len(r.third_party) for r in served.reports.values()),
        console_errors=sum(len(r.console_errors) for r in served.reports.values()),
        violations=sum(
            1 for r in served.reports.values() for v in r.violations if v["impact"] in SERIOUS
        ),
        sliders=sum(len(r.sliders) for r in served.reports.values()),
        math=sum(r.math.get("containers", 0) for r in served.reports.values()),
        images=sum(len(r.images) for r in served.reports.values()),
        unnamed=sum(
            1
            for r in served.reports.values()
            for img in r.images
            if not (img["alt"] or "").strip() or FILE_NAME.search(img["alt"] or "")
        ),
    )
    served.close()


_SUMMARY: dict = {}


def pytest_terminal_summary(terminalreporter):
    if _SUMMARY:
        s = _SUMMARY
        terminalreporter.write_line(
            f"site: {s['pages']} pages, {s['third_party']} third-party requests, "
            f"{s['console_errors']} console errors, {s['violations']} serious/critical "
            f"accessibility violations, {s['unnamed']} images without alt text "
            f"({s['math']} formulas, {s['images']} images, "
            f"{s['sliders']} sliders checked)"
        )
