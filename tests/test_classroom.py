"""The classroom kit (README, "For instructors"): assignments, release, autograding, slides and site.

The kit is built once for the module with the command the README gives
(``python -m tools.classroom build``, what ``make classroom`` runs) into a
temporary folder; the notebooks run in fast mode, offline.
"""

import csv
import html.parser
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tools.classroom import assignments, course, slides

ROOT = Path(__file__).resolve().parent.parent
NAMES = [p.stem for p in course.notebooks()]
EXERCISES = course.exercises()


def _run(*args, timeout=3600):
    result = subprocess.run([sys.executable, "-m", "tools.classroom", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classroom")
    t0 = time.perf_counter()
    out = _run("--kit", str(folder), "build")
    print(f"kit built in {time.perf_counter() - t0:.0f} s")
    assert "classroom kit built" in out
    return folder


# ---------------------------------------------------------------- fast unit checks (no kit)
def _solution(features, eps):
    import math

    return features * math.sqrt(eps)


def test_exercise_cell_splits_into_answer_and_test_with_the_solution_between_the_markers():
    source = ('from stylelab.course.exercises import use\n\n\ndef my_thing(x, epsilon=1e-5):\n    """Doc."""\n'
              '    raise NotImplementedError  # your code here\n\n\nthing = use("99.thing", my_thing, fallback=abs)\n')
    before, answer, test = assignments.split_exercise(source, "99.thing", _solution)
    assert before.strip() == "from stylelab.course.exercises import use"
    lines = answer.splitlines()
    assert lines[0] == "def my_thing(x, epsilon=1e-5):" and lines[1] == '    """Doc."""'
    assert lines[2] == "    ### BEGIN SOLUTION" and lines[-1] == "    ### END SOLUTION"
    body = "\n".join(lines[3:-1])
    assert "features = x" in body and "eps = epsilon" in body  # the stub's names bound to the solution's
    assert "import math" in body and "return features * math.sqrt(eps)" in body
    assert "NotImplementedError" not in answer
    assert test.startswith('thing = use("99.thing", my_thing, fallback=abs)')
    assert "### BEGIN HIDDEN TESTS" in test and "_check('99.thing', my_thing, quiet=True)" in test
    # the answer cell runs and computes the solution
    ns = {}
    exec(answer, ns)
    assert ns["my_thing"](4.0, 0.25) == 2.0


def test_stub_and_check_in_two_cells_make_one_exercise(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Demo"),
                nbformat.v4.new_code_cell("def my_gram(features):\n    raise NotImplementedError  # your code here"),
                nbformat.v4.new_markdown_cell("Now check it."),
                nbformat.v4.new_code_cell('check("01.gram", my_gram)')]
    path = tmp_path / "99_demo.ipynb"
    nbformat.write(nb, path)
    out, graded = assignments.source_notebook(path, EXERCISES)
    assert graded == ["01.gram"]
    kinds = [(c.cell_type, c.metadata.get("nbgrader", {}).get("grade_id")) for c in out.cells]
    assert kinds == [("markdown", None), ("markdown", None), ("code", "ex_01_gram_answer"), ("code", "ex_01_gram")]


def test_exercise_cell_without_exactly_one_stub_is_refused():
    with pytest.raises(SystemExit, match="exactly one stub"):
        assignments.split_exercise('check("99.x", f)\n', "99.x", _solution)


def test_questionnaire_becomes_a_manually_graded_cell_with_points_per_question():
    text = "## What to remember\n\n* a\n\n## Questionnaire\n\n1. Why?\n2. How?\n\n## Further reading\n\n* b"
    cells = assignments.split_questionnaire(text, "99_missing_key")
    assert [c.cell_type for c in cells] == ["markdown"] * 3
    assert cells[0].source.endswith("2. How?") and cells[2].source.startswith("## Further reading")
    meta = cells[1].metadata["nbgrader"]
    assert meta["solution"] and meta["grade"] and meta["points"] == 2
    assert "### BEGIN SOLUTION" in cells[1].source


def test_lecture_metadata_headings_figures_notes_and_skipped_setup():
    nb = nbformat.v4.new_notebook()
    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\n* goal one\n\nSome prose to say aloud."),
        nbformat.v4.new_code_cell("import torch", metadata={}),
        nbformat.v4.new_markdown_cell("## A section\n\nProse only.\n\n### A sub-idea\n\n$$x^2$$"),
        nbformat.v4.new_code_cell("show()", outputs=[png]),
        nbformat.v4.new_code_cell("kept()", metadata={"slideshow": {"slide_type": "fragment"}}),
    ]
    out = slides.lecture_cells(nb)
    kinds = [(c.cell_type, c.metadata["slideshow"]["slide_type"]) for c in out.cells]
    assert kinds == [("markdown", "slide"), ("markdown", "notes"), ("code", "skip"), ("markdown", "slide"),
                     ("markdown", "notes"), ("markdown", "subslide"), ("code", "subslide"), ("code", "fragment")]
    assert out.cells[1].source == "Some prose to say aloud."
    assert "remove-input" in out.cells[6].metadata["tags"]


def test_every_questionnaire_has_an_answer_key_with_one_answer_per_question():
    for path in course.notebooks():
        asked = [q for c in nbformat.read(path, 4).cells if c.cell_type == "markdown" for q in course.questions(c.source)]
        if asked:
            key = course.answer_key(path.stem)
            assert key is not None, f"write instructor/questionnaires/{path.stem}.md ({len(asked)} numbered answers)"
            assert len(key) == len(asked), path.stem
            assert all(len(a) > 40 for a in key), path.stem  # answers, not placeholders


# ---------------------------------------------------------------- the built kit
def test_kit_has_every_part_for_every_notebook(kit):
    for name in NAMES:
        assert (kit / "source" / name / f"{name}.ipynb").exists()
        assert (kit / "release" / name / f"{name}.ipynb").exists()
        assert (kit / "slides" / f"{name}.slides.html").exists()
        assert (kit / "site" / "notebooks" / f"{name}.html").exists()
    assert (kit / "site" / "index.html").exists()


def test_graded_cells_are_the_registered_exercises(kit):
    graded, manual = [], []
    for name in NAMES:
        nb = nbformat.read(kit / "source" / name / f"{name}.ipynb", as_version=4)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and not meta.get("solution"):
                assert cell.cell_type == "code" and meta["points"] == assignments.POINTS
                graded.append(meta["grade_id"])
            elif meta.get("grade") and meta.get("solution"):
                manual.append(name)
    assert len(graded) == len(EXERCISES)
    assert sorted(graded) == sorted("ex_" + i.replace(".", "_") for i in EXERCISES)
    with_questionnaire = [n for n in NAMES if any(course.QUESTIONNAIRE.search(c.source) for c in
                                                  nbformat.read(course.NOTEBOOKS / f"{n}.ipynb", 4).cells)]
    assert manual == with_questionnaire


def _graded(kit, name):
    """grade ids of the autograded test cells of ``name``'s source notebook."""
    nb = nbformat.read(kit / "source" / name / f"{name}.ipynb", 4)
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _instructor_only_lines(kit, name):
    """Lines inside the solution and hidden-test regions of the instructor copy that the course notebook lacks."""
    course_nb = nbformat.read(course.NOTEBOOKS / f"{name}.ipynb", 4)
    course_text = "\n".join(c.source for c in course_nb.cells)
    src = nbformat.read(kit / "source" / name / f"{name}.ipynb", 4)
    lines, inside = set(), False
    for cell in src.cells:
        for line in cell.source.splitlines():
            s = line.strip()
            if s.startswith("### BEGIN"):
                inside = True
            elif s.startswith("### END"):
                inside = False
            elif inside and len(s) > 8 and s not in course_text:
                lines.add(s)
    return lines


def test_no_release_notebook_contains_a_solution_line(kit):
    for name in NAMES:
        nb = nbformat.read(kit / "release" / name / f"{name}.ipynb", 4)
        text = "\n".join(c.source for c in nb.cells)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text and "HIDDEN TESTS" not in text
        secret = _instructor_only_lines(kit, name)
        assert secret or not _graded(kit, name)
        leaked = [s for s in secret if s in text]
        assert not leaked, f"{name}: {leaked[:3]}"
        assert text.count("raise NotImplementedError  # your code here") == len(_graded(kit, name))


def test_release_command_regenerates_one_student_copy(kit):
    name = NAMES[-1]
    path = kit / "release" / name / f"{name}.ipynb"
    path.unlink()
    out = _run("--kit", str(kit), "release", name)
    assert str(path) in out and path.exists()
    assert "BEGIN SOLUTION" not in path.read_text()


def test_autograde_gives_full_marks_to_the_instructor_and_zero_to_the_untouched_release(kit, tmp_path):
    for name in NAMES:
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy2(kit / "source" / name / f"{name}.ipynb", folder / "instructor.ipynb")
        shutil.copy2(kit / "release" / name / f"{name}.ipynb", folder / "untouched.ipynb")
        _run("--kit", str(kit), "grade", name, str(folder))
        with open(kit / f"grades-{name}.csv") as f:
            rows = {r[0]: (float(r[1]), float(r[2])) for r in list(csv.reader(f))[1:]}
        n = len(_graded(kit, name))
        assert rows["instructor"] == (n * assignments.POINTS, n * assignments.POINTS), name
        assert rows["untouched"] == (0.0, n * assignments.POINTS), name
        # the untouched release ran end to end: the only errors are the graded cells' not-attempted checks
        auto = nbformat.read(kit / "autograded" / "untouched" / name / f"{name}.ipynb", 4)
        for cell in auto.cells:
            errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
            if errors:
                assert cell.metadata.get("nbgrader", {}).get("grade"), (name, cell.source[:200])
                assert "was not attempted" in errors[0].evalue, (name, errors[0].evalue)


class _Assets(html.parser.HTMLParser):
    """The URLs a page loads (scripts, styles, images, frames), not the links a reader may follow."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "video", "audio", "embed"} and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or "") + "icon preload":
            self.urls.append(a["href"])


_EXTERNAL = re.compile(r"^(https?:)?//", re.I)
_CSS_URL = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", re.I)
_JS_URL = re.compile(r"""(?:import\s[^;]*?from\s*|require\(\s*\[?\s*|src\s*=\s*)['"]((?:https?:)?//[^'"]+)""", re.I)


def _external_assets(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    bad = _CSS_URL.findall(text) + _JS_URL.findall(text)
    if path.suffix == ".html":
        p = _Assets()
        p.feed(text)
        bad += [u for u in p.urls if _EXTERNAL.match(u)]
    return bad


def test_no_deck_or_site_page_loads_an_asset_from_another_host(kit):
    checked = 0
    for folder in (kit / "slides", kit / "site"):
        for path in folder.rglob("*"):
            if path.suffix in {".html", ".css"} and "mathjax" not in path.parts:
                assert not _external_assets(path), (path, _external_assets(path)[:3])
                checked += 1
    assert checked > len(NAMES) * 2
    # and the check does fire on what nbconvert and myst-nb write by default
    probe = kit / "probe.html"
    probe.write_text('<script src="https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"></script>'
                     "<style>@import url(https://fonts.example.org/x.css);</style>")
    assert set(_external_assets(probe)) == {"https://unpkg.com/reveal.js@4.0.2/dist/reveal.js",
                                             "https://fonts.example.org/x.css"}


def test_decks_have_notes_and_local_reveal(kit):
    for name in NAMES:
        deck = (kit / "slides" / f"{name}.slides.html").read_text()
        assert '"_static/reveal.js/dist/reveal.js"' in deck and 'class="notes"' in deck
    for asset in ("reveal.js/dist/reveal.js", "reveal.js/plugin/notes/notes.js", "mathjax/MathJax.js", "require.js"):
        assert (kit / "slides" / "_static" / asset).exists()


def test_site_shows_every_figure_and_has_launch_buttons(kit):
    for name in NAMES:
        executed = nbformat.read(kit / "executed" / f"{name}.ipynb", 4)
        figures = sum(1 for c in executed.cells if c.cell_type == "code" for o in c.outputs
                      if "image/png" in o.get("data", {}))
        page = (kit / "site" / "notebooks" / f"{name}.html").read_text()
        assert page.count('src="../_images/') >= figures, name
        for where in ("colab.research.google.com", "mybinder.org", "git-pull?repo="):
            assert where in page, (name, where)


def test_publish_and_present_serve_the_built_kit(kit, tmp_path):
    _run("--kit", str(kit), "publish", str(tmp_path / "www"))
    assert (tmp_path / "www" / "index.html").exists()
    assert (tmp_path / "www" / "notebooks" / f"{NAMES[0]}.html").exists()
    port = 8765
    proc = subprocess.Popen([sys.executable, "-m", "tools.classroom", "--kit", str(kit), "present", "--port",
                             str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/{NAMES[0]}.slides.html", timeout=2) as r:
                    assert r.status == 200 and b"reveal" in r.read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the slides server did not answer")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_static/reveal.js/dist/reveal.js", timeout=2) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_readme_gives_each_instructor_command():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## For instructors", 1)[1].split("\n## ", 1)[0]
    for command in ("make classroom", "make classroom-release", "make classroom-grade", "make classroom-present", "make classroom-publish"):
        assert command in section, command
    makefile = (ROOT / "Makefile").read_text()
    for target in ("classroom", "classroom-release", "classroom-grade", "classroom-present", "classroom-publish"):
        assert re.search(rf"^{target}:", makefile, re.M), target

