"""What the kit is built from, read from the tree and the registries (never from a list kept here).

* :func:`notebooks` — every ``notebooks/NN_*.ipynb`` (built from ``notebooks/src``);
* :func:`exercises` — every registered exercise (``stylelab.course.exercises``) with its
  reference solution (``instructor/solutions``);
* :func:`solution_body` — a solution function's body as source lines that run
  inside the student's stub (the imports and module helpers it needs included);
* :func:`answer_key` — a notebook's questionnaire answers (``instructor/questionnaires/<notebook>.md``).
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
KEYS = ROOT / "instructor" / "questionnaires"
#: A questionnaire is the ``## Questionnaire`` section of a markdown cell: a numbered list of questions.
QUESTIONNAIRE = re.compile(r"^## Questionnaire\s*$", re.M)
QUESTION = re.compile(r"^(\d+)\. ", re.M)


def notebooks() -> list[Path]:
    """The course notebooks, in course order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))


def exercises() -> dict[str, tuple[object, object]]:
    """``{exercise id: (Exercise, solution function)}`` for every registered exercise."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from stylelab.course import exercises as X

    from instructor.solutions import SOLUTIONS

    X._load_all()
    missing = sorted(set(X.EXERCISES) - set(SOLUTIONS))
    if missing:
        raise SystemExit(f"no reference solution for {', '.join(missing)}: add it to instructor/solutions/nbNN.py")
    return {i: (X.EXERCISES[i], SOLUTIONS[i]) for i in sorted(X.EXERCISES)}


def solution_body(fn, params: list[str]) -> list[str]:
    """The body of solution ``fn`` (docstring dropped) to run inside a stub whose parameters are ``params``.

    The module-level imports, helper functions and constants of the solution's
    module that the body uses (and that they use) come first, as local
    statements, so the body runs in any notebook namespace. Parameters that the
    stub names differently are bound to the solution's names.
    """
    module = sys.modules[fn.__module__]
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    func = tree.body[0]
    sol_params = [a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs]
    if len(sol_params) != len(params):
        raise SystemExit(f"{fn.__module__}.{fn.__name__}{tuple(sol_params)} and the notebook's stub {tuple(params)} "
                         "take different arguments: make them agree")
    body = func.body[1:] if _is_docstring(func.body[0]) else func.body
    mod_tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    defs = _module_bindings(mod_tree)
    needed: list[ast.stmt] = []
    _collect(body, defs, needed, set(sol_params))
    src = Path(module.__file__).read_text(encoding="utf-8").splitlines()
    lines = [f"{s} = {p}" for s, p in zip(sol_params, params) if s != p]
    for stmt in sorted(needed, key=lambda s: s.lineno):
        lines += textwrap.dedent("\n".join(src[stmt.lineno - 1:stmt.end_lineno])).splitlines()
    fsrc = textwrap.dedent(inspect.getsource(fn)).splitlines()
    first = body[0].lineno - 1
    lines += textwrap.dedent("\n".join(fsrc[first:])).splitlines()
    return lines


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _module_bindings(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level name → the statement that binds it (imports, defs, classes, simple assignments)."""
    out: dict[str, ast.stmt] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                out[(alias.asname or alias.name).split(".")[0]] = stmt
        elif isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            out[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = stmt
    return out


def _collect(nodes, defs: dict, needed: list, local: set) -> None:
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id in defs and sub.id not in local:
                stmt = defs[sub.id]
                if stmt not in needed:
                    needed.append(stmt)
                    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.Assign)):
                        _collect([stmt], defs, needed, local)


def questions(markdown: str) -> list[str]:
    """The numbered questions of a cell's ``## Questionnaire`` section ([] without one)."""
    m = QUESTIONNAIRE.search(markdown)
    if not m:
        return []
    section = re.split(r"^## ", markdown[m.end():], maxsplit=1, flags=re.M)[0]
    return [q.strip() for q in QUESTION.split(section)[2::2]]


def answer_key(notebook: str) -> list[str] | None:
    """The numbered answers of ``instructor/questionnaires/<notebook>.md`` (None when there is no key yet)."""
    path = KEYS / f"{notebook}.md"
    if not path.exists():
        return None
    text = path.read_text(encoding="utf-8")
    return [a.strip() for a in QUESTION.split(text)[2::2]]
