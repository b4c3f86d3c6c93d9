"""utils.lessons: a notebook's definitions as a module, without its trainings."""
import json
import shutil

import pytest

from utils.lessons import (
    LessonError,
    from_notebook,
    lesson_statements,
    load_lesson,
    parameter_names,
    unbound_globals,
)


def write_notebook(path, cells):
    """A minimal notebook from ``[(tags, source), ...]`` (all code cells)."""
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source,
                     "outputs": [], "execution_count": None} for tags, source in cells],
          "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_DIR", str(tmp_path))
    return write_notebook(tmp_path / "42_demo.ipynb", [
        ((), "# Setup: the same cell in every notebook\nraise RuntimeError('the setup cell is not run')"),
        (("parameters",), "PROFILE = ENV.profile\nSTEPS = by_profile(PROFILE, smoke=2, study=20, full=200)\n"
                          "WIDTH = 3"),
        ((), "import math\nDOUBLE_STEPS = 2 * STEPS\ndata = [1, 2, 3]\nSIZE = len(data)\n"
             "def area(r):\n    return math.pi * r ** 2\n\nprint('training...')\nraise SystemExit('no run')"),
        ((), "class Box:\n    SIDE = WIDTH\n    def volume(self):\n        return self.SIDE ** 3\n\n"
             "def uses_run_state():\n    return data[0]\n\nresult = area(2)"),
    ])


def test_only_definitions_run(notebook):
    lesson = load_lesson("42", profile="smoke")
    assert lesson.STEPS == 2 and lesson.DOUBLE_STEPS == 4 and lesson.Box().volume() == 27
    assert lesson.area(1) == pytest.approx(3.14159, rel=1e-5)
    assert not hasattr(lesson, "data") and not hasattr(lesson, "result")
    assert not hasattr(lesson, "SIZE"), "a constant computed from run state is not a definition"
    assert load_lesson("42_demo", profile="study").STEPS == 20


def test_parameters_override_as_papermill_would(notebook):
    assert load_lesson("42", profile="smoke", parameters={"STEPS": 7}).DOUBLE_STEPS == 14
    with pytest.raises(LessonError, match="no parameter NOPE"):
        load_lesson("42", profile="smoke", parameters={"NOPE": 1})
    assert parameter_names(notebook) == ["PROFILE", "STEPS", "WIDTH"]


def test_unbound_globals_finds_definitions_that_read_run_state(notebook):
    assert unbound_globals(notebook) == {"uses_run_state": ["data"]}


def test_from_notebook_says_where_definitions_come_from(notebook, capsys):
    area, box = from_notebook("42", "area", "Box", profile="smoke")
    assert "from 42_demo: area, Box" in capsys.readouterr().out and box().volume() == 27
    with pytest.raises(LessonError, match="defines no Circle"):
        from_notebook("42", "Circle", profile="smoke")


def test_tracebacks_and_source_point_into_the_notebook(notebook):
    import inspect

    lesson = load_lesson("42", profile="smoke")
    assert "return math.pi * r ** 2" in inspect.getsource(lesson.area)
    assert lesson.area.__code__.co_filename.endswith("42_demo.ipynb, cell 2")


def test_a_changed_notebook_is_loaded_again(notebook):
    assert load_lesson("42", profile="smoke").WIDTH == 3
    text = notebook.read_text().replace("WIDTH = 3", "WIDTH = 5")
    notebook.write_text(text)
    assert load_lesson("42", profile="smoke").WIDTH == 5


def test_errors_name_the_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_NOTEBOOK_DIR", str(tmp_path))
    write_notebook(tmp_path / "43_broken.ipynb", [(("parameters",), "X = 1"), ((), "import no_such_module_x")])
    with pytest.raises(LessonError, match="43_broken.ipynb, cell 1: .*ModuleNotFoundError"):
        load_lesson("43", profile="smoke")
    with pytest.raises(LessonError, match="No single notebook matches '77'"):
        load_lesson("77")
    (tmp_path / "44_bad.ipynb").write_text("{not json")
    with pytest.raises(LessonError, match="Cannot read"):
        list(lesson_statements(tmp_path / "44_bad.ipynb"))


def test_a_copy_elsewhere_is_found_through_the_variable(tmp_path, monkeypatch, notebook):
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copy(notebook, other / notebook.name)
    monkeypatch.setenv("COURSE_NOTEBOOK_DIR", str(other))
    assert load_lesson("42", profile="smoke").__file__ == str((other / notebook.name).resolve())


def test_a_later_notebook_keeps_what_it_takes_from_an_earlier_one(notebook, capsys):
    later = write_notebook(notebook.parent / "43_later.ipynb", [
        (("parameters",), "PROFILE = ENV.profile"),
        ((), "from utils.lessons import from_notebook\n"
             "area, Box = from_notebook('42_demo', 'area', 'Box', profile=PROFILE)\n"
             "def double_area(r):\n    return 2 * area(r)"),
    ])
    lesson = load_lesson(later, profile="smoke")
    assert lesson.double_area(1) == pytest.approx(2 * 3.14159, rel=1e-5) and lesson.Box().volume() == 27
    assert unbound_globals(later) == {}
