"""The book is built and tested in one locked environment, the same everywhere.

``requirements.txt`` applies ``constraints.txt``, which pins every package to one version; the
README's Quick start (and so CI), the Pages workflow and Binder all install ``requirements.txt``.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
THEMES = ("sphinx-book-theme", "pydata-sphinx-theme")


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~ ;\[@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-").replace(".", "-")


def _lines(path: Path) -> list[str]:
    return [line.split(" #")[0].strip() for line in path.read_text("utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in _lines(ROOT / "constraints.txt"):
        name, _, version = line.partition("==")
        assert version and re.fullmatch(r"[A-Za-z0-9.+!-]+", version), f"not an exact pin: {line}"
        assert _name(name) not in found, f"pinned twice: {name}"
        found[_name(name)] = version
    return found


def test_requirements_apply_the_lock():
    assert "-c constraints.txt" in _lines(ROOT / "requirements.txt")


def test_every_requirement_and_both_themes_are_pinned():
    locked = pins()
    wanted = [_name(line) for line in _lines(ROOT / "requirements.txt") if not line.startswith("-")]
    assert wanted, "requirements.txt names no package"
    assert [name for name in [*wanted, *THEMES] if name not in locked] == []


def test_installed_versions_are_the_locked_ones():
    """Run in the environment the Quick start makes: every installed pinned package matches."""
    mismatched, checked = [], 0
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # not needed on this platform or Python
        checked += 1
        if installed != version:
            mismatched.append(f"{name}: installed {installed}, locked {version}")
    assert mismatched == [], "the environment is not the locked one (pip install -r requirements.txt):\n" + \
        "\n".join(mismatched)
    assert checked >= len(_lines(ROOT / "requirements.txt")) - 3


def test_binder_and_the_pages_workflow_build_the_same_environment():
    runtime = (ROOT / "runtime.txt").read_text("utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime), runtime
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text("utf-8"))
    steps = workflow["jobs"]["book"]["steps"]
    text = yaml.safe_dump(steps)
    assert "runtime.txt" in text  # the workflow's Python is Binder's
    installs = [s["run"] for s in steps if "pip install" in str(s.get("run", "")) and "ghp-import" not in s["run"]]
    assert installs == ["python -m pip install -r requirements.txt"]
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache"))
    assert "constraints.txt" in cache["with"]["key"]  # outputs made with other versions are not reused
    post_build = ROOT / "postBuild"
    assert not re.search(r"\bpip\b.*install", post_build.read_text("utf-8"))  # only requirements.txt


def test_the_licence_is_mit():
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert text.startswith("MIT License") and "The adamedu authors" in text
