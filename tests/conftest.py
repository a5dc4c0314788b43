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


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _mirrors_a_package_module(Path(str(item.fspath))) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)


def pytest_ignore_collect(collection_path, config):
    # With `-m fast`, the book-level test modules are not even imported (they read every chapter).
    if config.getoption("markexpr", "") == "fast" and collection_path.name.startswith("test_") \
            and collection_path.suffix == ".py":
        return not _mirrors_a_package_module(Path(collection_path))
    return None
