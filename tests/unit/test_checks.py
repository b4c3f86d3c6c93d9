"""utils.checks: the exercise self-checks, and Exercises, which keeps the references out of sight."""
import sys
import types

import pytest
import torch

from utils.checks import CheckFailed, Exercises, check_close, check_equal, check_function


def test_checks_pass_and_fail(capsys):
    assert check_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    assert not check_close([1.0, 2.5], [1.0, 2.0], hint="look again")
    assert "hint: look again" in capsys.readouterr().out
    assert not check_close(..., 1.0)
    assert check_equal("1998-03-03", "1998-03-03") and not check_equal(3, 4)
    with pytest.raises(CheckFailed):
        check_equal(3, 4, raise_on_fail=True)

    def unfinished(x):
        raise NotImplementedError

    assert check_function(torch.relu, lambda x: x.clamp(min=0), cases=[torch.randn(5)])
    assert not check_function(unfinished, torch.relu, cases=[torch.randn(5)])
    assert not check_function(torch.sigmoid, torch.relu, cases=[torch.randn(5)])
    assert not check_function(lambda x: x[:2], torch.relu, cases=[torch.randn(5)])


def test_no_hint_before_a_first_attempt(capsys):
    def unfinished(x):
        raise NotImplementedError

    assert not check_function(unfinished, torch.relu, cases=[torch.randn(5)], hint="think of the kink")
    assert not check_close(..., 1.0, hint="think of the kink")
    assert not check_equal(..., 1, hint="think of the kink")
    stub_output = capsys.readouterr().out
    assert "kink" not in stub_output and stub_output.count("hint shows once you have tried") == 3
    assert not check_function(torch.sigmoid, torch.relu, cases=[torch.randn(5)], hint="think of the kink")
    assert "hint: think of the kink" in capsys.readouterr().out



@pytest.fixture
def solutions_99(monkeypatch):
    module = types.ModuleType("solutions.nb99")
    source = (
        "EXERCISES = {1: ['double'], 2: ['answer']}\n"
        "def helper(x):\n    return 2 * x\n"
        "def double(x):\n    return helper(x)\n"
        "answer = helper(21)\n"
        "def cases():\n    return [(1,), (2.5,)]\n")
    path = "<solutions 99>"
    import linecache

    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    exec(compile(source, path, "exec"), module.__dict__)
    module.__file__ = path
    monkeypatch.setitem(sys.modules, "solutions.nb99", module)
    return module


def test_exercises_check_against_hidden_references(solutions_99, capsys):
    exercises = Exercises("99_test")
    assert "show_solution" in repr(exercises)
    assert exercises.check_function(lambda x: x + x, cases=exercises.cases("cases"), name="double")
    assert "PASS  exercise 1: double" in capsys.readouterr().out

    def double(x):
        raise NotImplementedError

    assert not exercises.check_function(double, cases=[(1,)], hint="twice")
    assert "NOT YET  exercise 1: double: not written yet" in capsys.readouterr().out
    assert exercises.check_equal("answer", 42) and not exercises.check_equal("answer", ...)
    assert not exercises.check_close("answer", 41.0, atol=0.5)
    with pytest.raises(LookupError, match="no exercise answer named 'helper'"):
        exercises.check_equal("helper", 1)


def test_show_solution_prints_the_answer_and_its_helpers(solutions_99, capsys):
    exercises = Exercises("99_test")
    exercises.show_solution(2)
    out = capsys.readouterr().out
    assert "answer = helper(21)" in out and "def helper(x)" in out
    exercises.show_solution(1)
    assert "def double(x)" in capsys.readouterr().out
    with pytest.raises(LookupError, match="no exercise 3"):
        exercises.show_solution(3)
