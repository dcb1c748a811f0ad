"""Write the stored reference numbers of every exercise (``stylelab/course/exercises/reference/nbNN.npz``).

Each exercise's seeded inputs (``cases()`` in ``stylelab/course/exercises/nbNN.py``)
are stored with the output of the instructor's reference solution
(``instructor/solutions/nbNN.py``). Notebook checkers compare a student's
output with these numbers. Run after changing an exercise or its solution:

    python tools/make_exercise_refs.py          # rewrite every file
    python tools/make_exercise_refs.py --check  # exit 1 if a stored file is out of date

``tests/test_exercises.py`` runs the same comparison.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from instructor.solutions import SOLUTIONS  # noqa: E402
from stylelab.course import exercises as X  # noqa: E402


def build() -> dict[str, dict[str, np.ndarray]]:
    """``{notebook: {key: array}}`` computed from the solutions (nothing written)."""
    X._load_all()
    files: dict[str, dict[str, np.ndarray]] = {}
    for ex_id, ex in sorted(X.EXERCISES.items()):
        if ex_id not in SOLUTIONS:
            raise SystemExit(f"exercise {ex_id} has no reference solution in instructor/solutions/{ex.notebook}.py")
        arrays = files.setdefault(ex.notebook, {})
        for k, inputs in enumerate(ex.cases()):
            for key, arr in X.encode_case(tuple(inputs)).items():
                arrays[f"{ex_id}/{k}/{key}"] = arr
            with X.switched_off(*ex.answers):  # the solution, like the student, does not call the library's answer
                arrays[f"{ex_id}/{k}/out"] = ex.call(SOLUTIONS[ex_id], tuple(inputs))
    return files


#: Stored and regenerated floats may differ in the last bits: the cases and reference outputs go through
#: BLAS products whose kernels (and so their rounding) depend on the CPU's instruction set (AVX2, AVX-512).
#: Measured between two x86-64 machines with the same torch build: 2.2e-16 absolute, 8.6e-16 relative.
#: A real change of an exercise is many orders of magnitude larger than this tolerance.
RTOL, ATOL = 1e-9, 1e-12


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal dtype and shape; integers and booleans exactly, floats within (RTOL, ATOL)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if np.issubdtype(a.dtype, np.inexact):
        return bool(np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True))
    return bool(np.array_equal(a, b))


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(same_array(a[k], b[k]) for k in a)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only compare with the stored files")
    args = ap.parse_args(argv)
    X.REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    stale = []
    for nb, arrays in build().items():
        path = X.REFERENCE_DIR / f"{nb}.npz"
        if path.exists():
            with np.load(path) as z:
                stored = {k: z[k] for k in z.files}
            if _same(stored, arrays):
                print(f"{path.relative_to(ROOT)}: up to date ({len(arrays)} arrays)")
                continue
        stale.append(nb)
        if args.check:
            print(f"{path.relative_to(ROOT)}: OUT OF DATE")
            continue
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        path.write_bytes(buf.getvalue())
        print(f"{path.relative_to(ROOT)}: written ({len(arrays)} arrays, {len(buf.getvalue())} bytes)")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    raise SystemExit(main())
