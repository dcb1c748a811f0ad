"""The classroom kit: assignments, slides and the course website, built from the one set of sources.

``make classroom`` (``python -m tools.classroom build``) reads the course
notebooks (``notebooks/*.ipynb``, built from ``notebooks/src/*.py``), the
exercise registry (``stylelab.course.exercises``), the reference solutions
(``instructor/solutions``) and the questionnaire answer keys
(``instructor/questionnaires``), and writes ``build/classroom/``:

* ``source/<notebook>/<notebook>.ipynb`` — nbgrader source notebooks
  (:mod:`tools.classroom.assignments`);
* ``release/<notebook>/`` — ``nbgrader generate_assignment``'s student copies;
* ``slides/<notebook>.slides.html`` — reveal.js decks with a local reveal.js
  (:mod:`tools.classroom.slides`);
* ``site/`` — the Sphinx + myst-nb website (:mod:`tools.classroom.site`).

Notebooks and exercises are enumerated from the tree and the registry, never
from a list here: a new notebook or exercise flows in by itself.
"""
