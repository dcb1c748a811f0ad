"""Local copies of the front-end files the slides and the site load: reveal.js, MathJax 2, require.js, jQuery.

They come from the npm registry with the versions pinned in
``tools/classroom/vendor/package.json`` and its ``package-lock.json`` (``npm
ci``, no install scripts), into ``build/classroom/.npm``, once; :func:`copy_assets`
copies the parts that are used next to the decks and the site pages, so that
nothing is fetched from another host when a deck or a page is opened.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent / "vendor"
#: Parts of the npm packages that are copied (source relative to node_modules → destination relative to _static).
PARTS = {
    # reveal.js itself and the one theme the decks use (others import fonts from another host)
    "reveal.js/dist/reveal.js": "reveal.js/dist/reveal.js",
    "reveal.js/dist/reveal.css": "reveal.js/dist/reveal.css",
    "reveal.js/dist/reset.css": "reveal.js/dist/reset.css",
    "reveal.js/dist/theme/white.css": "reveal.js/dist/theme/white.css",
    "reveal.js/dist/theme/fonts/source-sans-pro": "reveal.js/dist/theme/fonts/source-sans-pro",
    "reveal.js/plugin/notes": "reveal.js/plugin/notes",
    "reveal.js/LICENSE": "reveal.js/LICENSE",
    "jquery/dist/jquery.min.js": "jquery.min.js",
    "requirejs/require.js": "require.js",
    "mathjax/MathJax.js": "mathjax/MathJax.js",
    "mathjax/LICENSE": "mathjax/LICENSE",
    "mathjax/config/TeX-AMS_CHTML-full.js": "mathjax/config/TeX-AMS_CHTML-full.js",
    "mathjax/extensions": "mathjax/extensions",
    "mathjax/jax/input/TeX": "mathjax/jax/input/TeX",
    "mathjax/jax/output/CommonHTML": "mathjax/jax/output/CommonHTML",
    "mathjax/jax/element": "mathjax/jax/element",
    "mathjax/fonts/HTML-CSS/TeX/woff": "mathjax/fonts/HTML-CSS/TeX/woff",
    "mathjax/localization/en": "mathjax/localization/en",
}
#: How a page loads MathJax 2 from the copy (relative to ``_static``).
MATHJAX = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"


def install(cache: Path) -> Path:
    """``npm ci`` of the pinned packages into ``cache`` (skipped when the lock file there is the same); node_modules."""
    cache.mkdir(parents=True, exist_ok=True)
    modules = cache / "node_modules"
    lock = cache / "package-lock.json"
    if modules.is_dir() and lock.exists() and filecmp.cmp(lock, HERE / "package-lock.json", shallow=False):
        return modules
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(HERE / name, cache / name)
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed once to fetch reveal.js and MathJax for the slides and the site "
                         "(Debian: apt-get install npm); then run `make classroom` again")
    result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=cache,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"npm ci in {cache} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return modules


def copy_assets(modules: Path, static: Path) -> None:
    """Copy :data:`PARTS` from ``modules`` into ``static``."""
    for src, dest in PARTS.items():
        s, d = modules / src, static / dest
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            shutil.copy2(s, d)
