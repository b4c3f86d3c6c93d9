"""Presenter slides from a notebook: ``python course.py slides 05 [--executed runs/study]``.

Each cell is marked for reveal.js (nbconvert's slides format): the title and every "## "
section start a new slide, "### " a sub-slide, the setup and parameters cells are skipped,
and code cells appear as fragments below the explanation they follow. When an executed copy
exists (``python course.py run`` writes them to ``runs/<profile>/``), the slides show its
outputs: plots, tables and the results.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.notebooks import ROOT, list_notebooks
from utils.lessons import SETUP_MARKER


def slide_type(cell, index: int) -> str:
    source = cell.source.lstrip()
    if cell.cell_type == "code":
        if source.startswith(SETUP_MARKER) or "parameters" in cell.get("metadata", {}).get("tags", []):
            return "skip"
        return "fragment"
    if index == 0 or source.startswith("## ") or source.startswith("# "):
        return "slide"
    if source.startswith("### "):
        return "subslide"
    return "-"


def mark_cells(nb) -> None:
    for i, cell in enumerate(nb.cells):
        cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type(cell, i)


def make_slides(path: Path, out_dir: Path, executed_dir: Path | None = None) -> Path:
    import nbformat
    from nbconvert import SlidesExporter

    source = path
    if executed_dir is not None and (executed_dir / path.name).exists():
        source = executed_dir / path.name
    nb = nbformat.read(source, as_version=4)
    mark_cells(nb)
    body, _ = SlidesExporter().from_notebook_node(nb)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{path.stem}.slides.html"
    out.write_text(body, encoding="utf-8")
    print(f"{out}  (from {'executed copy ' + str(source) if source != path else 'the stripped notebook'})")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python course.py slides", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="names or numbers (default: all)")
    parser.add_argument("--executed", default=str(ROOT / "runs" / "study"),
                        help="folder of executed copies to take outputs from (default runs/study)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "slides"))
    args = parser.parse_args(argv)
    for path in list_notebooks(args.notebooks):
        make_slides(path, Path(args.out), Path(args.executed))
    print("Open a .slides.html file in a browser (reveal.js loads from its CDN: online once).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
