"""Exercises in the CS231n manner: the student writes a function, it is checked against stored numbers.

Each notebook's exercises are registered in ``stylelab/course/exercises/nbNN.py``.
An exercise is a hint, a tolerance and a function returning its **cases**:
fixed, seeded inputs (the inputs, never the answer)::

    @exercise("01.gram", hint="Divide F Fᵀ by the number of positions H·W.", rtol=1e-10)
    def _gram_cases():
        return [(_feats(0),)]

The expected outputs on those inputs are **stored numbers**
(``stylelab/course/exercises/reference/nbNN.npz``), written by
``python tools/make_exercise_refs.py`` from the reference solutions, which
live outside the student-facing package (``instructor/solutions/nbNN.py``).
A checker therefore does not call the library function the student could
import: it compares the student's output on the stored inputs with the
stored output.

In a notebook, the student's function is checked and then *used*::

    def my_gram(features):
        raise NotImplementedError  # your code here

    gram = use("01.gram", my_gram)   # the next figure calls gram(...)

:func:`use` returns the student's function once it passes, and until then the
exercise's registered ``fallback`` (a reference version), saying on screen that
the figure is not drawn with the student's function yet — without naming the
library function that answers the exercise. :func:`check` only checks (the
tests call it; notebooks always :func:`use`). A stub that still raises
``NotImplementedError`` prints a reminder and does not fail (so notebooks run
end to end in CI); a wrong answer raises an ``AssertionError`` with the hint.

**The answer is not one call away.** An exercise lists the library functions
that answer it (``answers=``); while a student's function is checked they are
switched off (their code is replaced, so every reference to them refuses with
"write it yourself — this exercise is about how it works"), and
``return stylelab.features.stats.gram(f)`` fails ``01.gram``. They are restored when the
check ends, so the notebook's later cells (and the fallback) work as before.
The exercise's own ``fallback`` is no answer either: checking it (or a function
made from its code) is refused the same way, and while an answer is checked the
fallback is switched off too where it is a plain function (so calling it fails);
:func:`use` still returns it for the figures while the student's function is a stub.

Optional per-exercise settings: ``run(student, *inputs)`` when the student's
function is not simply called on the inputs (e.g. a closure factory driven by
an optimiser), ``output(result)`` to put the result in a comparable form
(e.g. sorted indices), and ``extra(result, *inputs)`` for property checks
beyond the stored numbers (e.g. "the whitened covariance is the identity").
``tests/test_exercises.py`` checks that every checker accepts the instructor
solution, rejects the registered wrong answer, and that the stored numbers are
those the solution gives (and agree with the library, where it has the function).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["exercise", "check", "use", "drawn_by", "get", "switched_off", "EXERCISES", "Exercise", "REFERENCE_DIR", "encode_case", "load_reference"]

#: Where the stored reference numbers live (one ``nbNN.npz`` per notebook).
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@dataclass
class Exercise:
    """One exercise: ``cases()`` gives the inputs; the stored file gives the expected outputs."""

    id: str
    cases: Callable[[], list[tuple]]
    hint: str
    rtol: float = 1e-6
    atol: float = 1e-8
    run: Callable[..., Any] | None = None
    output: Callable[[Any], Any] | None = None
    extra: Callable[..., None] | None = None
    what: str = "result"
    answers: tuple[Callable, ...] = ()
    fallback: Callable | None = None
    meta: dict = field(default_factory=dict)

    @property
    def notebook(self) -> str:
        return "nb" + self.id.split(".")[0]

    def call(self, fn: Callable, inputs: tuple) -> np.ndarray:
        """Run ``fn`` on one case's inputs and return its output as a float64 array (or raise)."""
        out = self.run(fn, *inputs) if self.run is not None else fn(*inputs)
        if self.output is not None:
            out = self.output(out)
        return _as_array(out, self.what)


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, *, hint: str, fallback: Callable, answers: tuple[Callable, ...] = (), rtol: float = 1e-6,
             atol: float = 1e-8, run: Callable | None = None, output: Callable | None = None,
             extra: Callable | None = None, what: str = "result"):
    """Register the decorated ``cases()`` function as exercise ``id`` (``"NN.name"``).

    ``fallback`` has the student's signature: what the notebook draws with until the
    student's function passes. ``answers``: the library functions that answer the
    exercise in one call, switched off while an answer is checked (plain Python
    functions; a decorated one is switched off through ``__wrapped__``).
    """
    for f in answers:
        code = getattr(inspect.unwrap(f), "__code__", None)
        if code is None or code.co_freevars:
            raise TypeError(f"exercise {id}: answers must be plain functions without a closure, got {f!r}")

    def register(cases: Callable[[], list[tuple]]):
        EXERCISES[id] = Exercise(id, cases, hint, rtol, atol, run, output, extra, what, tuple(answers), fallback)
        return cases

    return register


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{mod.name}")


def get(id: str) -> Exercise:
    """The registered :class:`Exercise` ``id`` (``KeyError`` listing the known ones otherwise)."""
    _load_all()
    if id not in EXERCISES:
        raise KeyError(f"No exercise {id!r}. Known: {', '.join(sorted(EXERCISES))}")
    return EXERCISES[id]


# ---------------------------------------------------------------------------- stored numbers
def _as_array(value: Any, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"the {what} should be numbers (a tensor, an array or a number), "
                             f"got {type(value).__name__}") from None
    return arr


def encode_case(inputs: tuple) -> dict[str, np.ndarray]:
    """Inputs of one case as arrays keyed ``in{i}.{kind}`` (kind: torch, numpy or py) for the ``.npz`` file."""
    out = {}
    for i, x in enumerate(inputs):
        if isinstance(x, torch.Tensor):
            out[f"in{i}.torch"] = x.detach().cpu().numpy()
        elif isinstance(x, np.ndarray):
            out[f"in{i}.numpy"] = x
        else:
            out[f"in{i}.py"] = np.asarray(x)
    return out


def _decode(key: str, arr: np.ndarray):
    kind = key.rsplit(".", 1)[1]
    if kind == "torch":
        return torch.from_numpy(arr.copy())
    if kind == "numpy":
        return arr.copy()
    value = arr.tolist()
    return tuple(value) if isinstance(value, list) else value


_REF_CACHE: dict[str, dict[str, np.ndarray]] = {}


def load_reference(notebook: str) -> dict[str, np.ndarray]:
    """The stored arrays of ``nbNN.npz`` (cached)."""
    if notebook not in _REF_CACHE:
        path = REFERENCE_DIR / f"{notebook}.npz"
        if not path.exists():
            raise FileNotFoundError(f"no stored reference numbers {path}; run `python tools/make_exercise_refs.py`")
        with np.load(path) as z:
            _REF_CACHE[notebook] = {k: z[k] for k in z.files}
    return _REF_CACHE[notebook]


def stored_cases(ex: Exercise) -> list[tuple[tuple, np.ndarray]]:
    """``[(inputs, expected_output), ...]`` of exercise ``ex`` from its stored file."""
    ref = load_reference(ex.notebook)
    cases = []
    k = 0
    while f"{ex.id}/{k}/out" in ref:
        prefix = f"{ex.id}/{k}/in"
        keys = sorted((key for key in ref if key.startswith(prefix)), key=lambda s: int(s[len(prefix):].split(".")[0]))
        cases.append((tuple(_decode(key, ref[key]) for key in keys), ref[f"{ex.id}/{k}/out"]))
        k += 1
    if not cases:
        raise FileNotFoundError(f"no stored numbers for exercise {ex.id}; run `python tools/make_exercise_refs.py`")
    return cases


def _compare(ex: Exercise, got: np.ndarray, expected: np.ndarray, case: int) -> None:
    where = f" (case {case + 1})" if case else ""
    if got.shape != expected.shape:
        raise AssertionError(f"the {ex.what}{where} has shape {got.shape}, expected {expected.shape}")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"the {ex.what}{where} contains NaN or inf")
    if not np.allclose(got, expected, rtol=ex.rtol, atol=ex.atol):
        err = np.abs(got - expected).max()
        raise AssertionError(f"the {ex.what}{where} differs from the stored reference numbers "
                             f"(max abs difference {err:.3g})")


def _refuse(*args, **kwargs):  # runs with the globals of the function it replaces: builtins only
    raise AssertionError("write it yourself — this exercise is about how it works (the library's function "
                         "that answers it is switched off while your answer is checked)")


@contextmanager
def switched_off(*functions: Callable):
    """Replace the code of ``functions`` by one that refuses, for the duration (every reference to them refuses)."""
    targets = [inspect.unwrap(f) for f in functions]
    saved = [f.__code__ for f in targets]
    try:
        for f in targets:
            f.__code__ = _refuse.__code__
        yield
    finally:
        for f, code in zip(targets, saved):
            f.__code__ = code


def _is_fallback(ex: Exercise, fn: Callable) -> bool:
    """Whether ``fn`` is the exercise's registered fallback (itself, or a function made from its very code)."""
    if ex.fallback is None:
        return False
    if fn is ex.fallback:
        return True
    code = getattr(inspect.unwrap(fn), "__code__", None)
    return code is not None and code is getattr(inspect.unwrap(ex.fallback), "__code__", None)


def _switchable(f: Callable) -> bool:
    """A plain Python function without a closure: :func:`switched_off` can replace its code."""
    f = inspect.unwrap(f)
    return isinstance(f, types.FunctionType) and not f.__code__.co_freevars


def _run_checks(ex: Exercise, fn: Callable) -> None:
    if _is_fallback(ex, fn):
        raise AssertionError("write it yourself — this exercise is about how it works (the reference version "
                             "the notebook draws with until your function passes is not an answer)")
    # the answers, and the fallback too where it can be (so that calling it from a function fails the check);
    # each function once, or restoring would put the refusal back
    off = list(dict.fromkeys(inspect.unwrap(f) for f in (*ex.answers, ex.fallback)
                             if f is not None and (f is not ex.fallback or _switchable(f))))
    for i, (inputs, expected) in enumerate(stored_cases(ex)):
        with switched_off(*off):
            got = ex.call(fn, inputs)
        _compare(ex, got, expected, i)
        if ex.extra is not None:
            ex.extra(got, *inputs)


# ---------------------------------------------------------------------------- what notebooks call
def check(id: str, answer: Callable, quiet: bool = False) -> bool:
    """Check a student's ``answer`` to exercise ``id`` against the stored reference numbers.

    Returns ``True`` when correct, ``False`` when not attempted yet (the
    function raises ``NotImplementedError``). Raises ``AssertionError`` with a
    hint when the answer is wrong.
    """
    ex = get(id)
    try:
        _run_checks(ex, answer)
    except NotImplementedError:
        if not quiet:
            print(f"○ Exercise {id}: not attempted yet — replace the NotImplementedError with your code.")
        return False
    except AssertionError as err:
        raise AssertionError(f"✗ Exercise {id} is not right yet: {err}\n  Hint: {ex.hint}") from None
    if not quiet:
        print(f"✓ Exercise {id}: correct.")
    return True


_PASSED: "weakref.WeakSet[Callable]" = weakref.WeakSet()  # the student functions that passed in use()


def drawn_by(fn: Callable) -> str:
    """``"your function"`` if ``fn`` is a student's function that :func:`use` returned, else ``"reference version"``.

    For figure titles and labels, so that a figure drawn before the exercise passes says so.
    """
    try:
        return "your function" if fn in _PASSED else "reference version"
    except TypeError:  # not weak-referenceable (a builtin): never a student's function
        return "reference version"


def use(id: str, answer: Callable) -> Callable:
    """Check ``answer`` (:func:`check`) and return the function the notebook should use next.

    The student's function once it passes; until then the exercise's reference
    version (its registered ``fallback``), with a note on screen that the next
    figure is not drawn with the student's function. A wrong answer raises, as in
    :func:`check`.
    """
    ex = get(id)
    name = getattr(answer, "__name__", "function")
    if check(id, answer):
        print(f"  The cells below use your {name}.")
        _PASSED.add(answer)
        return answer
    print(f"  Until then the cells below use a reference version in place of your {name}: "
          "what they draw is not your work yet.")
    return ex.fallback


# Submodules load on first use: stylelab.course.exercises.<module> works after `import stylelab` alone.
from ..._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
