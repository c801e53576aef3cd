"""Sphinx configuration: the API reference from the docstrings, the notebooks as pages.

Build: ``python -m sphinx -W --keep-going -b html docs build/docs`` (the ``docs`` extra).
The notebooks are shown with their stored outputs and never executed here.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

project = "dicomweb-nb"
author = "the dicomweb-nb authors"
copyright = "the dicomweb-nb authors"  # noqa: A001 - Sphinx's name
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "notebooks/nbval-sanitize.cfg", "**.ipynb_checkpoints"]

# numpydoc-style docstrings, read by napoleon; type hints shown in the descriptions.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options: dict[str, object] = {}

# Notebooks: their stored outputs, as the tests left them; widgets show as their text.
nb_execution_mode = "off"
nb_output_stderr = "remove"
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "pydata_sphinx_theme"
html_title = "dicomweb-nb"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
