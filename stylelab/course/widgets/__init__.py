"""Interactive explorers (ipywidgets). Logic lives in plain classes so tests can drive them headlessly."""


# Submodules load on first use: stylelab.course.widgets.<module> works after `import stylelab` alone.
from ..._lazy import lazy_submodules  # noqa: E402

__getattr__, __dir__ = lazy_submodules(__name__, __path__)
