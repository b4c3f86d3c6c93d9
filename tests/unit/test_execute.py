"""tools.execute: parameters injected as papermill does, asserts counted, exercises run twice."""
import json
import os

import pytest

from tools.execute import ParameterError, execute_notebook, parse_parameter
from tools.notebooks import ROOT

EXERCISES = '''EXERCISES = {1: ["double"], 2: ["answer"]}


def double(x):
    return 2 * x


answer = 42
'''


def cell(source, *tags):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source, "outputs": [],
            "execution_count": None}


@pytest.fixture
def notebook(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "__init__.py").write_text("")
    (tmp_path / "solutions" / "nb42.py").write_text(EXERCISES)
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# 42 · A test notebook"},
        cell("PROFILE = 'smoke'\nSTEPS = 3\nNAME = 'x'", "parameters"),
        cell("total = sum(range(STEPS))\nassert total == STEPS * (STEPS - 1) // 2\n"
             "for k in range(2):\n    assert k < 2\n"
             "if STEPS > 100:  # not under smoke: too few steps\n    assert STEPS > 100, 'never reached'"),
        cell("def double(x):\n    raise NotImplementedError\n\n\nanswer = ...", "exercise"),
        cell("from utils.checks import Exercises\nexercises = Exercises('42_test')\n"
             "exercises.check_function(double, cases=[(1,), (3,)])\nexercises.check_equal('answer', answer)",
             "exercise-check"),
    ], "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
                    "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "42_test.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def run(path, **kwargs):
    # the notebook's own folder first: its solutions/ package stands in for the course's
    env = {"PYTHONPATH": f"{path.parent}{os.pathsep}{ROOT}"}
    return execute_notebook(path, path.with_name("out.ipynb"), env=env, **kwargs)


@pytest.mark.notebook
def test_asserts_counted_and_exercises_checked_both_ways(notebook):
    execution = run(notebook, check_exercises=True)
    assert len(execution.assert_sites) == 3 and execution.summary() == "2 of 3 asserts ran"
    (not_run,) = execution.asserts_not_run
    assert "never reached" in not_run[2]
    assert execution.exercise_output["stubs"] == ["NOT YET  exercise 1: double: not written yet",
                                                  "NOT YET  exercise 2: answer: no answer yet (replace the ... )"]
    assert execution.exercise_output["solutions"] == ["PASS  exercise 1: double", "PASS  exercise 2: answer"]
    saved = json.loads(notebook.with_name("out.ipynb").read_text())
    assert len(saved["cells"]) == 5, "the saved notebook holds only the notebook's own cells"
    assert "__course" not in json.dumps(saved["cells"])


@pytest.mark.notebook
def test_parameters_are_injected_after_the_parameters_cell(notebook):
    execution = run(notebook, parameters={"STEPS": 200}, count_asserts=True)
    cells = execution.notebook.cells
    assert "injected-parameters" in cells[2].metadata["tags"] and "STEPS = 200" in cells[2].source
    assert execution.summary() == "3 of 3 asserts ran", "a parameter changes which claims are checked"


def test_unknown_parameters_are_refused_with_the_known_ones(notebook):
    with pytest.raises(ParameterError, match="no parameter EPOCHS.*PROFILE, STEPS, NAME"):
        run(notebook, parameters={"EPOCHS": 2})


def test_command_line_values():
    assert parse_parameter("2") == 2 and parse_parameter("3e-4") == 3e-4
    assert parse_parameter("None") is None and parse_parameter("[1, 2]") == [1, 2]
    assert parse_parameter("my.json") == "my.json" and parse_parameter("'quoted'") == "quoted"


@pytest.mark.notebook
def test_the_kernel_is_stopped_after_the_notebook(tmp_path):
    # a kernel left running keeps its memory (a trained BERT) until the whole run ends
    nb = {"cells": [cell("import os\nprint(os.getpid())")],
          "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "42_pid.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    execution = run(path, count_asserts=False)
    pid = int(execution.notebook.cells[0].outputs[0]["text"].strip())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
