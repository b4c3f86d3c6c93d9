import nbformat

from tools.notebooks import list_notebooks
from tools.slides import make_slides, mark_cells


def test_cells_are_marked_and_slides_written(tmp_path):
    path = list_notebooks(["01"])[0]
    nb = nbformat.read(path, as_version=4)
    mark_cells(nb)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds[0] == "slide" and kinds[1] == "skip" and kinds[2] == "skip"
    assert kinds.count("slide") >= 8 and "fragment" in kinds
    out = make_slides(path, tmp_path, executed_dir=tmp_path / "none")
    html = out.read_text(encoding="utf-8")
    assert "reveal" in html.lower() and "Convolution is a sliding dot product" in html
