"""Notebooks are built from their sources, committed stripped, and follow the conventions."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))

from tools import notebooks as nbtool  # noqa: E402


def test_there_is_a_start_here_notebook():
    assert (ROOT / "notebooks" / "00_start_here.ipynb") in NOTEBOOKS


def test_every_notebook_is_built_from_its_source():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "notebooks.py"), "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    sources = {p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")}
    assert {p.stem for p in NOTEBOOKS} == sources


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped_and_valid(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: a code cell has stored outputs"
            assert cell.execution_count is None
    assert "widgets" not in nb.metadata
    # nbval's trap: a checked cell without stored output silently passes
    for cell in nb.cells:
        assert "NBVAL_CHECK_OUTPUT" not in cell.source and "nbval-check-output" not in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_goals_and_closes_with_references(path):
    nb = json.loads(path.read_text())
    first = "".join(nb["cells"][0]["source"])
    assert nb["cells"][0]["cell_type"] == "markdown" and first.lstrip().startswith("#")
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown").lower()
    assert "you will learn" in text or "what you will" in text


def test_builder_parses_markdown_code_and_tags():
    cells = nbtool.parse('# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n\n# %% tags=["nbval-skip"]\ny = 2\n')
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]
    assert "".join(cells[0]["source"]) == "# Title\ntext"
    assert cells[2]["metadata"]["tags"] == ["nbval-skip"]


def test_builder_never_overwrites_a_notebook_someone_ran(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "99_demo.py").write_text("# %% [markdown]\n# # Demo\n\n# %%\nx = 1\n")
    out = tmp_path / "99_demo.ipynb"
    ran = {"cells": [{"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [], "source": "x = 2"}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    out.write_text(json.dumps(ran))
    monkeypatch.setattr(nbtool, "SRC", src)
    monkeypatch.setattr(nbtool, "OUT", tmp_path)
    monkeypatch.setattr(nbtool, "ROOT", tmp_path)
    nbtool.main(["build"])
    assert json.loads(out.read_text()) == ran
    nbtool.main(["build", "--force"])
    assert json.loads(out.read_text())["cells"][1]["source"] == ["x = 1"]
