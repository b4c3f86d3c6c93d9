"""Mutation tests: proof that the tests of a notebook test the notebook's own code.

Each mutation changes one line of a notebook's lesson code, in a copy of the notebooks folder,
into a plausible mistake (the forget gate's sigmoid becomes tanh, the attention scale is
dropped). That notebook's tests, run against the copy (``$COURSE_NOTEBOOK_DIR``), must then
fail. The unchanged copy must pass them, so the failure is the mutation's doing.

The mutations stand beside the tests that must catch them: a lesson test file
``tests/lessons/test_nbNN_topic.py`` may define ::

    MUTATIONS = [("f = torch.sigmoid(f)", "f = torch.tanh(f)", "the forget gate squashed by tanh")]

(old text, found exactly once in the notebook's code cells; the mistake; what it is, in words).
"""
import ast
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.notebooks import NOTEBOOK_DIR, ROOT, read
from utils.lessons import load_lesson


@dataclass(frozen=True)
class Mutation:
    notebook: str      # file stem
    old: str           # one line (or part of one) of the notebook's code, found exactly once
    new: str           # the mistake put in its place
    tests: str         # the test file that must catch it
    why: str           # what the mistake is, in words

    def __str__(self):
        return f"{self.notebook}: {self.why}"


LESSON_TESTS = Path(__file__).resolve().parent / "lessons"


def collect_mutations() -> list[Mutation]:
    mutations = []
    for test_file in sorted(LESSON_TESTS.glob("test_nb[0-9][0-9]_*.py")):
        number = test_file.name[len("test_nb"):len("test_nb") + 2]
        (notebook,) = [p.stem for p in NOTEBOOK_DIR.glob(f"{number}_*.ipynb")]
        for node in ast.parse(test_file.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "MUTATIONS" for t in node.targets):
                for old, new, why in ast.literal_eval(node.value):
                    mutations.append(Mutation(notebook, old, new, str(test_file.relative_to(ROOT)), why))
    return mutations


MUTATIONS = collect_mutations()

TEST_FILES = sorted({m.tests for m in MUTATIONS})


def copy_notebooks(tmp_path):
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, folder)
    return folder


def run_tests(test_files, notebook_dir):
    env = {**os.environ, "COURSE_NOTEBOOK_DIR": str(notebook_dir), "COURSE_PROFILE": "smoke"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *test_files]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def apply(mutation, folder):
    import nbformat

    path = folder / f"{mutation.notebook}.ipynb"
    nb = read(path)
    found = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and mutation.old in c.source]
    assert len(found) == 1 and found[0][1].source.count(mutation.old) == 1, \
        f"{mutation.old!r} must stand exactly once in {path.name}'s code (found in cells {[i for i, _ in found]})"
    assert mutation.old != mutation.new
    found[0][1].source = found[0][1].source.replace(mutation.old, mutation.new)
    nbformat.write(nb, path)
    return path


@pytest.mark.mutation
def test_the_unchanged_copy_passes(tmp_path):
    if not MUTATIONS:
        pytest.skip("no mutations listed")
    result = run_tests(TEST_FILES, copy_notebooks(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.mutation
@pytest.mark.parametrize("mutation", MUTATIONS, ids=str)
def test_a_mutation_makes_the_notebooks_tests_fail(mutation, tmp_path):
    folder = copy_notebooks(tmp_path)
    path = apply(mutation, folder)
    load_lesson(path, profile="smoke")      # still loads: the failure must come from the tests
    result = run_tests([mutation.tests], folder)
    assert result.returncode == 1, (f"the tests in {mutation.tests} did not catch: {mutation.why}\n"
                                    + result.stdout[-3000:] + result.stderr[-2000:])


def test_the_notebooks_with_the_central_claims_have_mutations():
    covered = {m.notebook[:2] for m in MUTATIONS}
    required = {"02", "03", "06", "08", "09", "11"}   # BPTT, LSTM cell, SGNS gradient, attention
    assert required <= covered, f"no mutation test for notebook(s) {sorted(required - covered)}"
