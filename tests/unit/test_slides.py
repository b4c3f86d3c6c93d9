import nbformat

from tools.notebooks import list_notebooks
from tools.slides import make_slides, slide_cells


def test_cells_are_marked_and_slides_written(tmp_path):
    path = list_notebooks(["01"])[0]
    nb = nbformat.read(path, as_version=4)
    cells = slide_cells(nb)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in cells]
    setup = next(c.metadata["slideshow"]["slide_type"] for c in cells if c.cell_type == "code")
    assert kinds[0] == "slide" and setup == "skip"
    assert kinds.count("slide") >= 8 and "subslide" in kinds
    assert len(cells) > len(nb.cells), "long markdown cells are cut into several slides"
    out = make_slides(path, tmp_path, executed_dir=tmp_path / "none")
    html = out.read_text(encoding="utf-8")
    assert "Convolution is a sliding dot product" in html
    assert '<script src="_static/reveal.js/dist/reveal.js">' in html, "reveal.js from the local copy"
    assert (tmp_path / "_static" / "reveal.js" / "dist" / "reveal.js").is_file()
    assert (tmp_path / "_static" / "mathjax" / "MathJax.js").is_file()
    assert "unpkg.com" not in html and "cdnjs" not in html
