"""Run each course notebook once (fast mode, offline) for the slides and the website, which show its outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

from . import assignments, course


def execute(path: Path, dest: Path, timeout: int = 1200) -> Path:
    """Execute ``path`` in a fresh kernel from the notebooks' folder (as nbval does); write ``dest/<name>.ipynb``.

    The kernel gets :func:`assignments.fast_env` (fast mode, random weights
    allowed and labelled, no downloads); pretrained weights that are installed
    are used. A failing cell stops the build with the notebook's name and the error.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    # figures as outputs (Agg, which the tests use, would draw them nowhere)
    os.environ.update(assignments.fast_env(), MPLBACKEND="module://matplotlib_inline.backend_inline")
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(course.NOTEBOOKS)}}).execute()
    except CellExecutionError as err:
        raise SystemExit(f"{path.name} failed while building the kit:\n{str(err)[-3000:]}") from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nb.metadata.pop("widgets", None)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / path.name
    nbformat.write(nb, out)
    return out
