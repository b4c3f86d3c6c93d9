"""Every notebook runs top to bottom under the smoke profile, offline, with no data folder; its
own asserts are the checks of what it teaches, and this test counts which of them ran.

Also, in the same kernel after the run: every exercise self-check cell is run again with the
reference solutions in place of the learner's stubs. With the stubs each check must say NOT YET,
with the solutions PASS: a check cell that is wired wrongly fails here, not in a learner's hands.
"""
import ast
import io
import json
import re
import tokenize

import pytest

from tools.execute import execute_notebook
from tools.notebooks import CHECK_TAG, LOOK_INSIDE_TAG, cells_tagged, list_notebooks

NOTEBOOKS = list_notebooks()


STRAY_REPR = re.compile(r"<[\w.]+ (object )?at 0x[0-9a-f]+>|^\[?<matplotlib|^\[?Text\(|^\[\{'notebook'")


def stray_reprs(nb) -> list[str]:
    """Cells whose last line printed the repr of an object nobody asked to see (a generator, a
    list of plot lines, a Text label): end such a line with ';' or assign it."""
    found = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("data", {}).get("text/plain", "") if output.get("output_type") == "execute_result" else ""
            if STRAY_REPR.search(text):
                found.append(f"cell {i}: {text.splitlines()[0][:80]}")
    return found


IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")


def drew_an_image(cell) -> bool:
    return any(kind in output.get("data", {}) for output in cell.get("outputs", []) for kind in IMAGE_TYPES)


def comments_by_line(source: str) -> dict[int, str]:
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string
    return comments


def explained_skip(source: str, line: int) -> bool:
    """Whether the assert at ``line``, or a statement that encloses it (the ``if`` that guards
    it, the ``def`` it sits in), carries a comment that says why it does not run under smoke."""
    comments = comments_by_line(source)
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.Assert) and n.lineno == line)
    lines = set(range(node.lineno, node.end_lineno + 1))
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.stmt):
            lines.add(node.lineno)
    return any("smoke" in comments.get(n, "").lower() for n in lines)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_under_smoke_profile(path, tmp_path, record_property):
    env = {"COURSE_PROFILE": "smoke", "COURSE_RESULTS": str(tmp_path / "results.jsonl"),
           "COURSE_ONLINE": "0", "HF_HUB_OFFLINE": "1",
           # the kernel draws inline, as in Jupyter: with Agg, plt.show() outputs no image to check
           "MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "COURSE_CHECKPOINT_DIR": str(tmp_path / "checkpoints"), "COURSE_DATA_DIR": ""}
    execution = execute_notebook(path, tmp_path / path.name, env=env, timeout=900, check_exercises=True)
    nb = execution.notebook
    record_property("asserts", f"{len(execution.asserts_ran)} of {len(execution.assert_sites)}")
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "profile=smoke" in outputs, "the first output must be the setup banner"
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert rows, "the notebook must record its results"
    assert {r["notebook"] for r in rows} == {path.stem}, "Results(...) must name the notebook's file"
    assert any(r["name"] == "wall_seconds" for r in rows), "results.finish() must run"
    assert not stray_reprs(nb), f"cells end with a stray repr: {stray_reprs(nb)}"
    blank = [i for i in cells_tagged(nb, LOOK_INSIDE_TAG) if not drew_an_image(nb.cells[i])]
    assert not blank, f"cells tagged {LOOK_INSIDE_TAG!r} must draw the trained model (an image output): {blank}"

    assert execution.assert_sites, "a notebook proves its claims with asserts"
    unexplained = [f"cell {cell}, line {line}: {text.splitlines()[0]}"
                   for cell, line, text in execution.asserts_not_run
                   if not explained_skip(nb.cells[cell].source, line)]
    assert not unexplained, ("asserts that did not run under smoke, with no comment on their line or "
                             "on the line that guards them saying why (mention 'smoke'):\n  "
                             + "\n  ".join(unexplained))

    checks = cells_tagged(nb, CHECK_TAG)
    stubs, solved = execution.exercise_output["stubs"], execution.exercise_output["solutions"]
    if checks:
        assert stubs and all(line.startswith("NOT YET") for line in stubs), \
            f"with the stubs every self-check must say NOT YET: {stubs}"
        assert len(solved) == len(stubs) and all(line.startswith("PASS") for line in solved), \
            f"with the reference solutions every self-check must PASS: {solved}"
