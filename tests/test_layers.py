"""The dependency direction of stylelab, checked by reading every module's imports (no import is run).

A module's layer is its folder (CONTRIBUTING.md, "Layers"), bottom to top:

    base      the modules at the top of the package: device, io, validate, viz, memory, metrics …
    ops       features/ (maths on features and images), labels/, smoothing/ (the sparse solvers)
    tiling    tiling/: the memory-planned tiled transfer (it hands content statistics to the maths below)
    media     media/: the course images, video frames, optical-flow warping
    weights   weights/: the layer tables, the checkpoint table, package formats, the resolver
    nets      nets/: the networks
    train     train/: the trainer shared by the feed-forward methods
    methods   methods/: one module per method; course/: fast mode, the stand-ins built from the methods
              (which a method may use: ``linear`` runs on them), explorers, exercises
    top       bench/, cli/ (the command)

A module may import its own layer and the layers below. One derived exception, no hand map: a module
that imports no stylelab module stands on nothing and may be imported from anywhere (the method
registry ``stylelab.methods``, read by ``memory`` and ``tiling``). The package's lazy facade
``stylelab/__init__.py`` stands at the top. A new module gets its layer from the folder it is put
in; a new folder must be given a rank in ``RANKS``. No import cycle at any depth, and no import of a
stylelab module inside a function (the way cycles used to be dodged); optional heavy third-party
packages may still be imported inside functions, and an optional stylelab module inside
``try: … except ImportError`` (a feature that needs a module not every checkout has).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "stylelab"

#: The layers, bottom to top, and the folders that form each (``base``: the top-level modules).
RANKS = (
    ("base", ("base",)),
    ("ops", ("features", "labels", "smoothing")),
    ("tiling", ("tiling",)),
    ("media", ("media",)),
    ("weights", ("weights",)),
    ("nets", ("nets",)),
    ("train", ("train",)),
    ("methods", ("methods", "course")),
    ("top", ("bench", "cli", "top")),
)
RANK_OF_FOLDER = {folder: i for i, (_, folders) in enumerate(RANKS) for folder in folders}
NAME_OF_RANK = [name for name, _ in RANKS]
#: At most this many modules at the top of the package (the base layer, ``__init__`` and ``_lazy``).
MAX_TOP_LEVEL = 12


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def folder(module: str) -> str:
    """The folder that gives ``module`` its layer: ``stylelab.features.stats`` → ``features``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "top"  # the package's lazy facade
    if len(parts) == 2 and not (PKG / parts[1] / "__init__.py").is_file():
        return "base"  # a module at the top of the package
    return parts[1]


def rank(module: str) -> int:
    """The module's layer as a number (0: bottom); see the module docstring for the derived exception."""
    if module in GRAPH and not _stands_on(module):
        return 0  # imports nothing from stylelab: it stands on nothing
    where = folder(module)
    if where not in RANK_OF_FOLDER:
        raise KeyError(f"stylelab/{where}/ has no layer: give the folder a rank in tests/test_layers.py's RANKS "
                       "(and a line in CONTRIBUTING.md's Layers)")
    return RANK_OF_FOLDER[where]


#: The package machinery every ``__init__`` may use (lazy submodules); it imports nothing itself.
MACHINERY = "stylelab._lazy"


def _stands_on(module: str) -> set[str]:
    """The stylelab modules ``module`` imports, besides the package machinery."""
    return {t for t, _, _ in GRAPH[module]} - {MACHINERY}


def layer(module: str) -> str:
    return NAME_OF_RANK[rank(module)]


def _imports(path: Path):
    """``(imported stylelab module, line, inside a function?)`` for every import in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def optional(node) -> bool:  # try: import … except ImportError: the module is optional
        return isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers)

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if optional(child):
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            targets = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    origin = ".".join(base + ([child.module] if child.module else []))
                else:
                    origin = child.module or ""
                for alias in child.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{origin}.{alias.name}"
                    targets.append(sub if _is_module(sub) else origin)
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                  and child.func.attr == "import_module" and child.args
                  and isinstance(child.args[0], ast.Constant) and isinstance(child.args[0].value, str)):
                targets = [child.args[0].value]
            for t in targets:
                if t == "stylelab" or t.startswith("stylelab."):
                    found.append((t, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


MODULES = sorted(PKG.rglob("*.py"))
GRAPH = {_module_name(p): _imports(p) for p in MODULES}


def test_every_module_is_read():
    assert len(GRAPH) > 30 and "stylelab.weights" in GRAPH and "stylelab.methods.wct2" in GRAPH


def test_every_folder_has_a_layer():
    folders = {folder(m) for m in GRAPH}
    assert folders <= set(RANK_OF_FOLDER), (
        f"folders without a layer: {sorted(folders - set(RANK_OF_FOLDER))}: give each a rank in RANKS")
    assert not set(RANK_OF_FOLDER) - folders - {"top"}, "RANKS names folders that do not exist"


def test_few_modules_at_the_top():
    top = sorted(p.name for p in PKG.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, f"{len(top)} modules at the top of stylelab/ (at most {MAX_TOP_LEVEL}): {top}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    module = _module_name(path)
    bad = [
        f"line {line}: {module} ({layer(module)}) imports {target} ({layer(target)})"
        for target, line, _ in GRAPH[module]
        if rank(target) > rank(module)
    ]
    assert not bad, "imports against the layer order (CONTRIBUTING.md, Layers):\n" + "\n".join(bad)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_stylelab_import_inside_a_function(path):
    module = _module_name(path)
    if module == "stylelab":
        pytest.skip("the package's __getattr__ loads submodules on first use, by design (`import stylelab` stays cheap)")
    bad = [f"line {line}: imports {target}" for target, line, inside in GRAPH[module] if inside]
    assert not bad, (
        f"{module} imports stylelab modules inside functions; import them at the top "
        "(if that makes a cycle, the code is in the wrong layer):\n" + "\n".join(bad)
    )


def test_the_method_registry_imports_no_stylelab_module():
    """``stylelab.methods`` (the registry) is read by ``memory`` and ``tiling``: it must stand on nothing."""
    assert _stands_on("stylelab.methods") == set() and GRAPH[MACHINERY] == []
    assert layer("stylelab.methods") == "base" and layer("stylelab.methods.adain") == "methods"


def test_layers_come_from_folders():
    assert layer("stylelab.device") == "base" and layer("stylelab.features.transforms") == "ops"
    assert layer("stylelab.cli") == "top" and layer("stylelab.methods.wct") == "methods"


def test_weights_read_only_weights():
    """The resolver, the checkpoint table, the layouts and the package formats stand on nothing else."""
    for module, imps in GRAPH.items():
        if folder(module) == "weights":
            outside = {t for t, _, _ in imps if folder(t) != "weights" and t != MACHINERY}
            assert not outside, (module, outside)
    assert {t for t, _, _ in GRAPH["stylelab.weights.layout"]} == set()


def _edges() -> dict[str, set[str]]:
    """Who imports whom. Importing ``stylelab.a.b`` runs ``stylelab/a/__init__.py`` first, so an importer
    outside ``stylelab.a`` also depends on that ``__init__`` (a module inside the package already runs
    after it, or while it runs, which Python allows as long as it uses none of its names: an explicit edge)."""
    edges = {}
    for m, imps in GRAPH.items():
        out = set()
        for t, _, _ in imps:
            parts = t.split(".")
            for i in range(2, len(parts) + 1):
                anc = ".".join(parts[:i])
                if anc in GRAPH and anc != m and not (i < len(parts) and m.startswith(anc + ".")):
                    out.add(anc)
        edges[m] = out
    return edges


def _cycle(edges) -> list[str] | None:
    state: dict[str, int] = {}

    def walk(node, path):
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for m in sorted(edges):
        if m not in state:
            found = walk(m, [m])
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = _cycle(_edges())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_test_sees_a_violation(tmp_path):
    """The checker itself: a function-level import, an upward import and a cycle are reported."""
    global ROOT
    pkg = tmp_path / "stylelab"
    (pkg / "features").mkdir(parents=True)
    (pkg / "nets").mkdir()
    for init in (pkg / "__init__.py", pkg / "features" / "__init__.py", pkg / "nets" / "__init__.py"):
        init.write_text("")
    (pkg / "nets" / "encoders.py").write_text("")
    (pkg / "features" / "stats.py").write_text("from ..nets import encoders\n\ndef f():\n    from ..nets.encoders import x\n")
    saved, ROOT = ROOT, tmp_path
    try:
        found = _imports(pkg / "features" / "stats.py")
    finally:
        ROOT = saved
    assert ("stylelab.nets.encoders", 1, False) in found and ("stylelab.nets.encoders", 4, True) in found
    assert RANK_OF_FOLDER[folder("stylelab.nets.encoders")] > RANK_OF_FOLDER[folder("stylelab.features.stats")]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


#: The longest a module may be (CONTRIBUTING.md: one concept per module); split by moving code, not by re-exporting.
MAX_LINES = 400


def test_no_module_is_longer_than_the_limit():
    long = {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them: a private module `_x.py` of the same folder): {long}"
