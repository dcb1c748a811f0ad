"""Check the course's widgets as a student sees them: real JupyterLab, headless Chromium.

For every notebook that shows an explorer (``stylelab.widgets``) this script

1. starts ``jupyter lab`` on a copy of the notebooks (a temporary folder, so no
   output is ever written into the repository), with a token, in fast mode
   (``STYLELAB_FAST=1 STYLELAB_RANDOM_WEIGHTS=1 STYLELAB_OFFLINE=1``; ``--full``
   drops ``STYLELAB_FAST``);
2. opens the notebook in headless Chromium (Selenium + chromedriver), runs
   *Run All* and waits for the kernel;
3. for each cell whose output is a widget, finds the explorer behind it in the
   kernel (through the widget's model id) and checks, in the browser:

   * **renders**: the widget shows at least one image;
   * **natural size**: every ``<img>`` is drawn at the PNG's own pixel size
     (``getBoundingClientRect`` = ``naturalWidth × naturalHeight``; tiny
     pictures are enlarged in the PNG by the integer zoom the widget states,
     so they too are drawn 1:1), and no output scrolls sideways in a
     1366-px-wide window (a picture wider than the cell is partly hidden);
   * **controls = settings**: each control shows (slider readout, selected
     option, checkbox, toggle) the value of the explorer's setting, i.e. what
     Run uses — before and after the change below;
   * **responds**: one control is changed the way a student would (arrow key
     on a slider handle, another option of a dropdown or toggle), Run is
     clicked when the explorer has a Run button, and the kernel-side explorer
     must take the new value, render again (``runs`` + 1) and the image in the
     browser must change (when the new setting legitimately draws the same
     picture — all Haar bands at another level — a band toggle is clicked too);
   * **no overlap**: no two visible leaf widgets (controls, images, labels)
     overlap on screen;

4. prints one row per widget and saves a screenshot of each widget (before and
   after the change) under ``--out``.

Needs Chromium, its driver and Selenium (not part of the project's
dependencies)::

    apt-get install chromium chromium-driver      # Debian / Ubuntu
    .venv/bin/pip install selenium

    PYTHONPATH=. .venv/bin/python tools/check_widgets_browser.py            # every notebook with a widget
    PYTHONPATH=. .venv/bin/python tools/check_widgets_browser.py 02 07 --out /tmp/shots

Exit status: 0 when every check passes, 1 when one fails, 2 when the browser
tools are missing.
"""

from __future__ import annotations

import argparse
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
FAST_ENV = {"STYLELAB_FAST": "1", "STYLELAB_RANDOM_WEIGHTS": "1", "STYLELAB_OFFLINE": "1"}
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--force-device-scale-factor=1", "--window-size=1366,1800"]  # a laptop screen's width (tall for screenshots)

# Run in the kernel once per notebook: find the explorer behind a widget's model id.
PROBE = r'''
def _stylelab_probe(model_id):
    import gc, json, warnings
    from ipywidgets.widgets.widget import _instances
    from stylelab.widgets.base import Explorer
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
                          "visible": c.layout.display != "none",
                          "options": [str(o) for o in getattr(c, "options", ()) or ()],
                          "min": plain(getattr(c, "min", None)), "max": plain(getattr(c, "max", None))}
    run = e._c.get("run")
    print(json.dumps({"explorer": type(e).__name__, "live": e.LIVE, "runs": e.runs,
                      "settings": {k: plain(v) for k, v in e.settings().items()}, "controls": controls,
                      "run_button": None if run is None else run.description,
                      "status": e._c["status"].value}))
'''

# JavaScript helpers injected into the page (JupyterLab exposes the app as window.jupyterapp).
JS_HELPERS = r'''
window.__sl = {
  // the open notebook: the focused widget, or (headless, where nothing may have focus and
  // currentWidget stays null) the first main-area widget with a kernel session
  panel() {
    const shell = window.jupyterapp.shell;
    if (shell.currentWidget) return shell.currentWidget;
    for (const w of shell.widgets('main')) if (w.sessionContext) return w;
    return null;
  },
  async exec(code) {
    const kernel = this.panel().sessionContext.session.kernel;
    const fut = kernel.requestExecute({code, silent: false, store_history: false});
    let out = "";
    fut.onIOPub = (msg) => {
      if (msg.header.msg_type === "stream" && msg.content.name === "stdout") out += msg.content.text;
      if (msg.header.msg_type === "error") out += "ERROR " + msg.content.ename + ": " + msg.content.evalue;
    };
    await fut.done;
    return out;
  },
  state() {
    const p = this.panel();
    const cells = p.content.widgets;
    let pending = 0, errors = [], widgets = [];
    cells.forEach((cell, i) => {
      if (cell.model.type !== "code") return;
      const prompt = cell.node.querySelector(".jp-InputArea-prompt");
      if (cell.model.executionCount === null || (prompt && prompt.textContent.includes("*"))) pending += 1;
      const outs = cell.model.outputs.toJSON();
      outs.forEach((o) => {
        if (o.output_type === "error") errors.push({cell: i, ename: o.ename, evalue: o.evalue});
        const d = o.data && o.data["application/vnd.jupyter.widget-view+json"];
        if (d) widgets.push({cell: i, model_id: d.model_id});
      });
    });
    const k = p.sessionContext.session && p.sessionContext.session.kernel;
    return {pending, errors, widgets, kernel: k ? k.status : "none", ncells: cells.length};
  },
  root(cellIndex) {
    const cell = this.panel().content.widgets[cellIndex];
    return cell.node.querySelector(".jp-OutputArea");
  },
  measure(cellIndex) {
    const root = this.root(cellIndex);
    const r = (el) => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; };
    const visible = (el) => { const b = el.getBoundingClientRect(); return b.width > 0 && b.height > 0 &&
                              getComputedStyle(el).visibility !== "hidden"; };
    const imgs = [...root.querySelectorAll("img")].filter(visible).map((im) => ({
      natural: [im.naturalWidth, im.naturalHeight], rect: r(im), src: im.src.slice(0, 80) + ":" + im.src.length}));
    const all = [...root.querySelectorAll(".jupyter-widgets")];
    const leaves = all.filter((el) => visible(el) && !el.querySelector(".jupyter-widgets"))
                      .map((el) => ({cls: el.className, rect: r(el), text: el.textContent.slice(0, 30)}));
    const area = r(root);
    // a picture wider than the cell makes the output scroll sideways: part of the widget is hidden
    const scroll = [...root.querySelectorAll(".jp-OutputArea-output")].map((el) => [el.scrollWidth, el.clientWidth])
                     .filter(([s, c]) => s > c + 1);
    return {imgs, leaves, area, scroll, text: root.textContent, dpr: window.devicePixelRatio};
  },
  control(cellIndex, description) {
    // the element showing a control: its description label's closest widget container
    const root = this.root(cellIndex);
    const labels = [...root.querySelectorAll("label, .widget-label, .widget-label-basic span")]
                     .filter((el) => el.textContent.trim() === description);
    for (const lab of labels) {
      const el = lab.closest(".widget-slider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons, .widget-inline-hbox");
      if (el) return el;
    }
    return null;
  },
  read(cellIndex, description) {
    const el = this.control(cellIndex, description);
    if (!el) return {found: false};
    const sel = el.querySelector("select");
    if (sel) return {found: true, kind: "dropdown", shown: sel.options[sel.selectedIndex] ?
                     sel.options[sel.selectedIndex].textContent : null};
    const ro = el.querySelector(".widget-readout");
    if (ro) return {found: true, kind: "slider", shown: ro.textContent.trim()};
    const cb = el.querySelector("input[type=checkbox]");
    if (cb) return {found: true, kind: "checkbox", shown: cb.checked};
    const act = el.querySelector(".widget-toggle-button.mod-active, button.mod-active");
    if (el.classList.contains("widget-toggle-buttons")) return {found: true, kind: "toggle",
                     shown: act ? act.textContent.trim() : null};
    return {found: true, kind: "unknown", shown: el.textContent.trim()};
  },
};
'''


def _tools_or_exit():
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("selenium is not installed: run `.venv/bin/pip install selenium` (for this check only)", file=sys.stderr)
        sys.exit(2)
    for exe in ("chromium", "chromedriver"):
        if shutil.which(exe) is None:
            print(f"{exe} not found: install Chromium and its driver (Debian: apt-get install chromium "
                  "chromium-driver)", file=sys.stderr)
            sys.exit(2)


def widget_notebooks() -> list[Path]:
    """Notebooks whose source builds an explorer (``.widget()``, ``edit_labels``, ``explore``)."""
    out = []
    for src in sorted((NOTEBOOKS / "src").glob("*.py")):
        text = src.read_text()
        if ".widget()" in text or "edit_labels(" in text or "subbands.explore(" in text:
            out.append(NOTEBOOKS / (src.stem + ".ipynb"))
    return out


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
    env.update({k: v for k, v in FAST_ENV.items() if not (full and k == "STYLELAB_FAST")})
    if full:
        env.pop("STYLELAB_FAST", None)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--notebook-dir={workdir / 'nb'}",
           "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False",
           # a fresh workspace: the user's saved layout would reopen earlier notebooks and steal the focus
           f"--LabApp.workspaces_dir={workdir / 'workspaces'}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir / "nb")
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    for _ in range(120):
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return proc
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer on port {port} within 60 s; see {log.name}")


def start_browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    driver.set_script_timeout(600)
    return driver


def js(driver, expr: str, *args):
    driver.execute_script(JS_HELPERS)
    return driver.execute_script(f"return {expr};", *args)


def js_async(driver, expr: str, *args):
    driver.execute_script(JS_HELPERS)
    return driver.execute_async_script(
        f"const done = arguments[arguments.length - 1]; Promise.resolve({expr}).then(done, (e) => done('JSERROR ' + e));",
        *args)


def wait(cond, timeout: float, what: str, every: float = 0.5):
    t0 = time.time()
    while time.time() - t0 < timeout:
        v = cond()
        if v:
            return v
        time.sleep(every)
    raise TimeoutError(f"{what} (waited {timeout:.0f} s)")


def open_and_run(driver, base: str, token: str, name: str, timeout: float) -> dict:
    driver.get(f"{base}/lab/tree/{name}?token={token}")
    wait(lambda: js(driver,
        "(() => { const p = window.jupyterapp && window.__sl.panel();"
        " return !!(p && p.sessionContext && p.sessionContext.session && p.sessionContext.session.kernel"
        " && p.sessionContext.session.kernel.status === 'idle' && p.content && p.content.widgets.length); })()"),
        120, f"{name}: notebook and kernel ready")
    t0 = time.time()
    js(driver, "(() => { window.jupyterapp.shell.activateById(window.__sl.panel().id); return true; })()")
    js_async(driver, "window.jupyterapp.commands.execute('notebook:run-all-cells')")
    idle_since = None
    while True:
        st = js(driver, "window.__sl.state()")
        if st["kernel"] == "idle":
            idle_since = idle_since or time.time()
        else:
            idle_since = None
        if st["pending"] == 0 and st["kernel"] == "idle":
            break
        if st["errors"] and idle_since and time.time() - idle_since > 3:
            break  # Run All stops at an error
        if time.time() - t0 > timeout:
            raise TimeoutError(f"{name}: Run All not finished after {timeout:.0f} s ({st['pending']} cells left)")
        time.sleep(1)
    st["seconds"] = time.time() - t0
    return st


def probe(driver, model_id: str) -> dict:
    out = js_async(driver, "window.__sl.exec(arguments[0])", f"_stylelab_probe({model_id!r})")
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"probe failed: {out[-300:]}"}


def shown_matches(kind: str, shown, value) -> bool:
    """Does what the browser shows equal the setting? Sliders show a rounded readout."""
    if kind == "slider":
        try:
            s = float(str(shown).replace("\u2212", "-"))  # d3-format writes a Unicode minus
        except (TypeError, ValueError):
            return False
        return math.isclose(s, float(value), rel_tol=5e-3, abs_tol=5e-3)
    if kind in ("dropdown", "toggle"):
        return str(shown) == str(value)
    return shown == value


def compare_controls(driver, cell: int, info: dict) -> list[str]:
    """Mismatches between the controls on screen, the kernel-side controls and the explorer's settings."""
    bad = []
    for name, c in info["controls"].items():
        if not c["visible"]:
            continue
        want = info["settings"][name]
        if c["value"] != want and not (isinstance(want, float) and math.isclose(float(c["value"]), want)):
            bad.append(f"{name}: control {c['value']!r} != setting {want!r}")
        r = js(driver, "window.__sl.read(arguments[0], arguments[1])", cell, c["description"])
        if not r.get("found"):
            bad.append(f"{name}: no control labelled {c['description']!r} on screen")
        elif not shown_matches(r["kind"], r["shown"], want):
            bad.append(f"{name}: screen shows {r['shown']!r}, Run uses {want!r}")
    return bad


def size_problems(m: dict) -> list[str]:
    bad = []
    for im in m["imgs"]:
        (nw, nh), (_, _, w, h) = im["natural"], im["rect"]
        if nw == 0:
            bad.append("an image did not load")
        elif abs(w - nw) > 1 or abs(h - nh) > 1:
            bad.append(f"PNG {nw}×{nh} drawn at {w:.0f}×{h:.0f}")
    return bad


def scroll_problems(m: dict) -> list[str]:
    return [f"content {s} px wide in a {c} px cell: scrolls sideways" for s, c in m["scroll"]]


def overlaps(m: dict) -> list[str]:
    bad = []
    L = m["leaves"]
    for i in range(len(L)):
        for j in range(i + 1, len(L)):
            (x1, y1, w1, h1), (x2, y2, w2, h2) = L[i]["rect"], L[j]["rect"]
            dx = min(x1 + w1, x2 + w2) - max(x1, x2)
            dy = min(y1 + h1, y2 + h2) - max(y1, y2)
            if dx > 1 and dy > 1:
                bad.append(f"{L[i]['text']!r} overlaps {L[j]['text']!r} ({dx:.0f}×{dy:.0f} px)")
    return bad


def change_one(driver, cell: int, info: dict) -> tuple[str, object] | None:
    """Change one visible control as a student would; returns (setting, value expected afterwards)."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    for name, c in info["controls"].items():
        if not c["visible"]:
            continue
        el = js(driver, "window.__sl.control(arguments[0], arguments[1])", cell, c["description"])
        if el is None:
            continue
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
        if c["kind"] == "Dropdown" and len(c["options"]) > 1:
            opts = c["options"]
            new = opts[(opts.index(str(c["value"])) + 1) % len(opts)]
            Select(el.find_element("css selector", "select")).select_by_visible_text(new)
            return name, new
        if c["kind"] == "ToggleButtons" and len(c["options"]) > 1:
            opts = c["options"]
            new = opts[(opts.index(str(c["value"])) + 1) % len(opts)]
            for b in el.find_elements("css selector", "button"):
                if b.text.strip() == new:
                    b.click()
                    return name, new
        if c["kind"].endswith("Slider") and c["min"] != c["max"]:
            handle = el.find_element("css selector", ".noUi-handle")
            at_max = math.isclose(float(c["value"]), float(c["max"]))
            handle.send_keys(Keys.ARROW_LEFT if at_max else Keys.ARROW_RIGHT)
            return name, ("<" if at_max else ">")
    return None


def toggle_and_compare(driver, cell: int, model_id: str, info: dict, m: dict, timeout: float, row: dict) -> bool:
    """Click the first stand-alone toggle button (not a setting's ToggleButtons); did the pictures change?"""
    root = js(driver, "window.__sl.root(arguments[0])", cell)
    buttons = [b for b in root.find_elements("css selector", "button.widget-toggle-button")
               if not driver.execute_script("return !!arguments[0].closest('.widget-toggle-buttons');", b)]
    if not buttons:
        return False
    label = buttons[0].text.strip()
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", buttons[0])
    buttons[0].click()
    try:
        wait(lambda: probe(driver, model_id).get("runs", 0) > info["runs"], timeout, "no render after the toggle")
    except TimeoutError:
        row["notes"].append(f"toggle {label!r}: no new render")
        return False
    time.sleep(1.0)
    m2 = js(driver, "window.__sl.measure(arguments[0])", cell)
    changed = [im["src"] for im in m2["imgs"]] != [im["src"] for im in m["imgs"]]
    row["notes"].append(f"toggle {label!r}: " + ("image updated" if changed else "image NOT updated"))
    return changed


def click_button(driver, cell: int, text: str) -> bool:
    root = js(driver, "window.__sl.root(arguments[0])", cell)
    for b in root.find_elements("css selector", "button"):
        if b.text.strip() == text:
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", b)
            b.click()
            return True
    return False


def screenshot(driver, cell: int, path: Path) -> None:
    root = js(driver, "window.__sl.root(arguments[0])", cell)
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", root)
    time.sleep(0.3)
    root.screenshot(str(path))


def check_widget(driver, nb: str, cell: int, model_id: str, out: Path, timeout: float) -> dict:
    row = {"notebook": nb, "cell": cell, "widget": "?", "renders": False, "natural": False, "controls": False,
           "responds": False, "overlap": False, "notes": []}
    info = probe(driver, model_id)
    if "error" in info:
        row["notes"].append(info["error"])
        return row
    row["widget"] = info["explorer"]
    m = js(driver, "window.__sl.measure(arguments[0])", cell)
    row["renders"] = bool(m["imgs"]) and all(im["natural"][0] > 0 for im in m["imgs"])
    stem = f"{Path(nb).stem}_cell{cell:02d}"
    screenshot(driver, cell, out / f"{stem}_before.png")
    problems = size_problems(m) + scroll_problems(m)
    ctl = compare_controls(driver, cell, info)
    over = overlaps(m)
    # respond to a change
    srcs = [im["src"] for im in m["imgs"]]
    changed = change_one(driver, cell, info)
    if changed is None:
        row["notes"].append("no control to change")
    else:
        name, new = changed
        time.sleep(0.5)
        if not info["live"] and info["run_button"]:
            click_button(driver, cell, info["run_button"])
        try:
            after = wait(lambda: (lambda i: i if i.get("runs", 0) > info["runs"] else None)(probe(driver, model_id)),
                         timeout, f"{nb} cell {cell}: no new render after changing {name}", every=1.0)
        except TimeoutError as err:
            row["notes"].append(str(err))
            after = probe(driver, model_id)
        old = info["settings"][name]
        now = after["settings"][name]
        took = (now == new) if new not in ("<", ">") else ((now < old) if new == "<" else (now > old))
        time.sleep(1.0)  # let the browser receive the new PNGs
        m2 = js(driver, "window.__sl.measure(arguments[0])", cell)
        img_changed = [im["src"] for im in m2["imgs"]] != srcs
        text_changed = m2["text"] != m["text"]
        row["notes"].append(f"{name}: {old!r} → {now!r}, runs {info['runs']}→{after['runs']}, "
                            + ("image updated" if img_changed else "text updated, same image" if text_changed
                               else "NOTHING updated on screen"))
        if not img_changed:
            # e.g. a lossless reconstruction at another level is the same picture: switch a band off instead
            img_changed = toggle_and_compare(driver, cell, model_id, after, m2, timeout, row)
        row["responds"] = bool(took and after["runs"] > info["runs"] and img_changed)
        problems += [f"after: {p}" for p in size_problems(m2) + scroll_problems(m2)]
        ctl += [f"after: {b}" for b in compare_controls(driver, cell, after)]
        over += [f"after: {b}" for b in overlaps(m2)]
        screenshot(driver, cell, out / f"{stem}_after.png")
        row["status"] = after["status"]
    row["natural"] = row["renders"] and not problems
    row["controls"] = not ctl
    row["overlap"] = bool(over)
    row["notes"] += problems + ctl + over[:3]
    row["images"] = [f"{im['natural'][0]}×{im['natural'][1]}" for im in m["imgs"]]
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*",
                    help="notebook numbers or names, or paths of other .ipynb files (default: every notebook with a widget)")
    ap.add_argument("--out", default="widget-screenshots", help="folder for the screenshots (default: %(default)s)")
    ap.add_argument("--full", action="store_true", help="full mode (default sizes) instead of STYLELAB_FAST=1")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per notebook's Run All (default: %(default)s)")
    args = ap.parse_args(argv)
    _tools_or_exit()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a `kill` still closes the browser and the lab
    chosen = widget_notebooks()
    if args.notebooks:
        chosen = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if any(p.stem.startswith(k) for k in args.notebooks)]
        chosen += [Path(k) for k in args.notebooks if k.endswith(".ipynb") and Path(k).is_file()]
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
    driver = None
    rows, failures = [], 0
    try:
        driver = start_browser(work / "chrome-profile")
        for p in chosen:
            st = open_and_run(driver, base, token, p.name, args.timeout)
            for e in st["errors"]:
                print(f"{p.name}: cell {e['cell']} raised {e['ename']}: {e['evalue'][:200]}")
                failures += 1
            print(f"{p.name}: Run All done in {st['seconds']:.0f} s, {len(st['widgets'])} widgets", flush=True)
            js_async(driver, "window.__sl.exec(arguments[0])", PROBE)
            for w in st["widgets"]:
                row = check_widget(driver, p.name, w["cell"], w["model_id"], out, args.timeout)
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
            js_async(driver, "window.jupyterapp.commands.execute('kernelmenu:shutdown')")
            js_async(driver, "window.jupyterapp.commands.execute('docmanager:close-all-files')")
    finally:
        if driver is not None:
            driver.quit()
        lab.terminate()
        try:
            lab.wait(20)
        except subprocess.TimeoutExpired:
            lab.kill()
        log.close()
    ok = lambda b: "yes" if b else "NO"  # noqa: E731
    head = f"{'notebook':<28} {'cell':>4}  {'widget':<17} {'renders':<7} {'natural':<7} {'ctl=set':<7} " \
           f"{'responds':<8} {'overlap':<7} notes"
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        bad = not (r["renders"] and r["natural"] and r["controls"] and r["responds"]) or r["overlap"]
        failures += bad
        print(f"{r['notebook']:<28} {r['cell']:>4}  {r['widget']:<17} {ok(r['renders']):<7} {ok(r['natural']):<7} "
              f"{ok(r['controls']):<7} {ok(r['responds']):<8} {'YES' if r['overlap'] else 'no':<7} "
              f"{'; '.join(r['notes'])}")
    print(f"\n{len(rows)} widgets in {len(chosen)} notebooks, {failures} problems; screenshots in {out}/; "
          f"lab log {work / 'lab.log'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
