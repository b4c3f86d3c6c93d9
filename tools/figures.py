"""The course's schematics: SVG files in ``notebooks/figures/``, shown in markdown cells.

A figure's one source is its SVG file. A markdown cell shows it through a marker line and an
image whose address is the file's bytes as a ``data:`` URI::

    <!-- figure: figures/03_lstm_cell.svg -->
    ![The LSTM cell](data:image/svg+xml;base64,...)

    *Caption ...*

The embedded copy is what makes the picture appear everywhere a learner opens the notebook:
Colab and GitHub cannot follow a relative path to a file beside the notebook (Colab does not
render cell attachments either), while Jupyter, GitHub, Colab and nbconvert (slides, site) all
show a ``data:`` image. ``python course.py figures`` rewrites the embedded copies from the files
after a drawing changes; ``tests/test_figures.py`` fails while any copy differs from its file.
"""
from __future__ import annotations

import base64
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from tools.notebooks import NOTEBOOK_DIR, list_notebooks, read

FIGURE_DIR = NOTEBOOK_DIR / "figures"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
MARKER = re.compile(r"^<!-- figure: (figures/[A-Za-z0-9_.-]+\.svg) -->$")
IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<url>[^)]*)\)$")
DATA_PREFIX = "data:image/svg+xml;base64,"
MAX_BYTES = 60_000


def data_uri(svg_path: Path) -> str:
    return DATA_PREFIX + base64.b64encode(svg_path.read_bytes()).decode("ascii")


def figure_cell_source(relative_path: str, alt: str, caption: str) -> str:
    """The markdown of a figure cell: marker, embedded image, caption in italics."""
    if "]" in alt or "\n" in alt:
        raise ValueError("the alt text must be one line without ']'")
    path = NOTEBOOK_DIR / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; draw it first (SVG under notebooks/figures/)")
    return f"<!-- figure: {relative_path} -->\n![{alt}]({data_uri(path)})\n\n*{caption.strip()}*"


def figure_lines(nb) -> list[tuple[int, int, str, str]]:
    """(cell index, line of the marker, ``figures/NAME.svg``, embedded URL) for every figure marker
    in the notebook. A marker that is not followed by an image line is reported with an empty URL."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for number, line in enumerate(lines):
            match = MARKER.match(line.strip())
            if match:
                image = IMAGE.match(lines[number + 1].strip()) if number + 1 < len(lines) else None
                found.append((index, number, match.group(1), image.group("url") if image else ""))
    return found


def figure_references(nb) -> list[tuple[int, str, str]]:
    """(cell index, ``figures/NAME.svg``, embedded URL) for every figure marker in the notebook."""
    return [(index, relative_path, url) for index, _, relative_path, url in figure_lines(nb)]


def svg_problems(svg_path: Path) -> list[str]:
    """What keeps an SVG file from showing the same everywhere: not well-formed, no viewBox, no
    size, external references, scripts, too large."""
    problems = []
    size = svg_path.stat().st_size
    if size > MAX_BYTES:
        problems.append(f"{size} bytes (keep a schematic under {MAX_BYTES})")
    try:
        root = ElementTree.parse(svg_path).getroot()
    except ElementTree.ParseError as error:
        return problems + [f"not well-formed XML: {error}"]
    if root.tag != f"{SVG_NAMESPACE}svg":
        return problems + [f"root element is {root.tag}, not an SVG <svg> element"]
    view_box = root.get("viewBox", "").replace(",", " ").split()
    try:
        numbers = [float(v) for v in view_box]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or numbers[2] <= 0 or numbers[3] <= 0:
        problems.append(f"viewBox {root.get('viewBox')!r} is not 'x y width height' with a positive size")
    if not root.get("width") or not root.get("height"):
        problems.append("width and height attributes are missing (the size it is shown at)")
    for element in root.iter():
        tag = element.tag.replace(SVG_NAMESPACE, "")
        if tag in ("script", "foreignObject"):
            problems.append(f"<{tag}> element (not allowed in a schematic)")
        for key, value in element.attrib.items():
            if key.endswith("href") and not value.startswith("#"):
                problems.append(f"external reference {value[:60]!r} in <{tag}>")
        if tag == "style" and "@import" in (element.text or ""):
            problems.append("@import in <style>")
    return problems


def embed_figures(path: Path) -> int:
    """Rewrite the embedded copy of every figure in one notebook from its file; return how many
    changed."""
    import nbformat

    nb = read(path)
    changed = 0
    for index, number, relative_path, url in reversed(figure_lines(nb)):   # an insertion shifts later lines
        svg_path = NOTEBOOK_DIR / relative_path
        if not svg_path.is_file():
            raise FileNotFoundError(f"{path.name}, cell {index}: {relative_path} does not exist")
        fresh = data_uri(svg_path)
        if url == fresh:
            continue
        cell = nb.cells[index]
        lines = cell.source.splitlines()
        image = IMAGE.match(lines[number + 1].strip()) if number + 1 < len(lines) else None
        if image:
            lines[number + 1] = f"![{image.group('alt')}]({fresh})"
        else:
            lines.insert(number + 1, f"![{svg_path.stem.replace('_', ' ')}]({fresh})")
        cell.source = "\n".join(lines)
        changed += 1
    if changed:
        nbformat.write(nb, path)
    return changed


def insert_figure_cell(path: Path, after_first_line: str, relative_path: str, alt: str, caption: str) -> int:
    """Insert a figure cell after the markdown cell whose first line is ``after_first_line``;
    return the new cell's index."""
    import nbformat

    nb = read(path)
    anchors = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "markdown" and c.source.splitlines()[:1] == [after_first_line]]
    if len(anchors) != 1:
        raise ValueError(f"{path.name}: {len(anchors)} markdown cells start with {after_first_line!r}; "
                         "need exactly one")
    cell = nbformat.v4.new_markdown_cell(figure_cell_source(relative_path, alt, caption))
    cell.pop("id", None)
    nb.cells.insert(anchors[0] + 1, cell)
    nbformat.write(nb, path)
    return anchors[0] + 1


def main(argv=None) -> int:
    """``figures [notebooks...]``: refresh the embedded copies from the SVG files."""
    argv = sys.argv[1:] if argv is None else argv
    for path in list_notebooks(argv):
        changed = embed_figures(path)
        print(f"updated  {path.name} ({changed} figures)" if changed else f"same     {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
