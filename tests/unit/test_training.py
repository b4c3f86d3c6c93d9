import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.training import History, clip_gradients, load_checkpoint, save_checkpoint, train


def regression_batches(n=256, batch=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, n, batch)]


def mse(model, batch):
    return F.mse_loss(model(batch[0]), batch[1])


def test_loss_falls_and_evaluations_are_recorded():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    batches = regression_batches()
    history = train(model, batches, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), step=mse,
                    epochs=5, evaluate=lambda m: {"val_mse": float(mse(m, batches[0]))}, progress=False)
    assert history.loss[-1] < 0.01 * history.loss[0]
    assert len(history.evals) == 5 and history.last("val_mse") < 1e-3
    assert history.steps == list(range(1, 41))


def test_clipping_bounds_the_norm():
    model = nn.Linear(3, 1)
    (model(torch.randn(4, 3) * 1000).sum() ** 2).backward()
    before = clip_gradients(model.parameters(), 1.0)
    after = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
    assert before > 1.0 and after <= 1.0 + 1e-6


def test_train_with_clip_norm_records_unclipped_norms():
    model = nn.Linear(3, 1)
    batches = [(b[0] * 100, b[1] * 100) for b in regression_batches()]
    history = train(model, batches, optimizer=torch.optim.SGD(model.parameters(), lr=1e-5), step=mse,
                    epochs=1, clip_norm=0.5, progress=False)
    assert max(history.grad_norm) > 0.5


def test_resume_after_interrupt_continues(tmp_path):
    batches = regression_batches()
    path = tmp_path / "ck.pt"
    calls = {"n": 0}

    def interrupting(model, batch):
        calls["n"] += 1
        if calls["n"] == 20:  # during the third epoch
            raise KeyboardInterrupt
        return mse(model, batch)

    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    with pytest.raises(KeyboardInterrupt):
        train(model, batches, optimizer=opt, step=interrupting, epochs=4, checkpoint=path, config={"lr": 0.05},
              progress=False)
    resumed_model = nn.Linear(3, 1)
    history = train(resumed_model, batches, optimizer=torch.optim.SGD(resumed_model.parameters(), lr=0.05),
                    step=mse, epochs=4, checkpoint=path, config={"lr": 0.05}, progress=False)
    assert history.steps == list(range(1, 33))
    # the same run without interruption ends with the same weights
    torch.manual_seed(0)
    reference = nn.Linear(3, 1)
    train(reference, batches, optimizer=torch.optim.SGD(reference.parameters(), lr=0.05), step=mse,
          epochs=4, progress=False)
    assert torch.allclose(reference.weight, resumed_model.weight, atol=1e-6)


def test_changed_config_trains_afresh(tmp_path, capsys):
    path = tmp_path / "ck.pt"
    model = nn.Linear(3, 1)
    batches = regression_batches()
    train(model, batches, optimizer=torch.optim.SGD(model.parameters(), lr=0.05), step=mse, epochs=1,
          checkpoint=path, config={"lr": 0.05}, progress=False)
    history = train(model, batches, optimizer=torch.optim.SGD(model.parameters(), lr=0.01), step=mse, epochs=1,
                    checkpoint=path, config={"lr": 0.01}, progress=False)
    assert "another configuration" in capsys.readouterr().out and history.steps[0] == 1


def test_a_checkpoint_without_config_is_refused(tmp_path):
    model = nn.Linear(3, 1)
    with pytest.raises(ValueError, match="needs config="):
        train(model, regression_batches(), optimizer=torch.optim.SGD(model.parameters(), lr=0.05), step=mse,
              epochs=1, checkpoint=tmp_path / "ck.pt", progress=False)
    assert not (tmp_path / "ck.pt").exists()


def test_a_changed_parameter_restarts_a_finished_run(tmp_path, capsys):
    path, batches = tmp_path / "ck.pt", regression_batches()

    def run(epochs):
        model = nn.Linear(3, 1)
        return train(model, batches, optimizer=torch.optim.SGD(model.parameters(), lr=0.05), step=mse,
                     epochs=epochs, checkpoint=path, config={"epochs": epochs}, progress=False)

    first = run(2)
    again = run(2)                          # same parameters: the finished run is reused, not retrained
    assert again.steps == first.steps and "had finished" in capsys.readouterr().out
    longer = run(3)                         # a changed parameter: trained from step 1, all 3 epochs
    assert "another configuration" in capsys.readouterr().out
    assert longer.steps == list(range(1, 3 * len(batches) + 1))


def test_nan_loss_stops_with_advice():
    model = nn.Linear(3, 1)
    with pytest.raises(FloatingPointError, match="learning rate"):
        train(model, regression_batches(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
              step=lambda m, b: mse(m, b) * float("nan"), epochs=1, progress=False)


def test_checkpoint_roundtrip(tmp_path):
    model = nn.Linear(2, 2)
    history = History(steps=[1], loss=[0.5])
    save_checkpoint(tmp_path / "a.pt", model, history=history, epoch=3)
    other = nn.Linear(2, 2)
    position, restored = load_checkpoint(tmp_path / "a.pt", other)
    assert position["epoch"] == 3 and restored.loss == [0.5]
    assert torch.equal(model.weight, other.weight)


def test_max_seconds_stops_early():
    model = nn.Linear(3, 1)
    history = train(model, regression_batches() * 50, optimizer=torch.optim.SGD(model.parameters(), lr=0.01),
                    step=mse, epochs=100, max_seconds=0.2, progress=False)
    assert history.steps[-1] < 100 * 400


def test_the_trainer_rng_state_loads_with_weights_only(tmp_path):
    # what transformers.Trainer saves as rng_state.pth, and loads on resume with torch's default
    import random

    import numpy as np
    import torch

    from utils.training import numpy_rng_state_loadable

    path = tmp_path / "rng_state.pth"
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.random.get_rng_state()},
               path)
    with numpy_rng_state_loadable():
        state = torch.load(path, weights_only=True)
    assert np.array_equal(state["numpy"][1], np.random.get_state()[1])


def test_series_by_time_leaves_out_the_time_of_the_evaluations():
    import time

    def slow_evaluation(m):
        time.sleep(0.2)
        return {"val_mse": 1.0}

    model = nn.Linear(3, 1)
    history = train(model, regression_batches(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                    step=mse, epochs=3, evaluate=slow_evaluation, progress=False)
    seconds, values = history.series_by_time("val_mse")
    assert values == [1.0, 1.0, 1.0] and all(e["eval_seconds"] >= 0.2 for e in history.evals)
    # three evaluations of 0.2 s each lie inside history.seconds, but none inside the training seconds
    assert history.seconds >= 0.6 and seconds[-1] < history.seconds - 0.55
    assert all(a < b for a, b in zip(seconds, seconds[1:], strict=False))
    assert "seconds" not in history.eval_keys() and "eval_seconds" not in history.eval_keys()


def test_series_by_time_of_an_untimed_history_says_what_to_do():
    history = History(evals=[{"step": 1, "epoch": 0, "bleu": 3.0}])
    with pytest.raises(KeyError, match="train again"):
        history.series_by_time("bleu")
