"""The chapters as students run them: a real JupyterLab in the system's Chromium.

A JupyterLab server (the book's environment, the Binder configuration of ``postBuild``) serves a
copy of ``chapters/`` and the notebooks the site offers for download. For every chapter:

* its MyST source, opened by the address Binder's launch button uses (``lab/tree/<chapter>.md``),
  opens as a notebook through jupytext, runs top to bottom in a fresh kernel with *Run All*
  without an error, and every formula of its cells and outputs is typeset by JupyterLab's
  MathJax: no TeX error, no unknown control sequence, no raw TeX left in the text;
* its downloaded ``.ipynb`` opens with the same result, and its first cell is the set-up cell;
* where it has interactive figures, they are live ipywidgets: moving a slider with the keyboard
  repaints the figure.

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
from chapter_notebooks import ROOT, _site_extension, chapters, download_notebook

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
        # Binder's postBuild: open the MyST chapters as notebooks.
        post_build = (ROOT / "postBuild").read_text("utf-8")
        for line in post_build.splitlines():
            if line.strip() and not line.lstrip().startswith(("#", "set ")):
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

    def shut_down_kernels(self):
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def url(self, path: str) -> str:
        return f"{self.base}/lab/tree/{path}?reset&token={self.token}"

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


#: Runs in the page: the state of the notebook in the main area.
NOTEBOOK_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.widgets) return null;
  const cells = panel.content.widgets.map(cell => {
    const model = cell.model;
    const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
    return {type: model.type, count: model.type === 'code' ? model.executionCount : null,
            source: model.sharedModel.getSource().slice(0, 200),
            errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)};
  });
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {path: panel.context.path, factory: panel.context.factoryName || null,
          kernel: kernel ? kernel.status : null, cells: cells};
}"""

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
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(lab.url(path))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.content "
                           "&& window.jupyterapp.shell.currentWidget.content.widgets", timeout=90_000)
    page.wait_for_function("() => { const p = window.jupyterapp.shell.currentWidget; "
                           "return p.sessionContext.session && p.sessionContext.session.kernel "
                           "&& p.sessionContext.session.kernel.status === 'idle'; }", timeout=90_000)
    return page, errors


def _run_all(page) -> dict:
    """Run All, then wait until every code cell has run or one failed; the final state."""
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        state = page.evaluate(NOTEBOOK_STATE)
        code = [c for c in state["cells"] if c["type"] == "code"]
        failed = any(c["errors"] for c in code)
        done = all(c["count"] for c in code) and state["kernel"] == "idle"
        if failed or done:
            return state
        if time.monotonic() > deadline:
            pending = [c["source"][:80] for c in code if not c["count"]][:3]
            raise AssertionError(f"{state['path']}: not finished after {RUN_TIMEOUT_S} s; waiting on {pending}")
        time.sleep(1.0)


def _check_run(state: dict, label: str):
    code = [c for c in state["cells"] if c["type"] == "code"]
    errors = [(c["source"][:120], c["errors"]) for c in code if c["errors"]]
    assert errors == [], f"{label}: a cell failed in JupyterLab: {errors}"
    counts = [c["count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{label}: cells did not run in order: {counts}"


def _check_math(page, label: str) -> dict:
    page.wait_for_timeout(500)
    math = page.evaluate(MATH_STATE)
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
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))


def _has_live_figure(docname: str) -> bool:
    return bool(re.search(r"_figure\(", (ROOT / f"{docname}.md").read_text("utf-8")))


def test_the_maths_checks_see_what_a_student_would_see(browser, lab):
    page, _ = _open(browser, lab, "probe.ipynb")
    try:
        page.wait_for_timeout(1000)
        math = page.evaluate(MATH_STATE)
        assert math["typeset"] >= 2, math
        assert "\\mhat" in math["unknown"], math
        assert len(math["errors"]) == 1, math
        assert math["raw"] == ["$\\frac{1}{2$", "\\alpha"], math
        with pytest.raises(AssertionError, match="TeX errors"):
            _check_math(page, "probe")
    finally:
        page.close()
        lab.shut_down_kernels()


@pytest.mark.parametrize("docname", CHAPTERS)
def test_source_runs_in_jupyterlab_as_binder_opens_it(browser, lab, docname):
    page, page_errors = _open(browser, lab, f"{docname}.md")
    try:
        state = page.evaluate(NOTEBOOK_STATE)
        assert state["path"] == f"{docname}.md"
        assert page.locator(".jp-NotebookPanel .jp-Notebook").count() == 1, \
            f"{docname}.md did not open as a notebook (jupytext, postBuild)"
        state = _run_all(page)
        _check_run(state, f"{docname}.md")
        math = _check_math(page, f"{docname}.md")
        if "$" in (ROOT / f"{docname}.md").read_text("utf-8"):
            assert math["typeset"] > 0, f"{docname}.md: no formula typeset"
        figures = _check_live_figures(page, f"{docname}.md")
        assert (figures > 0) == _has_live_figure(docname), f"{docname}.md: {figures} live figures"
        _screenshot(page, f"source-{docname.replace('/', '__')}")
    finally:
        page.close()
        lab.shut_down_kernels()


@pytest.mark.parametrize("docname", CHAPTERS)
def test_downloaded_notebook_opens_typeset_in_jupyterlab(browser, lab, docname):
    """As downloaded (with the build's outputs): the set-up cell first, every formula typeset."""
    name = docname.replace("/", "__")
    page, _ = _open(browser, lab, f"downloads/{docname}.ipynb")
    try:
        state = page.evaluate(NOTEBOOK_STATE)
        first = state["cells"][0]
        assert first["type"] == "code" and first["source"].startswith("# Set-up"), first
        _check_math(page, f"{docname}.ipynb")
        _screenshot(page, f"download-{name}")
    finally:
        page.close()
        lab.shut_down_kernels()


#: Downloaded notebooks also run top to bottom in JupyterLab (the other chapters' downloads run in
#: a fresh kernel in test_notebooks.py; their code is the sources' code after the set-up cell).
RUN_DOWNLOADS = [d for d in CHAPTERS if _has_live_figure(d)][:2]


@pytest.mark.parametrize("docname", RUN_DOWNLOADS)
def test_downloaded_notebook_runs_with_live_figures_in_jupyterlab(browser, lab, docname):
    name = docname.replace("/", "__")
    page, _ = _open(browser, lab, f"downloads/{docname}.ipynb")
    try:
        state = _run_all(page)
        _check_run(state, f"{docname}.ipynb")
        _check_math(page, f"{docname}.ipynb")
        assert _check_live_figures(page, f"{docname}.ipynb") > 0
        _screenshot(page, f"download-run-{name}")
    finally:
        page.close()
        lab.shut_down_kernels()
