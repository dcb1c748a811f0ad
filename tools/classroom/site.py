"""The course website: Sphinx + myst-nb + sphinx-book-theme over the executed notebooks, offline, warnings as errors.

``tools/classroom/site/`` holds ``conf.py`` and ``index.md`` (its table of
contents globs ``notebooks/*``, so a new notebook gets its page by itself);
:func:`build` lays them out with the executed notebooks and the local MathJax
copy in ``<kit>/site-src`` and runs ``sphinx-build -W`` into ``<kit>/site``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import course, vendor

HERE = Path(__file__).resolve().parent / "site"


def build(executed: list[Path], modules: Path, kit: Path) -> Path:
    """Build the site from the executed notebooks; returns the folder holding ``index.html``."""
    src, out = kit / "site-src", kit / "site"
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    (src / "notebooks").mkdir(parents=True)
    for name in ("conf.py", "index.md"):
        shutil.copy2(HERE / name, src / name)
    for nb in executed:
        shutil.copy2(nb, src / "notebooks" / nb.name)
    vendor.copy_assets(modules, src / "_static")
    env = dict(os.environ, STYLELAB_ROOT=str(course.ROOT))
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "-d", str(kit / ".doctrees"),
           str(src), str(out)]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"the site did not build (warnings are errors):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return out
