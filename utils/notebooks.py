"""Course tooling for the notebooks themselves: list, execute, strip outputs, check structure."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NAME_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
SETUP_MARKER = "# Setup: the same cell in every notebook"


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


def execute_notebook(path: Path, out_path: Path | None = None, env: dict | None = None,
                     timeout: int = 1800):
    """Execute ``path`` top to bottom in a fresh kernel, with ``env`` added to the environment.

    The kernel runs in the notebook's folder, as Jupyter does. Raises on the first failing cell
    (nbclient's CellExecutionError names the cell and the error); the partly executed notebook
    is still written to ``out_path``.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        finally:
            if out_path is not None:
                Path(out_path).parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, out_path)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution counts in place; return whether anything changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
        if "execution" in cell.get("metadata", {}):
            del cell.metadata["execution"]
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def setup_cell_source(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
            return cell.source
    raise ValueError(f"{path.name} has no setup cell (a code cell starting {SETUP_MARKER!r})")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["strip"]:
        for p in list_notebooks(sys.argv[2:]):
            print(("stripped " if strip_outputs(p) else "clean    ") + p.name)
    else:
        print("usage: python -m utils.notebooks strip [notebooks...]")


# The setup cell, identical in every notebook (tests/test_repository.py checks it).
SETUP_CELL = '''# Setup: the same cell in every notebook (explained in 00_getting_started)
import os, subprocess, sys
from pathlib import Path

COURSE_REPO = os.environ.get("COURSE_REPO", "https://github.com/benkyokai-dl/dl-for-language.git")
if "google.colab" in sys.modules:  # Colab: fetch the course once, add only what Colab lacks
    if not Path("/content/course/utils").exists():
        subprocess.run(["git", "clone", "--depth", "1", COURSE_REPO, "/content/course"], check=True)
    subprocess.run([sys.executable, "/content/course/course.py", "install", "--colab"], check=True)
    os.chdir("/content/course/notebooks")
ROOT = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "utils" / "__init__.py").exists()), None)
if ROOT is None:
    raise RuntimeError("Start Jupyter inside the course folder (the one holding utils/), or on Colab.")
sys.path.insert(0, str(ROOT))

from utils import by_profile, setup_notebook
ENV = setup_notebook()'''


def write_notebook(path, cells) -> None:
    """Write a course notebook from ``[(kind, source), ...]``, kind in {"md", "code", "params"}.

    The setup cell is inserted second automatically (after the title cell); "params" is the
    tagged parameters cell. Outputs are empty, as committed notebooks must be.
    """
    import nbformat

    made = []
    for i, (kind, source) in enumerate(cells):
        source = source.strip("\n")
        if kind == "md":
            made.append(nbformat.v4.new_markdown_cell(source))
        elif kind == "code":
            made.append(nbformat.v4.new_code_cell(source))
        elif kind == "params":
            made.append(nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]}))
        else:
            raise ValueError(f"cell kind {kind!r}: use 'md', 'code' or 'params'")
        if i == 0:
            made.append(nbformat.v4.new_code_cell(SETUP_CELL))
    nb = nbformat.v4.new_notebook(cells=made)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:  # stable ids keep diffs small when a notebook is rebuilt
        cell.pop("id", None)
    nb.nbformat_minor = 4
    nbformat.write(nb, path)
