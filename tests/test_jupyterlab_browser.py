"""The chapters as students run them: a real JupyterLab in the system's Chromium.

A JupyterLab server (the book's environment, the Binder configuration of ``postBuild``) serves a
copy of ``chapters/`` and the notebooks the site offers for download. For every chapter:

* its MyST source, opened by the address Binder's launch button uses (``lab/tree/<chapter>.md``),
  opens as a notebook through jupytext, runs top to bottom in a fresh kernel with *Run All*
  without an error, and every formula of its cells and outputs is typeset by JupyterLab's
  MathJax: no TeX error, no unknown control sequence, no raw TeX left in the text;
* where it has interactive figures, they are live ipywidgets: moving a slider with the keyboard
  repaints the figure;
* its downloaded ``.ipynb`` opens with the set-up cell first and every formula typeset (the
  build's outputs included), and the first two with live figures also run as above.

Two notebooks run at once, each in its own page and kernel.

Drives ``/usr/bin/chromium`` (``ADAMEDU_CHROMIUM`` to use another) with Playwright and never
downloads a browser; skipped, with the reason, where Chromium, Playwright or JupyterLab is
missing. ``ADAMEDU_LAB_SCREENSHOTS=DIR`` saves a screenshot of every notebook after its run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chapter_notebooks import ROOT, chapters, download_notebook

CHROMIUM = os.environ.get("ADAMEDU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = os.environ.get("ADAMEDU_LAB_SCREENSHOTS")
#: Longest a chapter may take to run top to bottom (the slowest takes about a minute alone).
RUN_TIMEOUT_S = 420

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: the JupyterLab tests are skipped")
if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium): the JupyterLab tests are "
                "skipped", allow_module_level=True)
for _module in ("jupyterlab", "jupytext"):
    pytest.importorskip(_module, reason=f"{_module} is not installed: the JupyterLab tests are skipped")

CHAPTERS = chapters()
#: A notebook with the faults the maths checks must see: an unknown macro, a TeX error, and
#: TeX left as text.
PROBE = {
    "cells": [{"cell_type": "markdown", "id": "probe", "metadata": {},
               "source": "An unknown macro $\\mhat_t$, a TeX error $x^^2$, an unclosed brace "
                         "$\\frac{1}{2$ and TeX outside a formula: \\\\alpha."}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on the loopback interface, configured as Binder's postBuild does."""

    def __init__(self, home: Path):
        self.root = home / "root"
        shutil.copytree(ROOT / "chapters", self.root / "chapters")
        downloads = self.root / "downloads"
        downloads.mkdir()
        for docname in CHAPTERS:
            target = downloads / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(download_notebook(docname)), "utf-8")
        (self.root / "probe.ipynb").write_text(json.dumps(PROBE), "utf-8")
        self.env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"),
                        JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                        JUPYTER_PLATFORM_DIRS="1", IPYTHONDIR=str(home / "ipython"))
        self.env.pop("ADAMEDU_FIGURES", None)  # the figures decide as they do for a student
        # Binder's postBuild: open the MyST chapters as notebooks. Its other line builds the
        # assignments' notebooks, files no chapter uses (tests/test_assignments.py covers them).
        post_build = (ROOT / "postBuild").read_text("utf-8")
        for line in post_build.splitlines():
            if line.strip() and not line.lstrip().startswith(("#", "set ", "python chapters/assignments/build.py")):
                subprocess.run(line, shell=True, check=True, env=self._with_venv_path(), cwd=self.root,
                               capture_output=True)
        # The test's own settings: every cell rendered (no windowing, so every formula is in the
        # page), and no autosave (the copy is thrown away anyway).
        overrides_file = home / "config" / "labconfig" / "default_setting_overrides.json"
        overrides = json.loads(overrides_file.read_text("utf-8")) if overrides_file.is_file() else {}
        overrides.setdefault("@jupyterlab/notebook-extension:tracker", {})["windowingMode"] = "none"
        overrides.setdefault("@jupyterlab/docmanager-extension:plugin", {})["autosave"] = False
        overrides.setdefault("@jupyterlab/apputils-extension:notification", {})["fetchNews"] = "false"
        overrides_file.parent.mkdir(parents=True, exist_ok=True)
        overrides_file.write_text(json.dumps(overrides), "utf-8")
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(home / "lab.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
             f"--LabApp.user_settings_dir={home / 'settings'}",
             f"--LabApp.workspaces_dir={home / 'workspaces'}",
             "--ServerApp.open_browser=False", "--allow-root",  # CI runs as root
             # nothing from the network: no news, no update check, no extension catalogue
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly"],
            cwd=self.root, env=self._with_venv_path(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.api("status")
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("JupyterLab did not start:\n" + (home / "lab.log").read_text()[-3000:])
                time.sleep(0.5)

    def _with_venv_path(self) -> dict:
        env = dict(self.env)
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        return env

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self, path: str | None = None):
        """End the kernel of the notebook at ``path`` (of every notebook if None)."""
        for session in self.api("sessions"):
            if path is None or session.get("path") == path:
                self.api(f"sessions/{session['id']}", method="DELETE")

    def url(self, path: str) -> str:
        # A workspace of its own per notebook, so that two pages open at once never share one.
        workspace = re.sub(r"[^A-Za-z0-9]", "-", path)
        return f"{self.base}/lab/workspaces/{workspace}/tree/{path}?reset&token={self.token}"

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("jupyterlab"))
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser(lab):
    with sync_api.sync_playwright() as p:
        executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
        b = p.chromium.launch(executable_path=executable, args=ARGS)
        yield b
        b.close()


#: Runs in the page: the notebook in the main area (the current one, else the one open).
PANEL = """(() => { const shell = window.jupyterapp.shell; const current = shell.currentWidget;
  if (current && current.content && current.content.widgets) return current;
  return Array.from(shell.widgets('main')).find(w => w.content && w.content.widgets) || null; })()"""

#: Runs in the page: the state of the notebook in the main area.
NOTEBOOK_STATE = """() => {
  const panel = %s;
  if (!panel) return null;
  const cells = panel.content.widgets.map(cell => {
    const model = cell.model;
    const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
    return {type: model.type, count: model.type === 'code' ? model.executionCount : null,
            source: model.sharedModel.getSource().slice(0, 200),
            errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)};
  });
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {path: panel.context.path, kernel: kernel ? kernel.status : null, cells: cells};
}""" % PANEL

#: Runs in the page: what a reader sees of the maths of the notebook.
MATH_STATE = r"""() => {
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const typeset = notebook.querySelectorAll('mjx-container').length;
  const errors = [...notebook.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent);
  const unknown = [...notebook.querySelectorAll('mjx-container [style*="color: red"], mjx-container [mathcolor="red"]')]
      .map(e => e.textContent);
  const raw = [];
  for (const area of notebook.querySelectorAll('.jp-RenderedMarkdown, .jp-RenderedLatex')) {
    const copy = area.cloneNode(true);
    copy.querySelectorAll('mjx-container, code, pre, script, style, mjx-assistive-mml').forEach(e => e.remove());
    const text = copy.textContent;
    const m = text.match(/\\[A-Za-z]{2,}|\$[^$\s][^$]*\$/g);
    if (m) raw.push(...m.slice(0, 3));
  }
  return {typeset, errors, unknown, raw: raw.slice(0, 10)};
}"""


def _open(browser, lab, path):
    """A new page with JupyterLab showing ``path``, once its kernel is idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(lab.url(path))
    page.wait_for_function(f"() => window.jupyterapp && {PANEL} !== null", timeout=120_000)
    _wait_for_idle_kernel(page)
    return page


def _wait_for_idle_kernel(page):
    page.wait_for_function(f"() => {{ const p = {PANEL}; "
                           "return p && p.sessionContext.session && p.sessionContext.session.kernel "
                           "&& p.sessionContext.session.kernel.status === 'idle'; }", timeout=120_000)


def _check_run(state: dict, label: str):
    code = [c for c in state["cells"] if c["type"] == "code"]
    errors = [(c["source"][:120], c["errors"]) for c in code if c["errors"]]
    assert errors == [], f"{label}: a cell failed in JupyterLab: {errors}"
    counts = [c["count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{label}: cells did not run in order: {counts}"


def _check_math(page, label: str, settle_s: float = 20.0) -> dict:
    """The maths as a reader sees it, once MathJax has finished (it typesets asynchronously)."""
    deadline = time.monotonic() + settle_s
    last = None
    while True:
        page.wait_for_timeout(400)
        math = page.evaluate(MATH_STATE)
        clean = not (math["errors"] or math["unknown"] or math["raw"])
        if (clean and last is not None and math["typeset"] == last["typeset"]) or time.monotonic() > deadline:
            break
        last = math
    assert math["errors"] == [], f"{label}: TeX errors in JupyterLab: {math['errors'][:5]}"
    assert math["unknown"] == [], f"{label}: unknown control sequences in JupyterLab: {math['unknown'][:5]}"
    assert math["raw"] == [], f"{label}: TeX left as text in JupyterLab: {math['raw']}"
    return math


def _image_state(page, index: int) -> str:
    return page.evaluate("i => { const img = document.querySelectorAll('.jp-Notebook img.widget-image')[i];"
                         " return img ? img.getAttribute('src') : null; }", index)


def _check_live_figures(page, label: str) -> int:
    """Move the first slider of every live figure with the keyboard; its image must repaint."""
    figures = page.locator(".jp-Notebook .widget-vbox:has(img.widget-image)")
    count = figures.count()
    for i in range(count):
        figure = figures.nth(i)
        figure.scroll_into_view_if_needed()
        before = _image_state(page, i)
        assert before, f"{label}: live figure {i} shows no image"
        handle = figure.locator(".noUi-handle").first
        handle.focus()
        for _ in range(3):
            handle.press("ArrowRight")
        deadline = time.monotonic() + 60
        while _image_state(page, i) == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{label}: moving a slider of live figure {i} did not repaint it")
            page.wait_for_timeout(200)
    return count


def _screenshot(page, name: str):
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name.replace('/', '__')}.png"))


def _has_live_figure(docname: str) -> bool:
    return bool(re.search(r"_figure\(", (ROOT / f"{docname}.md").read_text("utf-8")))


def test_the_maths_checks_see_what_a_student_would_see(browser, lab):
    page = _open(browser, lab, "probe.ipynb")
    try:
        page.wait_for_timeout(1000)
        math = page.evaluate(MATH_STATE)
        assert math["typeset"] >= 2, math
        assert "\\mhat" in math["unknown"], math
        assert len(math["errors"]) == 1, math
        assert math["raw"] == ["$\\frac{1}{2$", "\\alpha"], math
        with pytest.raises(AssertionError, match="TeX errors"):
            _check_math(page, "probe", settle_s=2)
    finally:
        page.close()
        lab.shut_down_kernels("probe.ipynb")


# --- every chapter runs top to bottom ----------------------------------------------------------

#: Notebooks run at once, each in its own page and kernel (one per core).
PARALLEL = max(1, min(2, os.cpu_count() or 1))
#: Downloaded notebooks that also run in JupyterLab: the first two with live figures. (Every
#: download runs in a fresh kernel in test_notebooks.py; its code is the source's after the set-up
#: cell, and every source runs here.)
RUN_DOWNLOADS = [d for d in CHAPTERS if _has_live_figure(d)][:2]


class _Run:
    """A notebook opened in JupyterLab by its address, then *Run All*; checked when it ends."""

    def __init__(self, browser, lab, docname: str, path: str):
        self.docname, self.lab, self.path = docname, lab, path
        self.page = _open(browser, lab, path)
        state = self.page.evaluate(NOTEBOOK_STATE)
        assert state["path"] == path, state["path"]
        assert self.page.locator(".jp-NotebookPanel .jp-Notebook").count() == 1, \
            f"{path} did not open as a notebook"
        self.page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        self.deadline = time.monotonic() + RUN_TIMEOUT_S

    def finished(self) -> dict | None:
        state = self.page.evaluate(NOTEBOOK_STATE)
        code = [c for c in state["cells"] if c["type"] == "code"]
        if any(c["errors"] for c in code) or (all(c["count"] for c in code) and state["kernel"] == "idle"):
            return state
        if time.monotonic() > self.deadline:
            pending = [c["source"][:80] for c in code if not c["count"]][:3]
            raise AssertionError(f"{self.path}: not finished after {RUN_TIMEOUT_S} s; waiting on {pending}")
        return None

    def check(self, state: dict):
        _check_run(state, self.path)
        math = _check_math(self.page, self.path)
        if "$" in (ROOT / f"{self.docname}.md").read_text("utf-8"):
            assert math["typeset"] > 0, f"{self.path}: no formula typeset"
        figures = _check_live_figures(self.page, self.path)
        assert (figures > 0) == _has_live_figure(self.docname), f"{self.path}: {figures} live figures"
        _screenshot(self.page, "run-" + self.path)

    def close(self):
        self.page.close()
        self.lab.shut_down_kernels(self.path)


def _selected(request, test_name: str) -> list[str]:
    """The chapters whose ``test_name`` test this session runs (all, unless ``-k`` chose)."""
    chosen = {item.callspec.params["docname"] for item in request.session.items
              if getattr(item, "originalname", None) == test_name and hasattr(item, "callspec")}
    return [d for d in CHAPTERS if d in chosen]


@pytest.fixture(scope="module")
def runs(request, browser, lab):
    """Every chapter's source (and RUN_DOWNLOADS' downloads) run in JupyterLab, PARALLEL at a
    time: path -> None, or what went wrong."""
    jobs = [(d, f"{d}.md") for d in _selected(request, "test_source_runs_in_jupyterlab_as_binder_opens_it")]
    jobs += [(d, f"downloads/{d}.ipynb")
             for d in _selected(request, "test_downloaded_notebook_runs_with_live_figures_in_jupyterlab")]
    results: dict[str, str | None] = {}
    running: list[_Run] = []
    while jobs or running:
        while jobs and len(running) < PARALLEL:
            docname, path = jobs.pop(0)
            try:
                running.append(_Run(browser, lab, docname, path))
            except Exception as exc:  # reported by that notebook's test
                results[path] = f"{type(exc).__name__}: {exc}"
                lab.shut_down_kernels(path)
        for run in list(running):
            try:
                state = run.finished()
                if state is None:
                    continue
                run.check(state)
                results[run.path] = None
            except Exception as exc:
                results[run.path] = f"{type(exc).__name__}: {exc}"
            run.close()
            running.remove(run)
        time.sleep(0.5)
    return results


@pytest.mark.parametrize("docname", CHAPTERS)
def test_source_runs_in_jupyterlab_as_binder_opens_it(runs, docname):
    """``lab/tree/<chapter>.md`` (Binder's address) opens a notebook through jupytext, which runs
    top to bottom; its maths is typeset and its live figures repaint when a slider moves."""
    assert runs[f"{docname}.md"] is None, runs[f"{docname}.md"]


@pytest.mark.parametrize("docname", RUN_DOWNLOADS)
def test_downloaded_notebook_runs_with_live_figures_in_jupyterlab(runs, docname):
    assert runs[f"downloads/{docname}.ipynb"] is None, runs[f"downloads/{docname}.ipynb"]


# --- every download opens with its maths typeset -----------------------------------------------


@pytest.fixture(scope="module")
def download_views(request, browser, lab):
    """Every downloaded notebook opened, one after another in one JupyterLab page, as it comes
    from the site (the build's outputs included): path -> None, or what went wrong."""
    results: dict[str, str | None] = {}
    page = _open(browser, lab, "probe.ipynb")
    try:
        for docname in _selected(request, "test_downloaded_notebook_opens_typeset_in_jupyterlab"):
            path = f"downloads/{docname}.ipynb"
            try:
                page.evaluate("path => window.jupyterapp.commands.execute('docmanager:open', "
                              "{path: path, factory: 'Notebook'})", path)
                page.wait_for_function(f"path => {{ const w = {PANEL}; "
                                       "return w && w.context.path === path && w.content.widgets.length > 0; }",
                                       arg=path, timeout=60_000)
                _wait_for_idle_kernel(page)
                state = page.evaluate(NOTEBOOK_STATE)
                first = state["cells"][0]
                assert first["type"] == "code" and first["source"].startswith("# Set-up"), first
                _check_math(page, path)
                _screenshot(page, "open-" + path)
                results[path] = None
            except Exception as exc:
                results[path] = f"{type(exc).__name__}: {exc}"
            finally:
                # Close without asking to save (starting a kernel updates the notebook's metadata).
                page.evaluate("() => Array.from(window.jupyterapp.shell.widgets('main')).forEach(w => w.dispose())")
                lab.shut_down_kernels(path)
    finally:
        page.close()
        lab.shut_down_kernels()
    return results


@pytest.mark.parametrize("docname", CHAPTERS)
def test_downloaded_notebook_opens_typeset_in_jupyterlab(download_views, docname):
    """As downloaded (the build's outputs included): the set-up cell first, every formula typeset."""
    assert download_views[f"downloads/{docname}.ipynb"] is None, download_views[f"downloads/{docname}.ipynb"]
