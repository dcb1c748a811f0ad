"""Reference solutions, wrong answers and library oracles of every exercise.

``instructor/solutions/nbNN.py`` defines three dictionaries keyed by exercise id:

* ``SOLUTIONS``: the reference solution; ``tools/make_exercise_refs.py`` runs it
  on each exercise's cases to write the stored numbers
  (``stylelab/course/exercises/reference/nbNN.npz``);
* ``WRONG``: a plausible wrong answer the checker must reject;
* ``ORACLES`` (optional): the library (or NumPy/PyTorch) function that computes
  the same thing independently; the tests check the stored numbers agree with it.
"""

from __future__ import annotations

import importlib
import pkgutil

SOLUTIONS: dict = {}
WRONG: dict = {}
ORACLES: dict = {}

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name.startswith("nb"):
        _m = importlib.import_module(f"{__name__}.{_mod.name}")
        SOLUTIONS.update(_m.SOLUTIONS)
        WRONG.update(_m.WRONG)
        ORACLES.update(getattr(_m, "ORACLES", {}))
