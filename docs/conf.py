"""Sphinx configuration: ``./scripts/docs.sh`` builds with ``-W --keep-going``, offline.

Parts of the site are made at build time, so no page can fall behind the code:
- the API reference, from the docstrings (autodoc + autosummary, napoleon for ``Args:``);
- the Benchmarks page's tables and plots, from the result records in ``docs/results/``
  (``docs/_ext/results.py``);
- the Examples gallery: the scripts in ``docs/examples/`` are executed by sphinx-gallery, and their
  spectrograms and audio players land in the page.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
sys.path.insert(0, os.path.dirname(HERE))

import asteroid_deepmask  # noqa: E402  (after the path: Read the Docs installs it, a checkout may not)

project = "asteroid-deepmask"
author = "asteroid-deepmask developers"
copyright = "2026, asteroid-deepmask developers"
release = asteroid_deepmask.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
    "results",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "sg_execution_times.rst", "results/README.md", "examples/README.md", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5",
                    "auto_examples/*.json"]
templates_path = ["_templates"]

# No intersphinx: the build runs offline and would try to fetch inventories.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "capture_repr": ("_repr_html_",),
    "matplotlib_animations": False,
    "show_memory": False,
    "plot_gallery": "True",
}

html_theme = "furo"
html_title = f"asteroid-deepmask {release}"
html_static_path = []
