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
