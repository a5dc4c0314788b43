"""Test-suite settings shared by every test module."""

from hypothesis import settings

# Property tests draw their examples from a fixed seed, so every run of the suite (and of CI)
# tests the same cases and a failure always reproduces.
settings.register_profile("adamedu", derandomize=True, print_blob=True)
settings.load_profile("adamedu")


# --- the fast tier -----------------------------------------------------------------------------
# `pytest -m fast` runs the tests of the package itself: the test modules that mirror a module of
# adamedu (tests/test_trace.py for adamedu/trace.py, tests/test_theory_*.py for adamedu/theory.py,
# tests/optim/ for adamedu/optim/), except browser tests and tests marked `slow`. No book build,
# no notebook, no browser: it takes under a minute on two cores, for running after every change.
# Plain `pytest` runs everything.

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

_TESTS = Path(__file__).resolve().parent
_PACKAGE = _TESTS.parent / "adamedu"
_PACKAGE_MODULES = {p.stem for p in _PACKAGE.glob("*.py")} | {
    p.parent.name for p in _PACKAGE.glob("*/__init__.py")
}


def _mirrors_a_package_module(test_file: Path) -> bool:
    """Whether ``test_file`` tests one module of adamedu (and is no browser test)."""
    try:
        parts = test_file.resolve().relative_to(_TESTS).parts
    except ValueError:
        return False
    if not test_file.name.startswith("test_") or "browser" in test_file.stem:
        return False
    if len(parts) > 1:  # tests/<module>/test_*.py
        return parts[0] in _PACKAGE_MODULES
    stem = test_file.stem.removeprefix("test_")
    return any(stem == module or stem.startswith(module + "_") for module in _PACKAGE_MODULES)


def pytest_configure(config):
    config.addinivalue_line("markers", "fast: a test of the package alone (selected by `pytest -m fast`)")
    config.addinivalue_line("markers", "slow: a package test too slow for the fast tier")
    config.adamedu_summary = []  # see pytest_terminal_summary below


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _mirrors_a_package_module(Path(str(item.fspath))) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)
    _order_groups_first(items)


def pytest_ignore_collect(collection_path, config):
    # With `-m fast`, the book-level test modules are not even imported (they read every chapter).
    if config.getoption("markexpr", "") == "fast" and collection_path.name.startswith("test_") \
            and collection_path.suffix == ".py":
        return not _mirrors_a_package_module(Path(collection_path))
    return None


# --- running on every core ---------------------------------------------------------------------
# pyproject.toml runs the suite with pytest-xdist on every core (`-n auto`). The costly test
# modules share one expensive fixture each (a browser reading the whole site, the chapters
# executed once more, a JupyterLab server) or write the same files (the assignments built into
# _build/assignments): the scheduler below sends each such group to one worker, so the fixture is
# made once and the files are never written twice at the same time. Groups start first, longest
# first; the many small tests fill in around them. (xdist's own `--dist loadgroup` renames node
# ids, which pytest 9.2 no longer allows: the groups silently fall apart. A scheduler that reads
# the module from the node id needs no renaming.)
GROUPS = {  # test module -> group, in the order the groups start
    "test_jupyterlab_browser.py": "jupyterlab",
    "test_site_pages.py": "site",
    "test_assignments.py": "assignments",
    "test_grade_class.py": "assignments",
    "test_notebooks.py": "chapters",
    "test_reproducible_build.py": "chapters",
    "test_notebook_math.py": "chapters",
}
_GROUP_ORDER = list(dict.fromkeys(GROUPS.values()))


def group_of(nodeid: str) -> str | None:
    """The group of a test, from its node id (``tests/browser/test_site_pages.py::...``)."""
    return GROUPS.get(nodeid.split("::", 1)[0].rsplit("/", 1)[-1])


def _order_groups_first(items) -> None:
    rank = {group: k for k, group in enumerate(_GROUP_ORDER)}
    items.sort(key=lambda item: rank.get(group_of(item.nodeid), len(rank)))  # stable: modules stay whole


def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """xdist's scope scheduling with a scope per group, and one per test outside the groups."""

        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid) or nodeid

    return GroupScheduling(config, log)


# Lines a fixture wants printed at the end of the run (the site's numbers, see
# tests/browser/conftest.py): collected on each worker, passed to the controller, printed once.
def pytest_sessionfinish(session):
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["adamedu_summary"] = list(session.config.adamedu_summary)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    node.config.adamedu_summary.extend(getattr(node, "workeroutput", {}).get("adamedu_summary", []))


def pytest_terminal_summary(terminalreporter):
    for line in terminalreporter.config.adamedu_summary:
        terminalreporter.write_line(line)
