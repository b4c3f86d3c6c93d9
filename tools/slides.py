"""Presenter slides from a notebook: ``python course.py slides 05 [--executed runs/study]``.

One idea per slide. The title cell makes the title slide (the title and the motivation) and a
slide of goals ("**You will** ..."); every "## " section starts a new slide, and its parts go on
vertical sub-slides below it (the down arrow, or space, walks through them): a "### " heading, a
paragraph that would overfill the slide it follows, a picture, a code cell with its outputs.
The setup and parameters cells, and cells that only import, are left out.

When an executed copy exists (``python course.py run`` writes them to ``runs/<profile>/``) the
slides show its outputs: plots, tables and the results. Links to other files of the repository
(the glossary) lead to the repository online. reveal.js and MathJax are copied beside the deck
from the packages that ship them (tools/web_assets.py), so it works offline.
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

from tools.notebooks import ROOT, list_notebooks, tags
from tools.runner import typed_path
from tools.site import rewrite_links
from tools.web_assets import TEMPLATE_DIR, install_mathjax, install_reveal
from utils.lessons import SETUP_MARKER

SLIDE_BUDGET = 800          # characters of text a slide holds before the next paragraph moves on
PICTURE_WEIGHT = 600        # a picture counts as this much text: a caption may join it, a paragraph not
SHORT_LEAD_IN = 300         # a markdown part this short shares its slide with the code cell after it
SHORT_CODE_LINES = 24       # ... when that cell has at most this many lines and draws no picture
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b", re.IGNORECASE)
LINK_TARGET = re.compile(r"\]\([^)]*\)")


def markdown_blocks(text: str) -> list[str]:
    """The blocks of a markdown text, split at blank lines, with fenced code and ``$$`` display
    math kept whole even when they contain blank lines."""
    blocks, current, fence, math = [], [], None, False
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and not math and not stripped:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
        if fence is None and not math and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence) and len(current) > 1:
            fence = None
        elif fence is None and stripped.count("$$") % 2 == 1:
            math = not math
    if current:
        blocks.append("\n".join(current))
    return blocks


def weight(block: str) -> int:
    """How much of a slide a block fills: its text without link targets, a picture as a fixed
    amount (embedded schematics are long data URIs that take one picture's room)."""
    pictures = len(IMAGE.findall(block))
    text = LINK_TARGET.sub("]", IMAGE.sub("", block))
    return len(text) + PICTURE_WEIGHT * pictures


def is_heading(block: str) -> bool:
    return bool(re.match(r"#{1,6} ", block))


def starts_part(block: str) -> bool:
    """Blocks that always begin a slide of their own: headings, and the goals of a notebook."""
    return is_heading(block) or block.startswith("**You will**")


def split_markdown(text: str) -> list[str]:
    """A markdown cell as the parts of its slides, each within SLIDE_BUDGET where its blocks allow
    (a single long block stays whole: it is one idea)."""
    parts: list[list[str]] = []
    for block in markdown_blocks(text):
        current = parts[-1] if parts else None
        only_heading = current is not None and len(current) == 1 and is_heading(current[0])
        if (current is None or (starts_part(block) and not only_heading)
                or (not only_heading and sum(map(weight, current)) + weight(block) > SLIDE_BUDGET)):
            parts.append([block])
        else:
            current.append(block)
    return ["\n\n".join(blocks) for blocks in parts]


def only_imports(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body)


def draws_picture(cell) -> bool:
    return any(kind.startswith("image/") for output in cell.get("outputs", [])
               for kind in output.get("data", {}))


def left_out(cell) -> bool:
    """Code cells the slides leave out: setup, parameters (also injected ones), bare imports."""
    source = cell.source.lstrip()
    return (source.startswith(SETUP_MARKER) or only_imports(source)
            or bool({"parameters", "injected-parameters"} & set(tags(cell))))


def slide_cells(nb) -> list:
    """The notebook's cells cut into slides: copies, each marked with its reveal.js slide type
    (``slide`` a new horizontal slide, ``subslide`` a vertical one below it, ``-`` on the same
    slide, ``skip`` left out)."""
    import nbformat

    cells, previous_weight = [], None    # previous_weight: of the last markdown part, if it came last
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for k, part in enumerate(split_markdown(cell.source)):
                new = nbformat.v4.new_markdown_cell(part)
                if "attachments" in cell:          # pictures pasted into the cell
                    new["attachments"] = cell["attachments"]
                first = index == 0 and k == 0
                new.metadata["slideshow"] = {"slide_type": "slide" if first or re.match(r"#{1,2} ", part)
                                             else "subslide"}
                cells.append(new)
                previous_weight = weight(part)
            continue
        new = copy.deepcopy(cell)
        if cell.cell_type != "code" or left_out(cell):
            kind = "skip"
        elif (previous_weight is not None and previous_weight <= SHORT_LEAD_IN and not draws_picture(cell)
              and len(cell.source.splitlines()) <= SHORT_CODE_LINES):
            kind = "-"
        else:
            kind = "subslide"
        new.metadata["slideshow"] = {"slide_type": kind}
        cells.append(new)
        if kind != "skip":
            previous_weight = None
    return cells


def make_slides(path: Path, out_dir: Path, executed_dir: Path | None = None) -> Path:
    import nbformat
    from nbconvert import SlidesExporter

    source = path
    if executed_dir is not None and (executed_dir / path.name).exists():
        source = executed_dir / path.name
    nb = nbformat.read(source, as_version=4)
    nb.cells = slide_cells(nb)
    nb.metadata.pop("widgets", None)     # widget state would load the widget scripts from a CDN
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = SlidesExporter(template_name="course_reveal", extra_template_basedirs=[str(TEMPLATE_DIR)],
                              extra_template_paths=[str(TEMPLATE_DIR)],
                              reveal_url_prefix=install_reveal(out_dir), mathjax_url=install_mathjax(out_dir),
                              reveal_theme="white", reveal_number="c/t")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    out = out_dir / f"{path.stem}.slides.html"
    out.write_text(rewrite_links(body, "notebooks", {}), encoding="utf-8")
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
        make_slides(path, typed_path(args.out), typed_path(args.executed))
    print("Open a .slides.html file in a browser (offline too: reveal.js and MathJax are in _static/ "
          "beside it; keep that folder with the decks). Arrows move, s opens the speaker view.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
