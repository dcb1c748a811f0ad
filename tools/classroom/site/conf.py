"""Sphinx configuration of the course website (built by `make classroom` into build/classroom/site).

The pages are the course notebooks, executed once by the kit in fast mode
(tools/classroom/execute.py), so myst-nb does not execute them again. Every
asset is local: MathJax 2 from the kit's copy, no ipywidgets JavaScript from a
CDN. Launch buttons (Colab, Binder, JupyterHub via nbgitpuller) point at
[tool.stylelab.course] in pyproject.toml.
"""

import os
import sys
from pathlib import Path

# tools/classroom/site.py copies this file into the site's source folder and names the repository here
ROOT = Path(os.environ.get("STYLELAB_ROOT", Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(ROOT))
from tools.notebooks import course_config  # noqa: E402
from tools.classroom.vendor import MATHJAX  # noqa: E402

course = course_config()
project = "stylelab"
author = "the stylelab authors"
copyright = "the stylelab authors (code: MIT)"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

nb_execution_mode = "off"  # executed by the kit, fast mode
nb_ipywidgets_js = {}  # no require.js / widget manager from a CDN; widgets need a kernel, figures show without one
# Widget views are stored without their state (they need a live kernel); every widget cell in the course has a
# static figure beside it, so the page loses nothing by skipping them.
suppress_warnings = ["mystnb.unknown_mime_type"]
nb_output_stderr = "remove"

html_theme = "sphinx_book_theme"
html_title = "stylelab — neural style transfer"
html_static_path = ["_static"]
mathjax_path = MATHJAX  # relative to _static: the local MathJax 2 copy
# myst-nb marks a notebook page tex2jax_ignore and its maths spans "math": MathJax 2 must process only those
mathjax2_config = {"tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                               "processEscapes": True, "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                               "processClass": "tex2jax_process|mathjax_process|math|output_area"}}
html_theme_options = {
    "repository_url": course["repository"],
    "repository_branch": course["ref"],
    "path_to_docs": "",
    "use_repository_button": True,
    "launch_buttons": {
        "colab_url": "https://colab.research.google.com",
        "binderhub_url": "https://mybinder.org",
        "jupyterhub_url": course["jupyterhub"],
        "notebook_interface": "jupyterlab",
    },
}
