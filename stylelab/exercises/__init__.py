"""Exercises: a student writes a function, :func:`check` tests it against stylelab.

Each notebook's exercises live in ``stylelab/exercises/nbNN.py`` and register
with :func:`exercise`::

    @exercise("01.gram", solution=_gram_solution, wrong=_gram_forgot_normalising,
              hint="Divide F Fᵀ by the number of positions H·W.")
    def _check(student):
        x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
        assert_close(student(x), stylelab.stats.gram(x, normalize="positions"))

In a notebook::

    def my_gram(features):
        raise NotImplementedError  # your code here
    check("01.gram", my_gram)

A stub that still raises ``NotImplementedError`` prints a reminder and does not
fail (so notebooks run end to end in CI); a wrong answer raises an
``AssertionError`` with the hint. ``solution("01.gram")`` prints the reference
solution's source for instructors. ``tests/test_exercises.py`` checks every
checker accepts its ``solution`` and rejects its ``wrong`` answer.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

import torch

__all__ = ["exercise", "check", "solution", "assert_close", "EXERCISES", "Exercise"]


@dataclass
class Exercise:
    id: str
    checker: Callable[[Any], None]
    solution: Callable
    wrong: Callable | None
    hint: str


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, *, solution: Callable, hint: str, wrong: Callable | None = None):
    """Register the decorated function as the checker of exercise ``id``."""

    def register(checker: Callable[[Any], None]):
        EXERCISES[id] = Exercise(id, checker, solution, wrong, hint)
        return checker

    return register


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{mod.name}")


def get(id: str) -> Exercise:
    _load_all()
    if id not in EXERCISES:
        raise KeyError(f"No exercise {id!r}. Known: {', '.join(sorted(EXERCISES))}")
    return EXERCISES[id]


def check(id: str, answer: Any, quiet: bool = False) -> bool:
    """Check a student's ``answer`` to exercise ``id``.

    Returns ``True`` when correct, ``False`` when not attempted yet (the
    function raises ``NotImplementedError``). Raises ``AssertionError`` with a
    hint when the answer is wrong.
    """
    ex = get(id)
    try:
        ex.checker(answer)
    except NotImplementedError:
        if not quiet:
            print(f"○ Exercise {id}: not attempted yet — replace the NotImplementedError with your code.")
        return False
    except AssertionError as err:
        raise AssertionError(f"✗ Exercise {id} is not right yet: {err}\n  Hint: {ex.hint}") from None
    if not quiet:
        print(f"✓ Exercise {id}: correct.")
    return True


def solution(id: str) -> str:
    """Print and return the source of the reference solution of exercise ``id`` (for instructors)."""
    src = textwrap.dedent(inspect.getsource(get(id).solution))
    print(src)
    return src


def assert_close(actual: Any, expected: torch.Tensor, rtol: float = 1e-5, atol: float = 1e-8, what: str = "result") -> None:
    """``AssertionError`` with a readable message unless ``actual`` ≈ ``expected``."""
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"the {what} should be a torch.Tensor, got {type(actual).__name__}")
    if tuple(actual.shape) != tuple(expected.shape):
        raise AssertionError(f"the {what} has shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
    actual = actual.to(expected.dtype)
    if not torch.allclose(actual, expected, rtol=rtol, atol=atol):
        err = (actual - expected).abs().max().item()
        raise AssertionError(f"the {what} differs from the expected values (max abs difference {err:.3g})")
