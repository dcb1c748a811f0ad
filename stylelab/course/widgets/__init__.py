"""Interactive explorers (ipywidgets). Logic lives in plain classes so tests can drive them headlessly."""
