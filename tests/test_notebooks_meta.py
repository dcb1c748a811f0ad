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


def test_builder_reads_titled_and_md_cells_as_jupytext_does():
    """The old hand parser swallowed a titled cell or a `[md]` cell into the previous markdown cell."""
    text = ('# %% [markdown]\n# # Title\n\n# %% Load the images\nimages = load()\n\n'
            '# %% [md]\n# Some *prose*.\n\n# %% Show them tags=["nbval-skip"]\nshow(images)\n')
    cells = nbtool.parse(text)
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "markdown", "code"]
    assert ["".join(c["source"]) for c in cells] == ["# Title", "images = load()", "Some *prose*.", "show(images)"]
    assert cells[3]["metadata"] == {"tags": ["nbval-skip"]}
    assert cells[1]["metadata"] == {}  # jupytext's round-trip keys (title, ...) are not carried into the notebook


def test_builder_keeps_slideshow_metadata_from_the_marker_line():
    cells = nbtool.parse('# %% [markdown] slideshow={"slide_type": "skip"}\n# hidden\n\n# %%\nx = 1\n')
    assert cells[0]["metadata"] == {"slideshow": {"slide_type": "skip"}}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_launch_line_and_install_cell(path):
    nb = json.loads(path.read_text())
    head = "".join(nb["cells"][0]["source"]).splitlines()
    urls = nbtool.launch_urls(path.stem, nbtool.course_config())
    assert head[0].startswith("# ") and head[2].startswith("**Run this notebook:**")
    for label, url in urls.items():
        assert f"[{label}]({url})" in head[2]
        assert f"notebooks/{path.stem}.ipynb" in url
    install = nb["cells"][1]
    assert install["cell_type"] == "code" and install["metadata"][nbtool.INSTALL_MARK] is True
    assert nbtool.course_config()["ref"] in "".join(install["source"])


def test_install_cell_does_nothing_where_stylelab_imports_and_installs_where_it_does_not(monkeypatch):
    import importlib.util
    import subprocess as sp

    source = nbtool.install_source(nbtool.course_config())
    calls = []
    monkeypatch.setattr(sp, "run", lambda cmd, **kw: calls.append(cmd))
    exec(compile(source, "install-cell", "exec"), {})
    assert calls == []  # a checkout: stylelab is importable
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "stylelab" else real(name, *a))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(source, "install-cell", "exec"), {})
    ref = nbtool.course_config()["ref"]
    assert calls[0][:2] == ["git", "clone"] and f"--branch={ref}" in calls[0]
    assert calls[1][1:5] == ["-m", "pip", "install", "-q"] and calls[1][-1] == "stylelab-course[course]"


def test_the_pinned_ref_is_this_version():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert nbtool.course_config()["ref"] == f"v{project['version']}"


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
    assert json.loads(out.read_text())["cells"][2]["source"] == ["x = 1"]  # after the title and the install cell
