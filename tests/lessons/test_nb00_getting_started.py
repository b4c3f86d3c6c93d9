"""Notebook 00's own helpers (loaded from the notebook): the step functions of its one-weight
training, the interruption that pulls the plug, resuming from the checkpoint, and the exercise
self-check."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.checks import Exercises
from utils.lessons import load_lesson
from utils.training import train

MUTATIONS = [
    ("if steps_taken > n_steps:", "if steps_taken >= n_steps:",
     "the plug is pulled one step early (n_steps steps are no longer all taken)"),
]


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("00_getting_started", profile="smoke")


def linear_batches(n_examples=48, batch_size=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n_examples, 1, generator=generator)
    y = 3 * x - 1 + 0.1 * torch.randn(n_examples, 1, generator=generator)
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, n_examples, batch_size)]


def test_squared_error_is_the_mean_squared_error_of_the_batch(nb):
    model = nn.Linear(1, 1)
    x, y = linear_batches()[0]
    assert torch.equal(nb.squared_error(model, (x, y)), F.mse_loss(model(x), y))


def steps_before_the_plug(step, n_calls):
    """How many calls of ``step`` pass before it raises KeyboardInterrupt (caught here: an
    uncaught one would stop pytest itself instead of failing the test)."""
    for k in range(n_calls):
        try:
            step(None, k)
        except KeyboardInterrupt:
            return k
    return n_calls


def test_the_plug_is_pulled_on_the_step_after_the_budget(nb):
    calls = []
    step = nb.pull_the_plug_after(3, lambda model, batch: calls.append(batch) or torch.tensor(float(batch)))
    assert steps_before_the_plug(step, 10) == 3, "exactly n_steps steps pass, the next one is interrupted"
    assert calls == [0, 1, 2], "the interrupted step never reaches the wrapped step function"
    assert steps_before_the_plug(nb.pull_the_plug_after(3, lambda model, batch: torch.tensor(0.0)), 10) == 3, \
        "each call of the factory counts afresh"
    assert steps_before_the_plug(nb.pull_the_plug_after(0, lambda model, batch: torch.tensor(0.0)), 10) == 0


def _fit(nb, batches, epochs, checkpoint, step, config):
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = train(model, batches, optimizer=optimizer, step=step, epochs=epochs,
                    checkpoint=checkpoint, config=config, desc="test", progress=False)
    return model, history


def test_an_interrupted_training_resumes_to_the_same_model(nb, tmp_path):
    """The notebook's claim in section 4: interrupt mid-epoch, rerun, and the run continues from
    the last finished epoch to the same result as a run that was never interrupted."""
    batches, epochs = linear_batches(), 4
    config = {"epochs": epochs, "n_examples": 48}
    straight, straight_history = _fit(nb, batches, epochs, tmp_path / "straight.pt", nb.squared_error, config)

    interrupted_at = len(batches) * (epochs // 2) + 1            # one step into epoch 3
    with pytest.raises(KeyboardInterrupt):
        _fit(nb, batches, epochs, tmp_path / "resumed.pt", nb.pull_the_plug_after(interrupted_at, nb.squared_error),
             config)
    resumed, history = _fit(nb, batches, epochs, tmp_path / "resumed.pt", nb.squared_error, config)

    assert history.steps == list(range(1, len(batches) * epochs + 1)), "the step count continues, no gaps"
    assert history.loss[:len(batches) * (epochs // 2)] == straight_history.loss[:len(batches) * (epochs // 2)], \
        "the finished epochs' losses come from the checkpoint"
    for a, b in zip(resumed.parameters(), straight.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), "resumed and uninterrupted runs end at the same weights"
    assert abs(resumed.weight.item() - 3) < 0.3, "the fit moved towards y = 3x - 1"


# ------------------------------------------------------------------ the exercise's self-check
def test_exercise_1_check_rejects_a_wrong_steps_per_epoch():
    exercises = Exercises("00_getting_started")
    cases = [(512, 64), (100, 32), (1, 8), (1797, 32)]
    from solutions.nb00 import steps_per_epoch
    assert exercises.check_function(steps_per_epoch, cases=cases)
    assert not exercises.check_function(lambda n, b: n // b, cases=cases, name="steps_per_epoch"), \
        "floor division drops the last, smaller batch"
    assert not exercises.check_function(lambda n, b: n // b + 1, cases=cases, name="steps_per_epoch"), \
        "one extra step when the batches divide evenly"

    def steps_per_epoch(n_examples, batch_size):          # the learner's stub
        raise NotImplementedError
    assert not exercises.check_function(steps_per_epoch, cases=cases)
