"""The results recorder (utils.results) and the runner that turns recorded figures into tables."""
import json

import pytest

from tools import runner
from tools.notebooks import list_notebooks
from tools.runner import read_results, results_markdown, run_checkpoint_dir, update_readme
from utils import results as results_module
from utils.results import Results, recorded


def test_results_are_appended_as_json_lines(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    results = Results("01_cnn_review", "smoke", path=path)
    results.record("test_accuracy", 0.98, reference="0.97")
    results.finish()
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0] == {"notebook": "01_cnn_review", "profile": "smoke", "name": "test_accuracy",
                       "value": 0.98, "reference": "0.97"}
    assert rows[1]["name"] == "wall_seconds"
    assert "test_accuracy" in capsys.readouterr().out
    with pytest.raises(TypeError):
        results.record("bad", "high")
    with pytest.raises(ValueError, match="diverged"):
        results.record("loss", float("nan"))


def test_recorded_reads_this_run_first_then_the_course_record(tmp_path, monkeypatch):
    record = tmp_path / "results"
    record.mkdir()
    (record / "study.jsonl").write_text(json.dumps({"notebook": "05_char_rnn", "profile": "study",
                                                    "name": "val_bits_per_char", "value": 2.3}) + "\n")
    monkeypatch.setattr(results_module, "RECORDED_DIR", record)
    monkeypatch.delenv("COURSE_RESULTS", raising=False)
    row = recorded("05_char_rnn", "val_bits_per_char", "study")
    assert row["value"] == 2.3 and row["recorded_in"] == "the course's recorded study run"
    assert recorded("05_char_rnn", "val_bits_per_char", "smoke") is None, "another profile's figure is not used"
    assert recorded("05_char_rnn", "no_such_figure", "study") is None
    this_run = tmp_path / "run.jsonl"
    monkeypatch.setenv("COURSE_RESULTS", str(this_run))
    for value in (2.5, 2.4):
        Results("05_char_rnn", "study").record("val_bits_per_char", value)
    row = recorded("05_char_rnn", "val_bits_per_char", "study")
    assert (row["value"], row["recorded_in"]) == (2.4, "this run"), "the latest of this run"


def test_summary_table_and_readme_block(tmp_path):
    path = tmp_path / "r.jsonl"
    Results("05_char_rnn", "study", path=path).record("val_bits_per_char", 2.1)
    Results("05_char_rnn", "study", path=path).record("wall_seconds", 180)
    table = results_markdown(read_results(path), "test machine", "python course.py run")
    assert "| 05_char_rnn | `val_bits_per_char` | 2.1 |" in table and "3.0 min" in table
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- results:begin -->\nold\n<!-- results:end -->\nb\n")
    update_readme(table, readme)
    assert "old" not in readme.read_text() and "val_bits_per_char" in readme.read_text()


def test_recorded_table_is_shown_below_the_figures(tmp_path):
    path = tmp_path / "r.jsonl"
    results = Results("13_compression", "study", path=path)
    results.record("teacher_accuracy", 0.76, reference="0.815")
    results.record("no_reference_figure", 3.0)
    results.record("speedup", 1.4, reference="1.3-2x")
    results.record_table("compression", ["model", "size MB"], [["teacher", "90.9"], ["student", "0.4"]])
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        results.record_table("bad", ["model", "size MB"], [["teacher"]])
    table = results_markdown(read_results(path), "test machine", "python course.py run")
    lines = table.splitlines()
    # each figure keeps its own reference on its own line, even when a figure in between has none
    assert "| `no_reference_figure` | 3 |  |" in table
    assert any("`speedup` | 1.4 | 1.3-2x" in line for line in lines)
    assert "**13_compression: compression**" in table
    assert lines[-2:] == ["| teacher | 90.9 |", "| student | 0.4 |"]
    assert "`compression`" not in table           # a table is not listed as a figure


def test_a_fresh_run_deletes_only_its_own_checkpoints(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKPOINT_DIR", raising=False)
    kept = tmp_path / "checkpoints" / "05_char_rnn_study.pt"
    kept.parent.mkdir()
    kept.write_bytes(b"weights")
    assert run_checkpoint_dir(tmp_path, fresh=False) == kept.parent and kept.exists()   # resume
    assert run_checkpoint_dir(tmp_path, fresh=True) == kept.parent and not kept.exists()
    learners_own = tmp_path / "drive" / "01_cnn_mnist.pt"     # a notebook's checkpoint elsewhere
    learners_own.parent.mkdir()
    learners_own.write_bytes(b"weights")
    monkeypatch.setenv("COURSE_CHECKPOINT_DIR", str(learners_own.parent))
    assert run_checkpoint_dir(tmp_path, fresh=True) == kept.parent and learners_own.exists()


def test_notebook_selection():
    everything = list_notebooks()
    assert list_notebooks(["01"]) == [p for p in everything if p.name.startswith("01_")]
    with pytest.raises(SystemExit, match="No notebook matches"):
        list_notebooks(["99"])


def test_collect_merges_runs(tmp_path, monkeypatch):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    Results("02_rnn_bptt", "study", path=a).record("x", 1.0)
    Results("05_char_rnn", "study", path=b).record("val_bits_per_char", 2.2)
    Results("05_char_rnn", "smoke", path=b).record("val_bits_per_char", 4.0)
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    assert runner.main(["--collect", str(a), str(b), "--profile", "study", "--machine", "M"]) == 0
    merged = (tmp_path / "results" / "study.jsonl").read_text()
    assert "02_rnn_bptt" in merged and "2.2" in merged and "4.0" not in merged
    assert "on M." in (tmp_path / "results" / "study.md").read_text()


def test_collect_takes_all_of_a_notebooks_figures_from_its_latest_run(tmp_path, monkeypatch):
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    Results("05_char_rnn", "study", path=old).record("renamed_since", 1.0)
    Results("05_char_rnn", "study", path=old).record("val_bits_per_char", 2.4)
    Results("02_rnn_bptt", "study", path=old).record("x", 1.0)
    Results("05_char_rnn", "study", path=new).record("val_bits_per_char", 2.2)
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    assert runner.main(["--collect", str(old), str(new), "--profile", "study", "--machine", "M"]) == 0
    merged = [json.loads(line) for line in (tmp_path / "results" / "study.jsonl").read_text().splitlines()]
    assert {(r["notebook"], r["name"], r["value"]) for r in merged} == {
        ("05_char_rnn", "val_bits_per_char", 2.2), ("02_rnn_bptt", "x", 1.0)}


def tiny_notebook(folder):
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": "# 42 · tiny"},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [], "execution_count": None,
         "source": "EPOCHS = 1\nEVAL_FILE = None"},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "from utils.results import Results\nresults = Results('42_tiny', 'smoke')\n"
                   "assert EPOCHS >= 1\nresults.record('epochs', EPOCHS, data=str(EVAL_FILE))\nresults.finish()"},
    ]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "language": "python",
                                                       "display_name": "Python 3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / "42_tiny.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


@pytest.mark.notebook
def test_run_with_parameters_from_the_command_line(tmp_path, monkeypatch, capsys):
    from tools.notebooks import ROOT

    path = tiny_notebook(tmp_path)
    monkeypatch.setattr(runner, "list_notebooks", lambda selection: [path])
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    out = tmp_path / "run"
    assert runner.main(["42", "--profile", "smoke", "--out", str(out),
                        "-p", "EPOCHS", "3", "-p", "EVAL_FILE", "my.json"]) == 0
    rows = {r["name"]: r for r in read_results(out / "results.jsonl")}
    assert rows["epochs"]["value"] == 3 and rows["epochs"]["data"] == "my.json"
    printed = capsys.readouterr().out
    assert "[1/1] 42_tiny" in printed and "1 of 1 asserts ran" in printed
    assert "-p EPOCHS 3 -p EVAL_FILE my.json" in (out / "results.md").read_text()
    mine = tmp_path / "questions.json"
    mine.write_text("{}")
    monkeypatch.setenv("COURSE_CWD", str(tmp_path))
    assert runner.parse_parameters([["EVAL_FILE", "questions.json"], ["NAME", "not-a-file"]]) == \
        {"EVAL_FILE": str(mine.resolve()), "NAME": "not-a-file"}, "a relative path starts where it was typed"
    # a relative --out starts where the command was typed too, not in notebooks/ where the kernel runs
    assert runner.main(["42", "--profile", "smoke", "--out", "relative-run", "-p", "EPOCHS", "2"]) == 0
    rows = {r["name"]: r for r in read_results(tmp_path / "relative-run" / "results.jsonl")}
    assert rows["epochs"]["value"] == 2 and (tmp_path / "relative-run" / "42_tiny.ipynb").exists()
    assert runner.typed_path("data") == (tmp_path / "data").resolve()
    with pytest.raises(SystemExit, match="no parameter EPOCS.*EPOCHS, EVAL_FILE"):
        runner.main(["42", "--profile", "smoke", "--out", str(out), "-p", "EPOCS", "3"])
    with pytest.raises(SystemExit, match="--profile"):
        runner.main(["42", "--out", str(out), "-p", "PROFILE", "smoke"])
