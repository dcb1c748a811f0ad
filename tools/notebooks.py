#!/usr/bin/env python3
"""Build the course notebooks from their jupytext ``py:percent`` sources.

Sources live in ``notebooks/src/NN_name.py`` and are read by jupytext
(``py:percent``): ``# %%`` starts a code cell, ``# %% [markdown]`` (or
``[md]``) a markdown cell, ``# %% Load the images`` a titled code cell, and
cell metadata goes on the marker line (``# %% tags=["nbval-skip"]``,
``# %% slideshow={"slide_type": "skip"}``). This file is only the thin layer
around jupytext that the course needs:

* stable cell ids (``NN-iii``, the cell's index), so rebuilding gives the same file;
* every notebook opens with a launch line (Colab, Binder, JupyterHub) under its
  title and an install cell, written here from ``[tool.stylelab.course]`` in
  ``pyproject.toml`` (the same for every notebook, new ones included);
* no outputs or execution counts, and a notebook that holds outputs (someone
  ran it) is never overwritten without ``--force``;
* ``check`` says which committed ``.ipynb`` no longer match their sources.

    python tools/notebooks.py build            # (re)build every notebook
    python tools/notebooks.py build 03_adain   # one notebook
    python tools/notebooks.py check            # exit 1 if any .ipynb is stale
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"
PYPROJECT = ROOT / "pyproject.toml"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
#: jupytext's own round-trip keys: meaningless in a generated notebook.
_JUPYTEXT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "region_name", "title", "cell_marker")
#: Cell metadata key that marks the generated install cell (the classroom kit and the tests find it by it).
INSTALL_MARK = "stylelab_install"


def course_config() -> dict:
    """``[tool.stylelab.course]`` of pyproject.toml: where the course is published and at which tag."""
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    try:
        cfg = data["tool"]["stylelab"]["course"]
    except KeyError:
        raise SystemExit("pyproject.toml has no [tool.stylelab.course] table (repository, ref, jupyterhub)") from None
    missing = {"repository", "ref", "jupyterhub"} - set(cfg)
    if missing:
        raise SystemExit(f"[tool.stylelab.course] in pyproject.toml lacks {', '.join(sorted(missing))}")
    return cfg


def launch_urls(name: str, cfg: dict) -> dict[str, str]:
    """Colab, Binder and JupyterHub (nbgitpuller) URLs that open ``notebooks/<name>.ipynb`` at the pinned ref."""
    repo, ref = cfg["repository"].rstrip("/"), cfg["ref"]
    gh = repo.removeprefix("https://github.com/")
    folder = gh.rsplit("/", 1)[-1]
    return {
        "Colab": f"https://colab.research.google.com/github/{gh}/blob/{ref}/notebooks/{name}.ipynb",
        "Binder": f"https://mybinder.org/v2/gh/{gh}/{ref}?urlpath=lab/tree/notebooks/{name}.ipynb",
        "JupyterHub": (f"{cfg['jupyterhub'].rstrip('/')}/hub/user-redirect/git-pull?repo={repo}&branch={ref}"
                       f"&urlpath=lab/tree/{folder}/notebooks/{name}.ipynb"),
    }


def launch_line(name: str, cfg: dict) -> str:
    links = " · ".join(f"[{k}]({v})" for k, v in launch_urls(name, cfg).items())
    return f"**Run this notebook:** {links} · or locally with `make lab`"


def install_source(cfg: dict) -> str:
    """The install cell: a no-op where ``stylelab`` imports (a checkout), else fetch and install the pinned course."""
    return "\n".join([
        f"# Colab, or any kernel without the course: fetch the course at {cfg['ref']} and install it.",
        "# In a local checkout (`make lab`) stylelab imports already and this cell does nothing.",
        "import importlib.util",
        "",
        'if importlib.util.find_spec("stylelab") is None:',
        "    import os, subprocess, sys",
        "",
        f'    REPO, REF = "{cfg["repository"].rstrip("/")}", "{cfg["ref"]}"',
        '    subprocess.run(["git", "clone", "-q", "--depth=1", f"--branch={REF}", REPO, "stylelab-course"], check=True)',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "stylelab-course[course]"], check=True)',
        '    sys.path.insert(0, os.path.abspath("stylelab-course"))',
    ])


def parse(text: str) -> list[dict]:
    """``py:percent`` text → nbformat-4 cell dicts (jupytext's reader; outputs empty, jupytext's own keys dropped)."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    cells = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k not in _JUPYTEXT_KEYS}
        out = {"cell_type": cell.cell_type, "metadata": meta, "source": _split(cell.source)}
        if cell.cell_type == "code":
            out["execution_count"] = None
            out["outputs"] = []
        cells.append(out)
    return cells


def _split(source: str) -> list[str]:
    parts = source.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]] if source else []


def with_launch(cells: list[dict], name: str, cfg: dict) -> list[dict]:
    """The launch line under the first cell's title, and the install cell after that cell."""
    if not cells or cells[0]["cell_type"] != "markdown" or not "".join(cells[0]["source"]).startswith("# "):
        raise SystemExit(f"notebooks/src/{name}.py must open with a markdown cell whose first line is the title (# ...)")
    first = "".join(cells[0]["source"]).split("\n", 1)
    text = first[0] + "\n\n" + launch_line(name, cfg) + ("\n" + first[1] if len(first) > 1 else "")
    head = dict(cells[0], source=_split(text))
    install = {"cell_type": "code", "execution_count": None, "metadata": {INSTALL_MARK: True, "tags": ["install"]},
               "outputs": [], "source": _split(install_source(cfg))}
    return [head, install, *cells[1:]]


def to_notebook(cells: list[dict]) -> dict:
    return {
        "cells": cells,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(src: Path, cfg: dict | None = None) -> str:
    cells = with_launch(parse(src.read_text(encoding="utf-8")), src.stem, cfg or course_config())
    nb = to_notebook(cells)
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"{src.stem[:2]}-{i:03d}"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _was_run(path: Path) -> bool:
    """True if a notebook holds outputs or execution counts: never overwrite a user's work silently."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return True
    return any(c.get("outputs") or c.get("execution_count") for c in nb.get("cells", []))


def targets(names: list[str]) -> list[Path]:
    srcs = sorted(SRC.glob("*.py"))
    if names:
        srcs = [s for s in srcs if s.stem in names or s.stem[:2] in names]
    return srcs


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"build", "check"}:
        print(__doc__)
        return 2
    force = "--force" in argv
    cmd, names = argv[0], [a for a in argv[1:] if a != "--force"]
    cfg = course_config()
    stale = []
    for src in targets(names):
        out = OUT / f"{src.stem}.ipynb"
        text = render(src, cfg)
        if cmd == "build":
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                if out.exists() and not force and _was_run(out):
                    print(f"skipped {out.relative_to(ROOT)}: it holds outputs (someone ran or edited it). "
                          "Save your work elsewhere, then rebuild with --force.")
                    continue
                out.write_text(text, encoding="utf-8")
                print(f"built {out.relative_to(ROOT)}")
        elif not out.exists() or out.read_text(encoding="utf-8") != text:
            stale.append(out.relative_to(ROOT))
    if stale:
        print("stale notebooks (run `python tools/notebooks.py build`):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
