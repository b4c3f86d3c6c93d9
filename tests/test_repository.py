"""Repository checks: notebooks stripped, numbered without gaps, listed in the README, the same
setup cell everywhere, the anatomy every notebook follows, lesson code that loads on its own,
and exercises whose references stay out of the learner's namespace."""
import ast
import json
import re

import nbformat
import pytest

from tools.notebooks import (
    CHECK_TAG,
    EXERCISE_TAG,
    NOTEBOOK_DIR,
    ROOT,
    SETUP_CELL,
    cells_tagged,
    exercise_names,
    list_notebooks,
    setup_cell_source,
)
from utils.lessons import load_lesson, unbound_globals

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
    assert re.search(rf'Results\("{path.stem}", PROFILE\)', tagged[0].source), \
        f'the parameters cell records results as Results("{path.stem}", PROFILE)'
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown").lower()
    for heading in ("key points", "exercises", "further reading"):
        assert heading in text, f"missing a '{heading}' section"
    code = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert ".finish()" in code, "results must be recorded through utils.results"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_lesson_code_loads_and_reads_no_run_state(path):
    """Tests and later notebooks import a notebook's definitions (utils.lessons): they must load
    without its trainings, and no function or class may read a value the notebook computes while
    it runs (pass it as an argument instead)."""
    load_lesson(path, profile="smoke")
    assert unbound_globals(path) == {}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exercises_are_tagged_and_their_references_stay_hidden(path):
    nb = nbformat.read(path, as_version=4)
    stubs, checks = cells_tagged(nb, EXERCISE_TAG), cells_tagged(nb, CHECK_TAG)
    assert checks, f"tag the self-check cells {CHECK_TAG!r} (and the stubs {EXERCISE_TAG!r})"
    for i in checks:
        tree = ast.parse(nb.cells[i].source)
        imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                    for a in n.names} | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(name.split(".")[0] == "solutions" for name in imported), \
            f"cell {i} imports the solutions: use utils.checks.Exercises, which keeps them out of sight"
        assert "Exercises(" in nb.cells[i].source or "exercises." in nb.cells[i].source
    import importlib

    solutions = importlib.import_module(f"solutions.nb{path.name[:2]}")
    answered = {name for names in solutions.EXERCISES.values() for name in names}
    missing = [name for name in exercise_names(nb) if name not in answered]
    assert not missing, f"solutions/nb{path.name[:2]}.py has no EXERCISES answer for {missing}"
    assert stubs or not exercise_names(nb)
