#!/usr/bin/env python3
"""Build the course notebooks from their percent-format sources.

Sources live in ``notebooks/src/NN_name.py``: cells start with ``# %%``
(code) or ``# %% [markdown]`` (markdown, every line prefixed with ``# ``);
cell tags go on the marker line: ``# %% tags=["nbval-skip"]``. The built
``notebooks/NN_name.ipynb`` carries no outputs or execution counts.

    python tools/notebooks.py build            # (re)build every notebook
    python tools/notebooks.py build 03_adain   # one notebook
    python tools/notebooks.py check            # exit 1 if any .ipynb is stale

A notebook that holds outputs (a student ran it) is never overwritten
without ``--force``.

Why sources: reviewable diffs, and the tests check that the two never drift.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
OUT = ROOT / "notebooks"
MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?:\s+tags=(?P<tags>\[.*\]))?\s*$")

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def parse(text: str) -> list[dict]:
    """Percent-format text → list of nbformat-4 cell dicts (outputs empty)."""
    cells: list[dict] = []
    current: dict | None = None
    lines: list[str] = []

    def flush():
        if current is None:
            return
        body = lines[:]
        while body and not body[-1].strip():
            body.pop()
        while body and not body[0].strip():
            body.pop(0)
        if current["cell_type"] == "markdown":
            body = [ln[2:] if ln.startswith("# ") else ln[1:] if ln.startswith("#") else ln for ln in body]
        source = "\n".join(body)
        cell = {"cell_type": current["cell_type"], "metadata": {}, "source": _split(source)}
        if current["tags"]:
            cell["metadata"]["tags"] = current["tags"]
        if current["cell_type"] == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
        cells.append(cell)

    for line in text.splitlines():
        m = MARKER.match(line)
        if m:
            flush()
            current = {
                "cell_type": "markdown" if m.group("md") else "code",
                "tags": json.loads(m.group("tags")) if m.group("tags") else [],
            }
            lines = []
        elif current is not None:
            lines.append(line)
    flush()
    return cells


def _split(source: str) -> list[str]:
    parts = source.split("\n")
    return [p + "\n" for p in parts[:-1]] + [parts[-1]] if parts else []


def to_notebook(cells: list[dict]) -> dict:
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": KERNELSPEC,
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(src: Path) -> str:
    nb = to_notebook(parse(src.read_text(encoding="utf-8")))
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
    stale = []
    for src in targets(names):
        out = OUT / f"{src.stem}.ipynb"
        text = render(src)
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
