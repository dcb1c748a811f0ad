"""nbgrader assignments: one per notebook, made from the course notebook, the registry and the instructor files.

For each exercise cell of a course notebook (the stub ``def my_…: raise
NotImplementedError`` followed by ``use("NN.id", …)`` or ``check("NN.id", …)``):

* what comes before the stub stays an ordinary cell;
* the stub becomes an **autograded answer** cell holding the reference solution
  between ``### BEGIN SOLUTION`` / ``### END SOLUTION``; ``generate_assignment``
  puts the course's stub line back (``raise NotImplementedError  # your code here``);
* the rest (the ``use``/``check`` call) becomes an **autograded test** cell worth
  :data:`POINTS` points. In the student's notebook it behaves as before (an
  untouched stub prints a reminder and the notebook runs on with the library's
  function); a hidden test, which nbgrader restores when it autogrades, fails
  an exercise that was not attempted.

Each ``## Questionnaire`` becomes a **manually graded** markdown answer cell (one
point per question) with the answer key of ``instructor/questionnaires/<notebook>.md``
between the solution markers (instructor copy only).
"""

from __future__ import annotations

import ast
import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from . import course

POINTS = 1
STUB = "raise NotImplementedError  # your code here"
CALL = re.compile(r"\b(?:use|check)\(\s*[\"']([0-9a-z]+\.[A-Za-z0-9_]+)[\"']")
COURSE_ID = "stylelab"


def nbgrader_config(root: Path) -> str:
    """``nbgrader_config.py`` of the course directory ``root``."""
    return "\n".join([
        "# nbgrader configuration of the stylelab classroom kit (written by `make classroom`).",
        "c = get_config()  # noqa: F821",
        f"c.CourseDirectory.root = {str(root)!r}",
        f"c.CourseDirectory.course_id = {COURSE_ID!r}",
        f"c.ClearSolutions.code_stub = {{'python': {STUB!r}}}",
        "c.ClearSolutions.text_stub = 'YOUR ANSWERS HERE (one per question, numbered as the questions)'",
        "c.ExecutePreprocessor.timeout = 1200",
        "c.Execute.timeout = 1200",
        "",
    ])


def _meta(grade_id: str, *, solution: bool, grade: bool, points: int | None = None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution,
         "task": False}
    if grade:
        m["points"] = points
    return {"nbgrader": m}


def _code(source: str, meta: dict | None = None):
    return nbformat.v4.new_code_cell(source.strip("\n"), metadata=meta or {})


def split_exercise(source: str, ex_id: str, solution) -> tuple[str, str, str]:
    """(before, answer, test) sources of one exercise cell; the answer holds the solution between the markers."""
    tree = ast.parse(source)
    stubs = [s for s in tree.body if isinstance(s, ast.FunctionDef) and any(
        isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(s))]
    if len(stubs) != 1:
        raise SystemExit(f"exercise {ex_id}: its cell should hold exactly one stub raising NotImplementedError, "
                         f"found {len(stubs)}")
    stub = stubs[0]
    lines = source.split("\n")
    start = (stub.decorator_list[0].lineno if stub.decorator_list else stub.lineno) - 1
    before, answer, after = lines[:start], lines[start:stub.end_lineno], lines[stub.end_lineno:]
    raise_line = next(i for i, ln in enumerate(answer) if "NotImplementedError" in ln and ln.strip().startswith("raise"))
    indent = answer[raise_line][: len(answer[raise_line]) - len(answer[raise_line].lstrip())]
    params = [a.arg for a in stub.args.posonlyargs + stub.args.args + stub.args.kwonlyargs]
    body = ["### BEGIN SOLUTION", *course.solution_body(solution, params), "### END SOLUTION"]
    answer[raise_line:raise_line + 1] = [indent + ln if ln else "" for ln in body]
    test = "\n".join(after).strip("\n")
    test += ("\n### BEGIN HIDDEN TESTS\n"
             "from stylelab.course.exercises import check as _check\n"
             f"assert _check({ex_id!r}, {stub.name}, quiet=True), 'exercise {ex_id} was not attempted'\n"
             "### END HIDDEN TESTS")
    return "\n".join(before), "\n".join(answer), test


def split_questionnaire(text: str, name: str) -> list:
    """A markdown cell holding ``## Questionnaire`` → [before + questions, graded answer cell, rest]."""
    m = course.QUESTIONNAIRE.search(text)
    rest = re.search(r"^## ", text[m.end():], re.M)
    cut = m.end() + rest.start() if rest else len(text)
    asked = course.questions(text)
    key = course.answer_key(name)
    if key is None:
        print(f"warning: no answer key for {name}'s questionnaire: write instructor/questionnaires/{name}.md "
              f"({len(asked)} numbered answers)", file=sys.stderr)
        key_text = f"(No answer key yet: write `instructor/questionnaires/{name}.md`.)"
    elif len(key) != len(asked):
        raise SystemExit(f"instructor/questionnaires/{name}.md has {len(key)} answers for {len(asked)} questions")
    else:
        key_text = "\n".join(f"{i}. {a}" for i, a in enumerate(key, 1))
    answer = ("**Your answers** (numbered as the questions):\n\n### BEGIN SOLUTION\n**Answer key.**\n\n"
              f"{key_text}\n### END SOLUTION")
    cells = [nbformat.v4.new_markdown_cell(text[:cut].rstrip("\n")),
             nbformat.v4.new_markdown_cell(answer, metadata=_meta(f"{name[:3].rstrip('_')}_questionnaire",
                                                                  solution=True, grade=True, points=len(asked)))]
    if text[cut:].strip():
        cells.append(nbformat.v4.new_markdown_cell(text[cut:].strip("\n")))
    return cells


def source_notebook(path: Path, exercises: dict) -> tuple[nbformat.NotebookNode, list[str]]:
    """The nbgrader source version of course notebook ``path`` and the exercise ids it grades."""
    nb = nbformat.read(path, as_version=4)
    out = copy.deepcopy(nb)
    out.cells = []
    graded = []
    cells = list(nb.cells)
    for k, cell in enumerate(cells):
        text = cell.source
        if cell.cell_type == "code" and "NotImplementedError" in text and not CALL.search(text):
            nxt = next((c for c in cells[k + 1:] if c.cell_type == "code"), None)
            if nxt is not None and CALL.search(nxt.source) and "NotImplementedError" not in nxt.source:
                nxt.source = text + "\n\n\n" + nxt.source  # a stub and its check in two cells: one exercise
                continue
        ids = CALL.findall(text) if cell.cell_type == "code" and "NotImplementedError" in text else []
        if ids:
            ex_id = ids[-1]
            if ex_id not in exercises:
                raise SystemExit(f"{path.name}: exercise {ex_id!r} is not registered in stylelab.course.exercises")
            before, answer, test = split_exercise(text, ex_id, exercises[ex_id][1])
            gid = ex_id.replace(".", "_")
            if before.strip():
                out.cells.append(_code(before))
            out.cells.append(_code(answer, _meta(f"ex_{gid}_answer", solution=True, grade=False)))
            out.cells.append(_code(test, _meta(f"ex_{gid}", solution=False, grade=True, points=POINTS)))
            graded.append(ex_id)
        elif cell.cell_type == "markdown" and course.QUESTIONNAIRE.search(text):
            out.cells += split_questionnaire(text, path.stem)
        else:
            out.cells.append(copy.deepcopy(cell))
    for i, cell in enumerate(out.cells):
        cell["id"] = f"{path.stem[:3].rstrip('_')}-{i:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out, graded


def write_sources(root: Path) -> dict[str, list[str]]:
    """``root/source/<nb>/<nb>.ipynb`` for every course notebook; returns the graded exercise ids per notebook."""
    exercises = course.exercises()
    graded = {}
    for path in course.notebooks():
        nb, ids = source_notebook(path, exercises)
        folder = root / "source" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / path.name)
        graded[path.stem] = ids
    unused = sorted(set(exercises) - {i for ids in graded.values() for i in ids})
    if unused:
        raise SystemExit(f"registered exercises that no notebook asks: {', '.join(unused)}")
    (root / "nbgrader_config.py").write_text(nbgrader_config(root), encoding="utf-8")
    return graded


def nbgrader(root: Path, *args: str) -> None:
    """Run ``nbgrader ARGS`` in the course directory ``root`` (the notebooks in fast mode, offline)."""
    env = dict(os.environ, **fast_env())
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def fast_env() -> dict[str, str]:
    """The notebooks' CI settings: fast mode, random weights allowed (labelled), no downloads, Agg, the checkout first.

    ``STYLELAB_FAST`` is only set when the caller has not chosen (``STYLELAB_FAST=`` empty runs full mode)."""
    path = os.pathsep.join(p for p in (str(course.ROOT), os.environ.get("PYTHONPATH", "")) if p)
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH: the environment's own
    return {"STYLELAB_FAST": os.environ.get("STYLELAB_FAST", "1"), "STYLELAB_RANDOM_WEIGHTS": "1", "STYLELAB_OFFLINE": "1", "MPLBACKEND": "Agg",
            "PYTHONPATH": path, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def release(root: Path, names: list[str]) -> None:
    """``nbgrader generate_assignment`` for each notebook: ``root/release/<nb>/<nb>.ipynb``."""
    shutil.rmtree(root / "release", ignore_errors=True)
    for name in names:
        nbgrader(root, "generate_assignment", name, "--force", "--CourseDirectory.db_url=sqlite:///gradebook.db")


def collect(root: Path, student: str, name: str, notebook_dir: Path) -> None:
    """Put ``notebook_dir/<name>.ipynb`` where nbgrader looks for ``student``'s submission of ``name``."""
    dest = root / "submitted" / student / name
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copy2(notebook_dir / f"{name}.ipynb", dest / f"{name}.ipynb")


def autograde(root: Path, name: str, students: list[str]) -> dict[str, tuple[float, float]]:
    """Autograde the collected submissions of ``name``: ``{student: (autograded score, its maximum)}``."""
    for student in students:
        nbgrader(root, "db", "student", "add", student)
    nbgrader(root, "autograde", name, "--force")
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        subs = {s: gb.find_submission(name, s) for s in students}
        return {s: (float(sub.code_score), float(sub.max_code_score)) for s, sub in subs.items()}
