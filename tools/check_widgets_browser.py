"""Check the course's widgets as a student sees them: real JupyterLab, headless Chromium, a 1366-px window.

For every notebook (default: all of them, in one call) this script

1. starts ``jupyter lab`` once, on a copy of the notebooks (a temporary folder: no output is ever
   written into the repository), in fast mode (``STYLELAB_FAST=1 STYLELAB_OFFLINE=1``; ``--full``
   drops ``STYLELAB_FAST``: what a student runs);
2. opens each notebook in its own fresh JupyterLab workspace (``?reset``: the previous notebook is
   never reopened and never steals the focus), runs *Run All* without waiting on the command's
   promise (a long Run All is polled, never timed out by a driver), and shuts the kernel down after;
3. for each cell whose output is a widget, finds the explorer behind it in the kernel (through the
   widget's model id) and checks, in the browser:

   * **renders**: the widget shows at least one picture, every picture loaded;
   * **natural size**: every ``<img>`` is drawn at the PNG's own pixel size, and nothing scrolls
     sideways in the 1366-px window;
   * **controls = settings**: each visible control shows the value of the explorer's setting (what
     Run uses), before and after every change;
   * **every control moved**: each setting's control is changed the way a student would (an arrow
     key on the slider's handle, another option of a dropdown or toggle group, a click on a
     checkbox), greyed-out controls after the others (moving one may enable them), every stand-alone
     toggle button and action button (not Run) is clicked; Run is pressed for explorers that have
     one. After each move the kernel-side explorer must hold the new value and have rendered again,
     and the **pixels** of the pictures must change (each ``<img>`` drawn into a canvas and hashed:
     a new blob URL with the same picture does not count);
   * **no overlap**: no two visible leaf widgets overlap on screen, and no label, button or readout is cut
     short (its text wider than its box: "HH …");

4. saves a screenshot of each **whole** widget (the window is made as tall as the widget for the
   shot, so nothing is cut at the window's height) before and after the moves, under ``--out``
   (git-ignored ``widget-screenshots/`` by default), and prints one row per widget.

Needs only Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``): the browser is driven over its
DevTools protocol with ``websocket-client`` (installed with JupyterLab); no Selenium, no driver::

    PYTHONPATH=. .venv/bin/python tools/check_widgets_browser.py              # every notebook, fast mode
    PYTHONPATH=. .venv/bin/python tools/check_widgets_browser.py --full 07    # one notebook, full mode
    make browser-check                                                        # the same, skipped without Chromium

Exit status: 0 when every check passes, 1 when one fails, 2 when Chromium or websocket-client is missing.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FAST_ENV = {"STYLELAB_FAST": "1", "STYLELAB_OFFLINE": "1"}
WIDTH, HEIGHT = 1366, 900  # a laptop screen
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--force-device-scale-factor=1",
                "--remote-allow-origins=*", "--remote-debugging-port=0", f"--window-size={WIDTH},{HEIGHT}"]

# Run in the kernel once per notebook: find the explorer behind a widget's model id and describe its controls.
PROBE = r'''
def _stylelab_probe(model_id):
    import gc, json, warnings
    from ipywidgets.widgets.widget import _instances
    from stylelab.course.widgets.base import Explorer
    def ids(w, seen):
        if w is None or getattr(w, "model_id", None) in seen:
            return seen
        seen.add(w.model_id)
        for ch in getattr(w, "children", ()):
            ids(ch, seen)
        return seen
    def flat(c):
        for v in (c.values() if isinstance(c, dict) else c):
            yield from (flat(v) if isinstance(v, (dict, list, tuple)) else (v,))
    box = _instances.get(model_id)
    inside = ids(box, set()) if box is not None else set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = [o for o in gc.get_objects() if isinstance(o, Explorer) and o._c is not None
                 and any(getattr(w, "model_id", None) in inside for w in flat(o._c))]
    if len(found) != 1:
        print(json.dumps({"error": f"{len(found)} explorers behind widget {model_id}"}))
        return
    e = found[0]
    def plain(v):
        if isinstance(v, (set, frozenset)):
            return sorted(v)
        if isinstance(v, (bool, int, float, str)) or v is None:
            return v
        return repr(v)
    controls = {}
    for name in e.SETTINGS:
        c = e._c[name]
        controls[name] = {"description": c.description, "value": plain(c.value), "kind": type(c).__name__,
                          "visible": c.layout.display != "none", "disabled": bool(getattr(c, "disabled", False)),
                          "options": [str(o) for o in getattr(c, "options", ()) or ()],
                          "min": plain(getattr(c, "min", None)), "max": plain(getattr(c, "max", None))}
    run = e._c.get("run")
    print(json.dumps({"explorer": type(e).__name__, "live": e.LIVE, "runs": e.runs,
                      "settings": {k: plain(v) for k, v in e.settings().items()}, "controls": controls,
                      "run_button": None if run is None else run.description,
                      "status": str(e._c["status"].value)}))
'''

# JavaScript helpers (JupyterLab exposes the app as window.jupyterapp with --LabApp.expose_app_in_browser).
JS_HELPERS = r'''
window.__sl = window.__sl || {
  panel(path) {
    for (const w of window.jupyterapp.shell.widgets('main')) if (w.context && w.context.path === path) return w;
    return null;
  },
  async exec(path, code) {
    const kernel = this.panel(path).sessionContext.session.kernel;
    const fut = kernel.requestExecute({code, silent: false, store_history: false});
    let out = "";
    fut.onIOPub = (msg) => {
      if (msg.header.msg_type === "stream" && msg.content.name === "stdout") out += msg.content.text;
      if (msg.header.msg_type === "error") out += "ERROR " + msg.content.ename + ": " + msg.content.evalue;
    };
    await fut.done;
    return out;
  },
  state(path) {
    const p = this.panel(path);
    if (!p) return null;
    const cells = p.content.widgets;
    let pending = 0, errors = [], widgets = [];
    cells.forEach((cell, i) => {
      if (cell.model.type !== "code") return;
      const prompt = cell.node.querySelector(".jp-InputArea-prompt");
      if (cell.model.executionCount === null || (prompt && prompt.textContent.includes("*"))) pending += 1;
      cell.model.outputs.toJSON().forEach((o) => {
        if (o.output_type === "error") errors.push({cell: i, ename: o.ename, evalue: o.evalue});
        if (o.output_type === "stream" && o.name === "stderr") errors.push({cell: i, ename: "stderr", evalue: o.text});
        const d = o.data && o.data["application/vnd.jupyter.widget-view+json"];
        if (d) widgets.push({cell: i, model_id: d.model_id});
      });
    });
    const k = p.sessionContext.session && p.sessionContext.session.kernel;
    return {pending, errors, widgets, kernel: k ? k.status : "none", ncells: cells.length};
  },
  root(path, i) { return this.panel(path).content.widgets[i].node.querySelector(".jp-OutputArea"); },
  visible(el) { const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0 &&
                getComputedStyle(el).visibility !== "hidden"; },
  rect(el) { const b = el.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; },
  measure(path, i) {
    const root = this.root(path, i);
    const imgs = [...root.querySelectorAll("img")].filter((im) => this.visible(im)).map((im) => ({
      natural: [im.naturalWidth, im.naturalHeight], rect: this.rect(im)}));
    const leaves = [...root.querySelectorAll(".jupyter-widgets")]
      .filter((el) => this.visible(el) && !el.querySelector(".jupyter-widgets"))
      .map((el) => ({rect: this.rect(el), text: el.textContent.slice(0, 30)}));
    // a picture or control wider than its box makes it scroll sideways (the cell, or a column of controls)
    const scroll = [...root.querySelectorAll(".jp-OutputArea-output, .jupyter-widgets")]
      .filter((el) => el.classList.contains("jp-OutputArea-output") || ["auto", "scroll"].includes(getComputedStyle(el).overflowX))
      .map((el) => [el.scrollWidth, el.clientWidth]).filter(([s, c]) => c > 0 && s > c + 1);
    // a label or button cut short (CSS ellipsis: "HH …"): its text is wider than its box
    const cut = [...root.querySelectorAll("button, label, .widget-label, .widget-label-basic span, .widget-readout")]
      .filter((el) => this.visible(el) && el.scrollWidth > el.clientWidth + 1).map((el) => el.textContent.trim());
    return {imgs, leaves, scroll, cut, area: this.rect(root), text: root.textContent};
  },
  pixels(path, i) {
    // a hash of every picture's pixels (FNV-1a over the RGBA bytes), not of its URL
    const root = this.root(path, i);
    return [...root.querySelectorAll("img")].filter((im) => this.visible(im) && im.naturalWidth > 0).map((im) => {
      const c = document.createElement("canvas");
      c.width = im.naturalWidth; c.height = im.naturalHeight;
      const g = c.getContext("2d"); g.drawImage(im, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let h = 0x811c9dc5;
      for (let k = 0; k < d.length; k++) { h ^= d[k]; h = Math.imul(h, 0x01000193) >>> 0; }
      return c.width + "x" + c.height + ":" + h.toString(16);
    });
  },
  control(path, i, description) {
    const root = this.root(path, i);
    const labels = [...root.querySelectorAll("label, .widget-label, .widget-label-basic span")]
      .filter((el) => el.textContent.trim() === description);
    for (const lab of labels) {
      const el = lab.closest(".widget-slider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons, .widget-inline-hbox");
      if (el) return el;
    }
    return null;
  },
  read(path, i, description) {
    const el = this.control(path, i, description);
    if (!el) return {found: false};
    const sel = el.querySelector("select");
    if (sel) return {found: true, kind: "dropdown", shown: sel.options[sel.selectedIndex] ?
                     sel.options[sel.selectedIndex].textContent : null};
    const ro = el.querySelector(".widget-readout");
    if (ro) return {found: true, kind: "slider", shown: ro.textContent.trim()};
    const cb = el.querySelector("input[type=checkbox]");
    if (cb) return {found: true, kind: "checkbox", shown: cb.checked};
    if (el.classList.contains("widget-toggle-buttons")) {
      const act = el.querySelector("button.mod-active");
      return {found: true, kind: "toggle", shown: act ? act.textContent.trim() : null};
    }
    return {found: true, kind: "unknown", shown: el.textContent.trim()};
  },
  center(el) { el.scrollIntoView({block: "center"}); const b = el.getBoundingClientRect();
               return [b.left + b.width / 2, b.top + b.height / 2]; },
  // moves, as a student would make them; each returns what it did (or null)
  slide(path, i, description, left) {
    const el = this.control(path, i, description);
    const h = el && el.querySelector(".noUi-handle");
    if (!h) return null;
    h.scrollIntoView({block: "center"}); h.focus();
    return left ? "ArrowLeft" : "ArrowRight";
  },
  choose(path, i, description, option) {
    const el = this.control(path, i, description);
    const sel = el && el.querySelector("select");
    if (sel) {
      const o = [...sel.options].find((o) => o.textContent === option);
      if (!o) return null;
      sel.value = o.value; sel.dispatchEvent(new Event("change", {bubbles: true})); return option;
    }
    const b = el && [...el.querySelectorAll("button")].find((b) => b.textContent.trim() === option);
    if (!b) return null;
    b.scrollIntoView({block: "center"}); b.click(); return option;
  },
  tick(path, i, description) {
    const el = this.control(path, i, description);
    const cb = el && el.querySelector("input[type=checkbox]");
    if (!cb) return null;
    cb.scrollIntoView({block: "center"}); cb.click(); return cb.checked;
  },
  buttons(path, i) {
    // stand-alone toggle buttons and action buttons (not inside a toggle group), with their state
    const root = this.root(path, i);
    return [...root.querySelectorAll("button")].filter((b) => this.visible(b) && !b.closest(".widget-toggle-buttons"))
      .map((b, k) => ({k, text: b.textContent.trim(), toggle: b.classList.contains("widget-toggle-button"),
                       disabled: b.disabled}));
  },
  press(path, i, k) {
    const root = this.root(path, i);
    const b = [...root.querySelectorAll("button")].filter((b) => this.visible(b) && !b.closest(".widget-toggle-buttons"))[k];
    if (!b) return false;
    b.scrollIntoView({block: "center"}); b.click(); return true;
  },
};
true;
'''


# ----------------------------------------------------------------------------------------- the browser
class Chromium:
    """Headless Chromium driven over the DevTools protocol (one page, one websocket)."""

    def __init__(self, exe: str, profile: Path, log):
        import websocket  # websocket-client, a JupyterLab dependency

        self.proc = subprocess.Popen([exe, *CHROME_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdout=log, stderr=subprocess.STDOUT)
        port_file = profile / "DevToolsActivePort"
        t0 = time.time()
        while not port_file.exists() or not port_file.read_text().strip():
            if self.proc.poll() is not None or time.time() - t0 > 60:
                raise RuntimeError(f"Chromium did not start (exit {self.proc.poll()}); see {log.name}")
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        pages = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read())
        page = next(p for p in pages if p["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=600, suppress_origin=True)
        self.ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.resize(HEIGHT)

    def send(self, method: str, **params):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Page.javascriptDialogOpening":
                # JupyterLab asks "leave the page? (unsaved changes)" when the next notebook is opened: leave
                self.ws.send(json.dumps({"id": next(self.ids), "method": "Page.handleJavaScriptDialog",
                                         "params": {"accept": True}}))
                continue
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def resize(self, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=int(height), deviceScaleFactor=1,
                  mobile=False)

    def js(self, expr: str, timeout: float = 600):
        """Evaluate ``expr`` in the page (awaiting a promise) and return its JSON value."""
        self.send("Runtime.evaluate", expression=JS_HELPERS, returnByValue=True)
        r = self.send("Runtime.evaluate", expression=expr, awaitPromise=True, returnByValue=True,
                      timeout=int(timeout * 1000))
        if "exceptionDetails" in r:
            raise RuntimeError(f"JavaScript error in {expr[:80]!r}: {r['exceptionDetails'].get('text')} "
                               f"{r['exceptionDetails'].get('exception', {}).get('description', '')[:300]}")
        return r["result"].get("value")

    def key(self, key: str) -> None:
        codes = {"ArrowLeft": 37, "ArrowRight": 39}
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=codes[key])

    def goto(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def shot(self, path: str, i: int, out: Path) -> None:
        """A screenshot of the whole output of cell ``i``: the window is made taller than the widget first."""
        h = self.js(f"window.__sl.rect(window.__sl.root({json.dumps(path)}, {i}))[3]")
        self.resize(max(HEIGHT, int(h) + 160))
        time.sleep(0.4)
        x, y, w, hh = self.js(f"(() => {{ const r = window.__sl.root({json.dumps(path)}, {i}); "
                              "r.scrollIntoView({block: 'start'}); return window.__sl.rect(r); })()")
        time.sleep(0.3)
        x, y, w, hh = self.js(f"window.__sl.rect(window.__sl.root({json.dumps(path)}, {i}))")
        png = self.send("Page.captureScreenshot", format="png",
                        clip={"x": max(0, x), "y": max(0, y), "width": max(1, w), "height": max(1, hh), "scale": 1})
        out.write_bytes(base64.b64decode(png["data"]))
        self.resize(HEIGHT)
        time.sleep(0.3)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ----------------------------------------------------------------------------------------- JupyterLab
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(workdir: Path, port: int, token: str, full: bool, log) -> subprocess.Popen:
    settings = workdir / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell in the DOM (no windowing), so each widget can be measured
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = workdir / "lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # no "get notified about Jupyter news?" toast over the screenshots
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ, MPLBACKEND="module://matplotlib_inline.backend_inline",
               JUPYTERLAB_SETTINGS_DIR=str(workdir / "lab-settings"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    env.update(FAST_ENV)
    if full:
        env.pop("STYLELAB_FAST", None)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--notebook-dir={workdir / 'nb'}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
           f"--LabApp.workspaces_dir={workdir / 'workspaces'}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir / "nb")
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    for _ in range(240):
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer on port {port} within 120 s; see {log.name}")


def shutdown_kernels(base: str, token: str) -> None:
    """Delete every session (and its kernel) through the server's REST API: the next notebook starts alone."""
    sessions = json.loads(urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=30).read())
    for s in sessions:
        req = urllib.request.Request(f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(req, timeout=60).read()


def wait(cond, timeout: float, what: str, every: float = 0.5):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise TimeoutError(f"{what} (waited {timeout:.0f} s)")


def open_and_run(b: Chromium, base: str, token: str, name: str, n: int, timeout: float) -> dict:
    # a fresh workspace per notebook (reset): JupyterLab restores nothing, so this notebook is the only one
    b.goto(f"{base}/lab/workspaces/check{n}/tree/{name}?reset&token={token}")
    p = json.dumps(name)
    wait(lambda: b.js(f"(() => {{ const p = window.jupyterapp && window.__sl.panel({p}); return !!(p && "
                      "p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel && "
                      "p.sessionContext.session.kernel.status === 'idle' && p.content.widgets.length); })()"),
         180, f"{name}: notebook and kernel ready")
    t0 = time.time()
    # fire and poll: awaiting the command's promise would tie a long Run All to one call's timeout
    b.js(f"(() => {{ const app = window.jupyterapp; app.shell.activateById(window.__sl.panel({p}).id); "
         "void app.commands.execute('notebook:run-all-cells'); return true; })()")
    time.sleep(2)
    idle_since = None
    while True:
        st = b.js(f"window.__sl.state({p})")
        idle_since = (idle_since or time.time()) if st["kernel"] == "idle" else None
        if st["pending"] == 0 and st["kernel"] == "idle":
            break
        if any(e["ename"] != "stderr" for e in st["errors"]) and idle_since and time.time() - idle_since > 3:
            break  # Run All stops at an error
        if time.time() - t0 > timeout:
            raise TimeoutError(f"{name}: Run All not finished after {timeout:.0f} s ({st['pending']} cells left)")
        time.sleep(2)
    st["seconds"] = time.time() - t0
    return st


def probe(b: Chromium, name: str, model_id: str) -> dict:
    from websocket import WebSocketTimeoutException

    try:
        out = b.js(f"window.__sl.exec({json.dumps(name)}, {json.dumps(f'_stylelab_probe({model_id!r})')})")
    except (WebSocketTimeoutException, TimeoutError):
        # the kernel stayed busy (a long Run) past the browser connection's 600 s: a problem of this widget,
        # reported in its row, not a crash of the whole check (seen in full mode on 02's Gatys explorer)
        return {"error": "probe timed out: the kernel was busy for 600 s"}
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError, AttributeError):
        return {"error": f"probe failed: {str(out)[-300:]}"}


# ----------------------------------------------------------------------------------------- the checks
def shown_matches(kind: str, shown, value) -> bool:
    """Does what the browser shows equal the setting? Sliders show a rounded readout."""
    if kind == "slider":
        try:
            s = float(str(shown).replace("\u2212", "-"))  # d3-format writes a Unicode minus
        except (TypeError, ValueError):
            return False
        return math.isclose(s, float(value), rel_tol=5e-3, abs_tol=5e-3) or (
            value != 0 and math.isclose(s, float(value), rel_tol=0.06))  # log sliders: 3 significant digits
    if kind in ("dropdown", "toggle"):
        return str(shown) == str(value)
    return shown == value


def compare_controls(b: Chromium, name: str, cell: int, info: dict) -> list[str]:
    bad = []
    for key, c in info["controls"].items():
        if not c["visible"]:
            continue
        want = info["settings"][key]
        if c["value"] != want and not (isinstance(want, float) and math.isclose(float(c["value"]), want)):
            bad.append(f"{key}: control {c['value']!r} != setting {want!r}")
        r = b.js(f"window.__sl.read({json.dumps(name)}, {cell}, {json.dumps(c['description'])})")
        if not r.get("found"):
            bad.append(f"{key}: no control labelled {c['description']!r} on screen")
        elif not shown_matches(r["kind"], r["shown"], want):
            bad.append(f"{key}: screen shows {r['shown']!r}, Run uses {want!r}")
    return bad


def layout_problems(m: dict) -> list[str]:
    bad = []
    for im in m["imgs"]:
        (nw, nh), (_, _, w, h) = im["natural"], im["rect"]
        if nw == 0:
            bad.append("an image did not load")
        elif abs(w - nw) > 1 or abs(h - nh) > 1:
            bad.append(f"PNG {nw}×{nh} drawn at {w:.0f}×{h:.0f}")
    bad += [f"content {s} px wide in a {c} px cell: scrolls sideways" for s, c in m["scroll"]]
    bad += [f"label {t!r} cut short (text wider than its box)" for t in m["cut"]]
    L = m["leaves"]
    for i in range(len(L)):
        for j in range(i + 1, len(L)):
            (x1, y1, w1, h1), (x2, y2, w2, h2) = L[i]["rect"], L[j]["rect"]
            dx, dy = min(x1 + w1, x2 + w2) - max(x1, x2), min(y1 + h1, y2 + h2) - max(y1, y2)
            if dx > 1 and dy > 1:
                bad.append(f"{L[i]['text']!r} overlaps {L[j]['text']!r} ({dx:.0f}×{dy:.0f} px)")
    return bad


def move(b: Chromium, name: str, cell: int, key: str, c: dict):
    """Change the control of setting ``key`` as a student would; returns the value expected afterwards."""
    p, d = json.dumps(name), json.dumps(c["description"])
    if c["kind"] in ("Dropdown", "ToggleButtons") and len(c["options"]) > 1:
        opts = c["options"]
        new = opts[(opts.index(str(c["value"])) + 1) % len(opts)]
        return ("=", new) if b.js(f"window.__sl.choose({p}, {cell}, {d}, {json.dumps(new)})") else None
    if c["kind"] == "Checkbox":
        return ("=", b.js(f"window.__sl.tick({p}, {cell}, {d})"))
    if c["kind"].endswith("Slider") and c["min"] != c["max"]:
        left = math.isclose(float(c["value"]), float(c["max"]))
        k = b.js(f"window.__sl.slide({p}, {cell}, {d}, {json.dumps(left)})")
        if k is None:
            return None
        b.key(k)
        return ("<" if left else ">", None)
    return None


def took(expect, old, now) -> bool:
    op, v = expect
    if op == "=":
        return str(now) == str(v)
    return (now < old) if op == "<" else (now > old)


def after_action(b, name, cell, model_id, before: dict, pix, timeout) -> tuple[dict, bool, list]:
    """Wait for a new render; returns (probe after, pixels changed, new pixels)."""
    try:
        after = wait(lambda: (lambda i: i if i.get("runs", 0) > before["runs"] else None)(probe(b, name, model_id)),
                     timeout, "no new render", every=0.5)
    except TimeoutError:
        after = probe(b, name, model_id)
    time.sleep(0.8)  # let the new PNGs arrive
    new = b.js(f"window.__sl.pixels({json.dumps(name)}, {cell})")
    return after, new != pix, new


def check_widget(b: Chromium, name: str, cell: int, model_id: str, out: Path, timeout: float) -> dict:
    row = {"notebook": name, "cell": cell, "widget": "?", "renders": False, "layout": False, "controls": False,
           "moved": [], "unmoved": [], "notes": []}
    info = probe(b, name, model_id)
    if "error" in info:
        if info["error"].startswith("0 explorers"):
            return None  # a widget that is not an explorer (a progress bar): nothing to check
        if "weakly-referenced object no longer exists" in info["error"]:
            # the widget's kernel object is gone: a progress bar closed when its loop ended (explorers stay
            # referenced by the notebook); said, not counted
            print(f"{name}: cell {cell}: a closed widget (its kernel object is gone), not an explorer", flush=True)
            return None
        row["notes"].append(info["error"])
        return row
    row["widget"] = info["explorer"]
    p = json.dumps(name)
    m = b.js(f"window.__sl.measure({p}, {cell})")
    row["renders"] = bool(m["imgs"]) and all(im["natural"][0] > 0 for im in m["imgs"])
    stem = f"{Path(name).stem}_cell{cell:02d}_{info['explorer']}"
    b.shot(name, cell, out / f"{stem}_before.png")
    problems = layout_problems(m)
    ctl = compare_controls(b, name, cell, info)
    pix = b.js(f"window.__sl.pixels({p}, {cell})")
    pending = [k for k, c in info["controls"].items() if c["visible"]]
    for attempt in range(2):  # greyed-out controls again after the others moved (moving one may enable them)
        for key in list(pending):
            c = info["controls"][key]
            if c["disabled"]:
                continue
            expect = move(b, name, cell, key, c)
            if expect is None:
                continue
            pending.remove(key)
            time.sleep(0.4)
            if not info["live"] and info["run_button"]:
                idx = [x for x in b.js(f"window.__sl.buttons({p}, {cell})") if x["text"] == info["run_button"]]
                if idx:
                    b.js(f"window.__sl.press({p}, {cell}, {idx[0]['k']})")
            old = info["settings"][key]
            after, changed, pix = after_action(b, name, cell, model_id, info, pix, timeout)
            now = after.get("settings", {}).get(key)
            ok = took(expect, old, now) and after.get("runs", 0) > info["runs"] and changed
            (row["moved"] if ok else row["unmoved"]).append(key)
            row["notes"].append(f"{key}: {old!r} → {now!r}, runs {info['runs']}→{after.get('runs')}, "
                                + ("pixels changed" if changed else "PIXELS UNCHANGED"))
            if "error" in after:  # the probe failed (a busy kernel): said in the row, the last good state kept
                row["notes"].append(f"after {key}: {after['error']}")
                continue
            ctl += [f"after {key}: {x}" for x in compare_controls(b, name, cell, after)]
            info = after
        if not pending:
            break
    row["unmoved"] += [f"{k} (could not be moved: disabled or no control on screen)" for k in pending]
    # stand-alone toggles and action buttons (band toggles, cluster → label, paint, undo, save …), not Run
    for btn in b.js(f"window.__sl.buttons({p}, {cell})"):
        if btn["text"] == info.get("run_button") or btn["disabled"]:
            continue
        b.js(f"window.__sl.press({p}, {cell}, {btn['k']})")
        after, changed, pix = after_action(b, name, cell, model_id, info, pix, min(timeout, 60))
        status_changed = after.get("status") != info.get("status")
        ok = changed or status_changed
        (row["moved"] if ok else row["unmoved"]).append(f"[{btn['text']}]")
        row["notes"].append(f"[{btn['text']}]: runs {info['runs']}→{after.get('runs')}, "
                            + ("pixels changed" if changed else "status changed" if status_changed else "NOTHING CHANGED"))
        info = after if "error" not in after else info
    m2 = b.js(f"window.__sl.measure({p}, {cell})")
    problems += [f"after: {x}" for x in layout_problems(m2)]
    b.shot(name, cell, out / f"{stem}_after.png")
    row["status"] = info.get("status")
    row["layout"] = row["renders"] and not problems
    row["controls"] = not ctl
    row["notes"] += problems[:6] + ctl[:6]
    row["images"] = [f"{im['natural'][0]}×{im['natural'][1]}" for im in m["imgs"]]
    row["size"] = f"{m['area'][2]:.0f}×{m['area'][3]:.0f}"
    return row


def chromium_or_none() -> str | None:
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    return exe if exe and Path(exe).exists() else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="notebook numbers or names (default: every notebook)")
    ap.add_argument("--out", default="widget-screenshots", help="folder for the screenshots (default: %(default)s)")
    ap.add_argument("--full", action="store_true", help="full mode (default sizes) instead of STYLELAB_FAST=1")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per notebook's Run All (default: %(default)s)")
    args = ap.parse_args(argv)
    exe = chromium_or_none()
    try:
        import websocket  # noqa: F401
    except ImportError:
        print("skipped: websocket-client is not installed (it comes with JupyterLab: make venv)", file=sys.stderr)
        return 2
    if exe is None:
        print("skipped: no Chromium found (install it, e.g. apt-get install chromium, or set CHROMIUM=/path)",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a `kill` still closes the browser and the lab
    chosen = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.notebooks:
        chosen = [p for p in chosen if any(p.stem.startswith(k) for k in args.notebooks)]
        if not chosen:
            ap.error(f"no notebook matches {args.notebooks}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="stylelab-browser-"))
    (work / "nb").mkdir()
    for p in chosen:
        shutil.copy(p, work / "nb" / p.name)
    token, port = secrets.token_hex(16), free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(work / "lab.log", "w")
    lab = start_lab(work, port, token, args.full, log)
    browser = None
    rows, failures, runs = [], 0, []
    try:
        browser = Chromium(exe, work / "chrome-profile", log)
        for n, p in enumerate(chosen):
            try:
                st = open_and_run(browser, base, token, p.name, n, args.timeout)
            except (TimeoutError, RuntimeError) as err:
                print(f"{p.name}: {err}", flush=True)
                failures += 1
                shutdown_kernels(base, token)
                continue
            for e in st["errors"]:
                if e["ename"] == "stderr" and "RandomWeightsWarning" in e["evalue"]:
                    # by design: every use of random weights warns, and the banner beside it says so
                    print(f"{p.name}: cell {e['cell']}: RandomWeightsWarning (by design, not counted)", flush=True)
                    continue
                if e["ename"] == "stderr" and all(line.startswith("findfont:") for line in e["evalue"].splitlines() if line):
                    # matplotlib's font cache lacks a font it ships (a stale ~/.cache/matplotlib): the machine's, not
                    # the notebook's; said, not counted
                    print(f"{p.name}: cell {e['cell']}: matplotlib font-cache warning (not counted; rebuild the cache "
                          "by deleting ~/.cache/matplotlib)", flush=True)
                    continue
                print(f"{p.name}: cell {e['cell']} {'wrote to stderr' if e['ename'] == 'stderr' else 'raised ' + e['ename']}: "
                      f"{e['evalue'][:300]!r}", flush=True)
                failures += 1
            runs.append((p.name, st["seconds"], len(st["widgets"])))
            print(f"{p.name}: Run All done in {st['seconds']:.0f} s, {len(st['widgets'])} widgets", flush=True)
            browser.js(f"window.__sl.exec({json.dumps(p.name)}, {json.dumps(PROBE)})")
            for w in st["widgets"]:
                row = check_widget(browser, p.name, w["cell"], w["model_id"], out, min(args.timeout, 600))
                if row is None:
                    continue
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
            shutdown_kernels(base, token)
    finally:
        if browser is not None:
            browser.close()
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()
    ok = lambda v: "yes" if v else "NO"  # noqa: E731
    head = f"{'notebook':<28} {'cell':>4}  {'widget':<16} {'renders':<7} {'layout':<6} {'ctl=set':<7} {'moved':>5} unmoved"
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        bad = not (r["renders"] and r["layout"] and r["controls"]) or bool(r["unmoved"])
        failures += bad
        print(f"{r['notebook']:<28} {r['cell']:>4}  {r['widget']:<16} {ok(r['renders']):<7} {ok(r['layout']):<6} "
              f"{ok(r['controls']):<7} {len(r['moved']):>5} {', '.join(map(str, r['unmoved'])) or '-'}")
    mode = "full" if args.full else "fast"
    print(f"\n{mode} mode: {len(runs)}/{len(chosen)} notebooks ran ({sum(s for _, s, _ in runs):.0f} s of Run All), "
          f"{len(rows)} widgets, {sum(len(r['moved']) for r in rows)} controls moved, {failures} problems; "
          f"screenshots in {out}/; lab log {work / 'lab.log'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
