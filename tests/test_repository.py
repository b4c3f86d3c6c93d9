"""Repository checks: notebooks stripped, numbered without gaps, listed in the README,
the same setup cell everywhere, and the anatomy every notebook follows."""
import json

import nbformat
import pytest

from utils.notebooks import NOTEBOOK_DIR, ROOT, SETUP_CELL, list_notebooks, setup_cell_source

NOTEBOOKS = list_notebooks()
IDS = [p.stem for p in NOTEBOOKS]


def test_notebooks_exist_and_are_numbered_without_gaps():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers, "no notebooks found"
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
    strays = [p.name for p in NOTEBOOK_DIR.glob("*.ipynb") if p not in NOTEBOOKS]
    assert not strays, f"notebooks not named NN_topic.ipynb: {strays}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"cells {dirty} have outputs: run `python course.py strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_listed_in_readme(path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"notebooks/{path.name}" in readme, f"{path.name} is missing from the README course map"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_identical_setup_cell(path):
    assert setup_cell_source(path) == SETUP_CELL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_anatomy(path):
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "title cell first"
    assert cells[1].cell_type == "code" and cells[1].source == SETUP_CELL, "setup cell second"
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and cells.index(tagged[0]) == 2, "a parameters cell (tagged) third"
    assert "PROFILE" in tagged[0].source
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown").lower()
    for heading in ("key points", "exercises", "further reading"):
        assert heading in text, f"missing a '{heading}' section"
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert "Results(" in code and ".finish()" in code, "results must be recorded through utils"
    assert "assert " in code, "a notebook proves its claims with asserts"
