"""The course's notebooks as files: list them, read their structure, strip their outputs.

What the repository checks and the runner need to know about a notebook's cells: the setup cell
(the same everywhere), the tagged parameters cell, the exercise cells (tag ``exercise``: the
learner's stubs) and their self-check cells (tag ``exercise-check``), and every ``assert``.
"""
from __future__ import annotations

import ast
import hashlib
import re
import sys
from pathlib import Path

from utils.lessons import SETUP_MARKER

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
EXERCISE_TAG = "exercise"
CHECK_TAG = "exercise-check"
LOOK_INSIDE_TAG = "look-inside"   # a plot drawn from the model the run just trained

# The setup cell, identical in every notebook (tests/test_repository.py checks it).
SETUP_CELL = '''# Setup: the same cell in every notebook (explained in 00_getting_started)
import os, subprocess, sys
from pathlib import Path

COURSE_REPO = os.environ.get("COURSE_REPO", "https://github.com/benkyokai-dl/dl-for-language.git")
COURSE_REF = os.environ.get("COURSE_REF", "main")  # Colab cannot tell which branch a badge opened
if "google.colab" in sys.modules:  # Colab: fetch the course once, add only what Colab lacks
    if not Path("/content/course/utils").exists():
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", COURSE_REF, COURSE_REPO,
                        "/content/course"], check=True)
    subprocess.run(["git", "-C", "/content/course", "log", "-1", f"--format=course: {COURSE_REF} %h (%cs)"])
    subprocess.run([sys.executable, "/content/course/course.py", "install", "--colab"], check=True)
    os.chdir("/content/course/notebooks")
ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "utils" / "__init__.py").exists()), None)
if ROOT is None:
    raise RuntimeError("Start Jupyter inside the course folder (the one holding utils/), or on Colab.")
sys.path.insert(0, str(ROOT))

from utils import by_profile, setup_notebook
ENV = setup_notebook()'''


def list_notebooks(selection=None) -> list[Path]:
    """All course notebooks in order, or those whose name or number is in ``selection``."""
    notebooks = sorted(p for p in NOTEBOOK_DIR.glob("*.ipynb") if NAME_PATTERN.match(p.name))
    if not selection:
        return notebooks
    chosen = []
    for item in selection:
        key = Path(item).stem
        matches = [p for p in notebooks if p.stem == key or p.stem.split("_")[0] == key.zfill(2)]
        if not matches:
            names = ", ".join(p.stem for p in notebooks)
            raise SystemExit(f"No notebook matches {item!r}. Known notebooks: {names}")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def setup_cell_source(path: Path) -> str:
    for cell in read(path).cells:
        if cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
            return cell.source
    raise ValueError(f"{path.name} has no setup cell (a code cell starting {SETUP_MARKER!r})")


def cells_tagged(nb, tag: str) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if tag in tags(c)]


def exercise_names(nb) -> list[str]:
    """Names the exercise cells give the learner to fill in (functions and ``= ...`` answers)."""
    names = []
    for i in cells_tagged(nb, EXERCISE_TAG):
        for statement in ast.parse(nb.cells[i].source).body:
            if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
                names.append(statement.name)
            elif isinstance(statement, ast.Assign):
                names += [t.id for t in statement.targets if isinstance(t, ast.Name)]
    return names


def cell_key(source: str) -> str:
    """A key for a code cell's code, the same whether computed here or inside the kernel."""
    return hashlib.sha1(ast.unparse(ast.parse(source)).encode()).hexdigest()[:16]


def assert_sites(nb) -> list[tuple[int, int, str]]:
    """Every ``assert`` in the notebook's code cells: ``(cell index, line, source text)``."""
    sites = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "injected-parameters" in tags(cell):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Assert):
                sites.append((i, node.lineno, ast.get_source_segment(cell.source, node) or ""))
    return sites


def sync_setup_cell(path: Path) -> bool:
    """Write SETUP_CELL into the notebook's setup cell (the one every notebook shares)."""
    import nbformat

    nb = read(path)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
            if cell.source == SETUP_CELL:
                return False
            cell.source = SETUP_CELL
            nbformat.write(nb, path)
            return True
    raise ValueError(f"{path.name} has no setup cell (a code cell starting {SETUP_MARKER!r})")


def strip_outputs(path: Path) -> bool:
    """Remove outputs, execution counts and execution metadata in place (nbconvert's
    ClearOutputPreprocessor); return whether anything changed."""
    import nbformat
    from nbconvert.preprocessors import ClearOutputPreprocessor

    nb = read(path)
    before = nbformat.writes(nb)
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    if nbformat.writes(nb) == before:
        return False
    nbformat.write(nb, path)
    return True


def export_code(folder: Path, selection=None) -> list[Path]:
    """Write each notebook's code cells (the setup cell left out) to ``folder/NN_topic.py``, one
    ``# cell N`` marker per cell: for reading, searching and duplicate scans across notebooks."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in list_notebooks(selection):
        parts = [f"# cell {i}\n{c.source}\n" for i, c in enumerate(read(path).cells)
                 if c.cell_type == "code" and not c.source.startswith(SETUP_MARKER)]
        out = folder / f"{path.stem}.py"
        out.write_text("\n".join(parts), encoding="utf-8")
        written.append(out)
    return written


def main(argv=None) -> int:
    """``strip [notebooks...]`` (the default), ``sync-setup [notebooks...]`` or
    ``export-code FOLDER [notebooks...]``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sync-setup"]:
        for p in list_notebooks(argv[1:]):
            print(("updated  " if sync_setup_cell(p) else "same     ") + p.name)
        return 0
    if argv[:1] == ["export-code"]:
        if len(argv) < 2:
            raise SystemExit("usage: python -m tools.notebooks export-code FOLDER [notebooks...]")
        for out in export_code(Path(argv[1]), argv[2:]):
            print(out)
        return 0
    for p in list_notebooks(argv[1:] if argv[:1] == ["strip"] else argv):
        print(("stripped " if strip_outputs(p) else "clean    ") + p.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
