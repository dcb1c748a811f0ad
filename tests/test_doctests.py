"""The ``>>>`` examples in the docstrings of the most-used public functions run, and say what they show.

Each example is a small identity (the statistic it promises, a perfect reconstruction, a null
space), so a docstring that drifts from the code fails here (as NumPy and kornia run theirs).
"""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Module → the public functions whose docstrings must carry an example.
EXAMPLES = {
    "features.stats": ("gram", "moments", "mmd2"),
    "features.transforms": ("mean_std", "adain", "wct", "coral"),
    "features.whitening": ("whiten", "colour"),
    "features.wavelets": ("haar_dwt", "haar_idwt"),
    "smoothing.matting": ("laplacian", "laplacian_matvec"),
    "features.colour": ("match_colour", "luminance_transfer"),
    "features.linear_time_mmd": ("mmd2_linear",),
}


@pytest.mark.parametrize("module", sorted(EXAMPLES))
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"stylelab.{module}")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    tests = {}  # by name: a public name may be defined in a private module of its package (transforms.wct)
    for name in EXAMPLES[module]:
        obj = getattr(mod, name)
        found = [t for t in finder.find(obj, name, globs=vars(mod).copy()) if t.examples]
        if found:
            tests[name] = found[0]
    missing = [f for f in EXAMPLES[module] if f not in tests]
    assert not missing, f"stylelab.{module}: no >>> example in the docstring of {', '.join(missing)}"
    import io
    import contextlib

    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        for t in tests.values():
            runner.run(t, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, report.getvalue()
    assert result.attempted >= 2 * len(EXAMPLES[module])


def test_a_wrong_example_fails():
    """The runner used above reports a docstring whose shown output is not what the code gives."""
    def f():
        """
        >>> 1 + 1
        3
        """

    t = doctest.DocTestFinder().find(f, "f", globs={})[0]
    runner = doctest.DocTestRunner()
    runner.run(t, out=lambda s: None)
    assert runner.summarize(verbose=False).failed == 1
