"""The recipe trials (``course.py trials``): every trial sets parameters its notebook has, and the
study profile uses the best recorded trial that fits the notebook's time limit."""
import pytest

from tools.trials import TRIALS
from utils.lessons import load_lesson
from utils.results import recorded_trials

# the study profile's limit per notebook (seconds of notebook wall time), and which way is better
LIMITS = {"05_char_rnn": (300, "val_bits_per_char", min), "11_bert_squad": (600, "f1", max)}


@pytest.mark.parametrize("notebook", sorted(TRIALS))
def test_trials_set_parameters_the_notebook_has(notebook):
    study = load_lesson(notebook, profile="study")
    for name, _, parameters in TRIALS[notebook][2]:
        missing = [p for p in parameters if not hasattr(study, p)]
        assert not missing, f"trial {name} sets {missing}, which {notebook}'s parameters cell lacks"


@pytest.mark.parametrize("notebook", sorted(LIMITS))
def test_the_study_recipe_is_the_best_recorded_trial_within_the_time(notebook):
    limit, figure, best_of = LIMITS[notebook]
    trials = [t for t in recorded_trials(notebook) if t["wall_seconds"] <= limit]
    assert trials, f"no trial of {notebook} within {limit} s is recorded in results/trials/"
    best = best_of(trials, key=lambda t: t[figure])
    study = load_lesson(notebook, profile="study")
    for name, value in best["parameters"].items():
        ours = getattr(study, name)
        if name == "MIXED_PRECISION" and ours == "auto":    # "auto" picks bf16 where a timed step is faster
            assert value in ("bf16", "no"), (name, value)
        else:
            assert ours == value, f"{notebook}: the study profile has {name} = {ours!r}, the best trial {best['trial']} {value!r}"


def test_show_trials_marks_and_returns_the_trial_of_this_recipe(tmp_path, monkeypatch, capsys):
    import json

    import utils.results as results

    monkeypatch.setattr(results, "TRIALS_DIR", tmp_path)
    rows = [{"trial": "a", "what": "first", "parameters": {"X": 1}, "f1": 50.0, "speed_ratio": 1.0,
             "wall_seconds": 120, "session": "s", "machine": "m"},
            {"trial": "b", "what": "second", "parameters": {"X": 2}, "f1": 60.0, "speed_ratio": 1.5,
             "wall_seconds": 90, "session": "s", "machine": "m"},
            {"trial": "a", "what": "first, again", "parameters": {"X": 1}, "f1": 51.0, "speed_ratio": 1.0,
             "wall_seconds": 118, "session": "t", "machine": "m"}]
    (tmp_path / "nb.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [t["trial"] for t in results.recorded_trials("nb")] == ["a", "b"]     # latest line per trial
    same = results.show_trials("nb", {"X": 2}, [("F1", "f1", ".1f")])
    table = capsys.readouterr().out
    assert same["trial"] == "b" and "*b" in table and " a " in table and "51.0" in table and "50.0" not in table
    assert results.show_trials("nb", {"X": 3}, [("F1", "f1", ".1f")]) is None
    assert "none of the recorded trials" in capsys.readouterr().out


@pytest.mark.parametrize("notebook", sorted(TRIALS))
def test_every_trial_is_recorded_with_the_parameters_it_defines(notebook):
    recorded = {t["trial"]: t["parameters"] for t in recorded_trials(notebook)}
    for name, _, parameters in TRIALS[notebook][2]:
        assert recorded.get(name) == parameters, f"trial {name}: rerun `python course.py trials {notebook[:2]}`"
