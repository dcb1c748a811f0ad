"""One public import path per name (CONTRIBUTING.md, "Layers"): the module that defines a name is where it is imported from.

The rule, read from the source (no import is run):

* a public module's ``__all__`` lists only names the module defines itself, or that a private module of
  its own package (``methods/_gatys_objective.py``) defines for it: never a name of another public module;
* a public module imports no stylelab name that it does not use (an unused import is a silent second path);
* a package's ``__init__.py`` follows the same rule: it holds code of its own (``stylelab.weights`` is the
  resolver) or none, and never gathers its submodules' names.

The package's top level is no exception: ``stylelab.<name>`` is only a submodule or a subpackage (listed from
the folder; no shortcut such as ``stylelab.gram`` or ``stylelab.AdaIN``), checked here and, against the type
stub, in ``tests/test_package.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "stylelab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split(".")[1:])


MODULES = [p for p in sorted(PKG.rglob("*.py")) if _public(_module_name(p)) and p != PKG / "__init__.py"]


def _defined(tree: ast.Module) -> set[str]:
    """Names bound at the top level of a module by its own code (defs, classes, assignments)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node in tree.body:
            out.add(node.name)
    for node in tree.body:
        stmts = [node] + (list(ast.walk(node)) if isinstance(node, (ast.If, ast.Try)) else [])
        for st in stmts:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(st.name)
            elif isinstance(st, ast.Assign):
                out |= {n.id for t in st.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif isinstance(st, (ast.AnnAssign, ast.AugAssign)) and isinstance(st.target, ast.Name):
                out.add(st.target.id)
    return out


def _stylelab_imports(path: Path, tree: ast.Module):
    """``(bound name, source module, from a private module of this package?)`` of top-level ``from … import``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if not (source == "stylelab" or source.startswith("stylelab.")):
            continue
        private_sibling = source.rpartition(".")[0] == package and source.rpartition(".")[2].startswith("_")
        for a in node.names:
            yield a.asname or a.name, source, private_sibling, node.lineno


def _all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return None


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_all_lists_only_names_defined_here(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _all(tree)
    if names is None:
        return
    own = _defined(tree)
    from_private = {name for name, _, private, _ in _stylelab_imports(path, tree) if private}
    second = [n for n in names if n not in own and n not in from_private]
    assert not second, (f"{_module_name(path)}.__all__ lists names defined elsewhere (a second import path): {second}; "
                        "import them from the module that defines them")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unused_stylelab_import(path):
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    listed = set(_all(tree) or ())
    unused = [f"line {line}: {name} (from {source})" for name, source, private, line in _stylelab_imports(path, tree)
              if name not in used and not (private and name in listed)]
    assert not unused, (f"{_module_name(path)} imports stylelab names it does not use (a silent second path):\n"
                        + "\n".join(unused))


def test_the_rule_sees_a_re_export(tmp_path):
    pkg = tmp_path / "stylelab"
    (pkg / "features").mkdir(parents=True)
    mod = pkg / "features" / "transforms.py"
    mod.write_text("from .linalg import covariance, sym_eig\n\n__all__ = ['wct', 'covariance']\n\n"
                   "def wct(x):\n    return covariance(x)\n")
    tree = ast.parse(mod.read_text())
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        imports = list(_stylelab_imports(mod, tree))
    finally:
        ROOT = saved
    assert [n for n in _all(tree) if n not in _defined(tree)] == ["covariance"]
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert [name for name, *_ in imports if name not in used] == ["sym_eig"]


def test_the_top_level_has_no_second_path():
    """``stylelab/__init__.py`` binds no public name and lists none: ``stylelab.<name>`` is a submodule or nothing."""
    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    public = sorted(n for n in _defined(tree) if not n.startswith("_") and n not in ("annotations",))
    assert public == [], f"stylelab/__init__.py binds public names (a second path beside their module): {public}"
    assert _all(tree) is None
    imported = [a.asname or a.name for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))
                for a in node.names]
    assert set(imported) <= {"annotations", "importlib"}, imported
    import stylelab

    found = {p.stem for p in PKG.glob("*.py")} | {p.name for p in PKG.iterdir() if (p / "__init__.py").is_file()}
    assert set(stylelab.__all__) == {n for n in found if not n.startswith("_")}
