"""Lazy access to a package's submodules: ``stylelab.features.stats`` works after ``import stylelab`` alone.

A package's ``__init__.py`` ends with::

    __getattr__, __dir__ = lazy_submodules(__name__, __path__)

Its public submodules are then listed from its folder (a new module needs no edit anywhere) and load on
first use, so ``import stylelab`` and ``import stylelab.features`` stay cheap.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Callable, Iterable


def lazy_submodules(name: str, path: Iterable[str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for the package ``name`` whose folder is ``path`` (its ``__path__``)."""
    found: list[frozenset[str]] = []

    def submodules() -> frozenset[str]:
        if not found:
            found.append(frozenset(m.name for m in pkgutil.iter_modules(list(path)) if not m.name.startswith("_")))
        return found[0]

    def __getattr__(attr: str):
        if attr in submodules():
            return importlib.import_module(f"{name}.{attr}")
        raise AttributeError(f"module {name!r} has no attribute {attr!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[name])) | submodules())

    return __getattr__, __dir__
