"""The browser files the slides and the course website use, from local copies that pip packages
install, copied next to the HTML so that a deck or the site works offline and from ``file://``.

- reveal.js 5 (MIT) from ``sphinx-revealjs``, which ships reveal.js's built files
  (``dist/reveal.js``, ``dist/reveal.css``, ``dist/theme/``, ``plugin/``); the course uses only
  those files, never its Sphinx extension, so it is installed with ``--no-deps``.
- MathJax 2.7 (Apache-2.0) from ``jupyter-server-mathjax``, for the notebooks' ``$...$`` math.

There is no fallback to a CDN: a missing package stops with the command that installs it.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC = "_static"                                   # the assets' folder beside the HTML files
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"   # the configuration jupyter-server-mathjax ships


def _package_folder(module: str, inside: str, needed: str, package: str) -> Path:
    """``inside`` of the installed ``module``, checked to hold ``needed``; found without importing
    the module (sphinx_revealjs would import Sphinx, which the course does not install)."""
    spec = importlib.util.find_spec(module)
    folder = Path(next(iter(spec.submodule_search_locations))) / inside if spec else None
    if folder is None or not (folder / needed).is_file():
        raise SystemExit(f"{package} is missing, or has no {inside}/{needed}: run `python course.py install` "
                         f"(or `pip install --no-deps {package}`). The slides and the site take their "
                         "browser files from it, so that they work offline.")
    return folder


def reveal_folder() -> Path:
    return _package_folder("sphinx_revealjs", "_static/revealjs", "dist/reveal.js", "sphinx-revealjs")


def mathjax_folder() -> Path:
    return _package_folder("jupyter_server_mathjax", "static", "MathJax.js", "jupyter-server-mathjax")


def _copy_tree(source: Path, target: Path, parts=None) -> None:
    """Copy ``source`` (or only its ``parts``) to ``target``, skipping files already there with the
    same size, so that rebuilding a deck does not copy MathJax's 600 files again."""
    for item in parts or [""]:
        for path in [source / item] if (source / item).is_file() else (source / item).rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix in (".py", ".map"):
                continue
            destination = target / path.relative_to(source)
            if destination.is_file() and destination.stat().st_size == path.stat().st_size:
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


def install_mathjax(out_dir: Path) -> str:
    """Copy MathJax into ``out_dir/_static/mathjax``; return its URL relative to ``out_dir``."""
    _copy_tree(mathjax_folder(), Path(out_dir) / STATIC / "mathjax")
    return f"{STATIC}/mathjax/MathJax.js?config={MATHJAX_CONFIG}"


def install_reveal(out_dir: Path) -> str:
    """Copy reveal.js (its built files, the notes plugin, its licence) into
    ``out_dir/_static/reveal.js``; return that folder's URL relative to ``out_dir``."""
    _copy_tree(reveal_folder(), Path(out_dir) / STATIC / "reveal.js", ["dist", "plugin/notes", "LICENSE"])
    return f"{STATIC}/reveal.js"
