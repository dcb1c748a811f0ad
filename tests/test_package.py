"""The package's top level: every submodule and subpackage reachable as ``stylelab.<name>`` from a fresh
interpreter, ``import stylelab`` cheap (nothing loaded until used), and the type stub that shows IDEs the lazy names."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "stylelab"
sys.path.insert(0, str(ROOT))

from tools import write_stub  # noqa: E402


def _tree() -> list[str]:
    """Public submodules and subpackages at the top, read from the folder (independently of the package's own listing)."""
    names = [p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_")]
    names += [p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file() and not p.name.startswith("_")]
    return sorted(names)


def _deep_tree() -> list[str]:
    """Every public module and package at any depth, dotted below ``stylelab`` (``features.stats``, ``course.widgets``)."""
    out = []
    for path in PKG.rglob("*.py"):
        parts = path.relative_to(PKG).with_suffix("").parts
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if parts and not any(p.startswith("_") for p in parts):
            out.append(".".join(parts))
    return sorted(out)


def _fresh(code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), STYLELAB_OFFLINE="1", MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_stylelab_loads_nothing():
    got = _fresh("import sys, json, stylelab; "
                 "print(json.dumps([m for m in sys.modules if m.startswith('stylelab.') or m == 'torch']))")
    assert got == [], f"`import stylelab` loaded {got}: submodules must load on first use"


def test_every_submodule_and_subpackage_is_reachable_from_a_fresh_interpreter():
    names = _deep_tree()
    assert {"labels", "methods", "course.widgets", "course.exercises", "tiling", "smoothing.matting",
            "features.stats"} <= set(names)
    code = ("import json, types, stylelab\n"
            f"names = {names!r}\n"
            "bad = {}\n"
            "for n in names:\n"
            "    try:\n"
            "        m = stylelab\n"
            "        for part in n.split('.'):\n"
            "            m = getattr(m, part)  # attribute access only: every package lists its submodules\n"
            "        if not isinstance(m, types.ModuleType) or m.__name__ != 'stylelab.' + n:\n"
            "            bad[n] = repr(m)\n"
            "    except Exception as err:\n"
            "        bad[n] = f'{type(err).__name__}: {err}'\n"
            "print(json.dumps({'bad': bad, 'all': stylelab.__all__, 'dir': dir(stylelab)}))\n")
    got = _fresh(code)
    assert got["bad"] == {}, got["bad"]
    assert set(_tree()) <= set(got["all"]) and got["dir"] == got["all"]


def test_the_top_level_holds_only_the_subpackages_and_submodules():
    """One public path per name: no shortcut such as ``stylelab.gram`` beside ``stylelab.features.stats.gram``."""
    import pytest

    import stylelab

    assert stylelab.__all__ == _tree() == dir(stylelab)
    with pytest.raises(AttributeError, match=r"from stylelab\.methods\.adain import AdaIN"):
        stylelab.AdaIN  # noqa: B018  (a removed shortcut says where the name lives)
    with pytest.raises(AttributeError, match=r"from stylelab\.features\.stats import gram"):
        stylelab.gram  # noqa: B018
    with pytest.raises(AttributeError, match=r"stylelab\.methods\.gatys"):
        stylelab.gatys  # noqa: B018
    for name, module in stylelab._REMOVED.items():  # the message names the module that defines it
        assert getattr(__import__(module, fromlist=["_"]), name) is not None


def test_unknown_names_are_an_attribute_error():
    import pytest

    import stylelab

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        stylelab.nope  # noqa: B018
    with pytest.raises(AttributeError):
        stylelab._private  # noqa: B018


def test_the_type_stub_is_current_and_lists_every_lazy_name():
    stub = (PKG / "__init__.pyi").read_text(encoding="utf-8")
    assert stub == write_stub.stub_text(), "stylelab/__init__.pyi is stale: run python tools/write_stub.py"
    import stylelab

    tree = ast.parse(stub)
    imported = {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names}
    listed = next(ast.literal_eval(node.value) for node in tree.body
                  if isinstance(node, ast.Assign) and node.targets[0].id == "__all__")
    assert imported == set(listed) == set(stylelab.__all__)
    assert set(_tree()) <= imported
    for node in tree.body:  # every import in the stub names a real object at that path
        if isinstance(node, ast.ImportFrom):
            module = __import__(f"stylelab.{node.module}" if node.module else "stylelab", fromlist=["_"])
            for a in node.names:
                assert getattr(stylelab, a.asname) is getattr(module, a.name), (node.module, a.name)


def test_the_stub_tool_notices_a_stale_stub(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "__init__.pyi"
    stale.write_text(write_stub.stub_text().replace('    "wavelets",\n', ""), encoding="utf-8")
    monkeypatch.setattr(write_stub, "STUB", stale)
    monkeypatch.setattr(write_stub, "ROOT", tmp_path.parent)
    assert write_stub.main(["--check"]) == 1 and "stale" in capsys.readouterr().err
