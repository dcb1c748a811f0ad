"""Lecture decks: the executed course notebooks with ``slideshow`` metadata chosen for a lecture, as reveal.js.

A cell that already carries ``slideshow`` metadata in its source
(``# %% [markdown] slideshow={"slide_type": "skip"}``) keeps it; every other
cell gets it from :func:`lecture_cells`:

* a markdown cell is cut at each ``##``/``###`` heading: ``##`` starts a slide,
  ``###`` a sub-slide; in each piece, the headings, lists, tables, display
  maths and images are shown and the prose paragraphs become the speaker notes
  (press ``s`` in the deck);
* a code cell that draws a figure gets a sub-slide of its own with the figure
  only (the code is on the website); an exercise stub is shown as code on its
  own sub-slide; other code cells (imports, set-up, checks) are skipped, and so
  is the install cell.

The decks load reveal.js, MathJax, require.js and jQuery from ``_static/``
next to them (:mod:`tools.classroom.vendor`): no external URL.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from . import vendor

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_HEADING = re.compile(r"^(#{2,3}) ", re.M)
_VISIBLE = re.compile(r"^\s*(#|[*+-] |\d+\. |\||\$\$|\\\[|>|!\[|<|```)")


def _pieces(text: str) -> list[tuple[str, str]]:
    """Cut markdown at ``##``/``###`` headings: [(slide type, text)]."""
    cuts = [m.start() for m in _HEADING.finditer(text)]
    if not cuts or cuts[0] != 0:
        cuts = [0, *cuts]
    out = []
    for a, b in zip(cuts, [*cuts[1:], len(text)]):
        piece = text[a:b].strip("\n")
        if not piece.strip():
            continue
        kind = "slide" if piece.startswith("## ") else "subslide" if piece.startswith("### ") else "-"
        out.append((kind, piece))
    return out


def _split_prose(text: str) -> tuple[str, str]:
    """(shown, notes): blocks that are headings, lists, tables, maths or images are shown; prose goes to notes."""
    shown, notes = [], []
    for block in re.split(r"\n\s*\n", text):
        (shown if _VISIBLE.match(block) else notes).append(block)
    return "\n\n".join(shown), "\n\n".join(notes)


def _slide(cell, kind: str) -> None:
    cell.metadata["slideshow"] = {"slide_type": kind}


def lecture_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of executed notebook ``nb`` with lecture ``slideshow`` metadata on every cell."""
    out = copy.deepcopy(nb)
    out.cells = []
    for index, cell in enumerate(nb.cells):
        if "slideshow" in cell.metadata:
            out.cells.append(copy.deepcopy(cell))
        elif cell.cell_type == "markdown":
            for i, (kind, piece) in enumerate(_pieces(cell.source)):
                shown, notes = _split_prose(piece)
                if index == 0 and i == 0:
                    kind = "slide"  # the title slide
                if shown:
                    c = nbformat.v4.new_markdown_cell(shown)
                    _slide(c, kind)
                    out.cells.append(c)
                if notes:
                    c = nbformat.v4.new_markdown_cell(notes)
                    _slide(c, "notes" if shown or kind == "-" else kind)
                    out.cells.append(c)
        else:
            c = copy.deepcopy(cell)
            figure = any("image/png" in o.get("data", {}) or "image/jpeg" in o.get("data", {}) for o in c.outputs)
            if c.metadata.get("stylelab_install"):
                _slide(c, "skip")
            elif figure:
                _slide(c, "subslide")
                c.metadata.setdefault("tags", []).append("remove-input")
                c.outputs = [o for o in c.outputs if o.get("output_type") != "stream"]
            elif "NotImplementedError" in c.source:
                _slide(c, "subslide")
                c.outputs = []
            else:
                _slide(c, "skip")
            out.cells.append(c)
    for i, cell in enumerate(out.cells):
        cell["id"] = f"s{i:04d}"
    return out


def write_deck(executed: Path, dest: Path) -> Path:
    """``dest/<name>.slides.html`` from the executed notebook, loading its assets from ``dest/_static``."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    nb = lecture_cells(nbformat.read(executed, as_version=4))
    nb.metadata.pop("widgets", None)
    c = Config()
    c.SlidesExporter.reveal_url_prefix = "_static/reveal.js"
    c.SlidesExporter.reveal_theme = "white"  # the theme vendor.PARTS copies
    c.SlidesExporter.reveal_scroll = True
    c.SlidesExporter.mathjax_url = "_static/" + vendor.MATHJAX
    c.SlidesExporter.require_js_url = "_static/require.js"
    c.SlidesExporter.jquery_url = "_static/jquery.min.js"
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATE_DIR)]
    c.SlidesExporter.template_name = "lecture"
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    body, _ = SlidesExporter(config=c).from_notebook_node(nb, resources={"metadata": {"name": executed.stem}})
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{executed.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    return out
