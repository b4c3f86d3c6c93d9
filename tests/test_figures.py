"""The schematics: every figure a notebook shows exists, is a self-contained SVG with a viewBox,
and its embedded copy is the file's current content; every figure file is shown somewhere; every
notebook from 01 on shows at least one; the notebooks that promise a look inside their trained
model have the tagged cells that draw it (tests/test_notebooks.py checks they draw an image)."""
import pytest

from tools.figures import FIGURE_DIR, data_uri, embed_figures, figure_references, svg_problems
from tools.notebooks import LOOK_INSIDE_TAG, cells_tagged, list_notebooks, read

NOTEBOOKS = list_notebooks()
# the notebooks whose trained model the run looks inside (issue 16): a tagged cell draws it
LOOK_INSIDE = ("03_lstm_gru", "05_char_rnn", "06_word2vec", "07_seq2seq", "09_transformer", "10_bert_pretraining")
SVG_FILES = sorted(FIGURE_DIR.glob("*.svg"))


def references():
    return {path.stem: figure_references(read(path)) for path in NOTEBOOKS}


@pytest.mark.parametrize("svg_path", SVG_FILES, ids=[p.name for p in SVG_FILES])
def test_figure_file_is_a_self_contained_svg(svg_path):
    assert not svg_problems(svg_path), f"{svg_path.name}: {svg_problems(svg_path)}"


def test_figure_names_start_with_their_notebook_number():
    numbers = {p.stem[:2] for p in NOTEBOOKS}
    wrong = [p.name for p in SVG_FILES if p.name[:2] not in numbers or p.name[2] != "_"]
    assert not wrong, f"name figures NN_what.svg after the notebook that shows them: {wrong}"


def test_every_shown_figure_exists_and_its_embedded_copy_is_current():
    problems = []
    for notebook, found in references().items():
        for cell, relative_path, url in found:
            path = FIGURE_DIR.parent / relative_path
            if not path.is_file():
                problems.append(f"{notebook} cell {cell}: {relative_path} does not exist")
            elif url != data_uri(path):
                problems.append(f"{notebook} cell {cell}: the embedded {relative_path} differs from the file")
    assert not problems, "\n".join(problems) + "\nRun `python course.py figures` after editing a drawing."


def test_every_figure_file_is_shown_by_a_notebook():
    shown = {relative_path for found in references().values() for _, relative_path, _ in found}
    unused = [p.name for p in SVG_FILES if f"figures/{p.name}" not in shown]
    assert not unused, f"figure files no notebook shows (delete them or show them): {unused}"


def test_every_notebook_after_the_first_shows_a_schematic():
    missing = [name for name, found in references().items() if not name.startswith("00") and not found]
    assert not missing, f"notebooks without a schematic of what they build: {missing}"


def test_look_inside_notebooks_have_tagged_plot_cells():
    by_stem = {p.stem: p for p in NOTEBOOKS}
    missing = [name for name in LOOK_INSIDE if not cells_tagged(read(by_stem[name]), LOOK_INSIDE_TAG)]
    assert not missing, f"no cell tagged {LOOK_INSIDE_TAG!r} (the plot of the trained model) in: {missing}"


def test_svg_problems_catches_what_breaks_a_figure(tmp_path):
    cases = {
        "no_viewbox.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        "broken.svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"',
        "external.svg": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
                        'width="10" height="10" viewBox="0 0 10 10"><image xlink:href="http://x/y.png"/></svg>',
        "not_svg.svg": '<html/>',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert svg_problems(tmp_path / name), name
    good = tmp_path / "good.svg"
    good.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10">'
                    '<defs><marker id="a"/></defs><use href="#a"/></svg>')
    assert svg_problems(good) == []


def test_embed_figures_refreshes_every_copy_in_a_cell(tmp_path):
    import nbformat

    first, second = SVG_FILES[:2]
    marker = "<!-- figure: figures/{} -->"
    cell = nbformat.v4.new_markdown_cell("\n".join([
        marker.format(first.name),                                  # its image line is missing
        marker.format(second.name), "![second](data:image/svg+xml;base64,c3RhbGU=)",   # a stale copy
        "", "*caption*"]))
    path = tmp_path / "figures_demo.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    assert embed_figures(path) == 2
    found = figure_references(read(path))
    assert [(relative, url) for _, relative, url in found] == [
        (f"figures/{first.name}", data_uri(first)), (f"figures/{second.name}", data_uri(second))]
    assert embed_figures(path) == 0, "a second pass finds every copy current"
