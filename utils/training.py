"""One training loop for the course: progress bar, history, gradient clipping, checkpoint/resume.

The notebooks build their models themselves; this loop only runs them::

    history = train(model, train_loader, optimizer=opt, epochs=5, clip_norm=1.0,
                    evaluate=lambda m: {"val_accuracy": accuracy_on(m, val_loader)},
                    checkpoint="checkpoints/cnn.pt")

``step(model, batch) -> loss`` says how a batch becomes a loss (default: ``x, y = batch`` and
cross-entropy of ``model(x)`` against ``y``). With ``checkpoint`` set, the model, optimizer,
scheduler, history and position are saved after every epoch (and every ``checkpoint_every``
steps); calling ``train`` again with the same path resumes where it stopped, so a Colab
disconnect loses at most one epoch.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm


@dataclass
class History:
    """Losses per step and evaluation figures per epoch (or per ``eval_every`` steps)."""

    steps: list = field(default_factory=list)        # global step of each training loss
    loss: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)    # norm before clipping
    evals: list = field(default_factory=list)        # dicts with "step", "epoch", "seconds" (since the
    #                                                  start, at the evaluation), "eval_seconds" and figures
    seconds: float = 0.0

    def last(self, key: str):
        values = [e[key] for e in self.evals if key in e]
        if not values:
            raise KeyError(f"{key!r} was never evaluated; known: {sorted(self.eval_keys())}")
        return values[-1]

    def eval_keys(self):
        return {k for e in self.evals for k in e} - {"step", "epoch", "seconds", "eval_seconds"}

    def series(self, key: str):
        """(steps, values) of an evaluated figure, or of the training loss for ``"loss"``."""
        if key == "loss":
            return list(self.steps), list(self.loss)
        pairs = [(e["step"], e[key]) for e in self.evals if key in e]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def series_by_time(self, key: str):
        """(training seconds, values) of an evaluated figure. The seconds count training only:
        the time the evaluations themselves took (``eval_seconds``) is left out."""
        seconds, values, spent = [], [], 0.0
        for e in self.evals:
            if key in e:
                if "seconds" not in e:
                    raise KeyError(f"the evaluations of {key!r} carry no time: this history comes from a "
                                   "checkpoint written before evaluations were timed; train again")
                seconds.append(e["seconds"] - spent)
                values.append(e[key])
            spent += e.get("eval_seconds", 0.0)
        return seconds, values

    def state_dict(self):
        return {"steps": self.steps, "loss": self.loss, "grad_norm": self.grad_norm,
                "evals": self.evals, "seconds": self.seconds}

    @classmethod
    def from_state_dict(cls, state):
        return cls(**state)

    def plot(self, keys=None, smooth: int = 20, ax=None):
        from utils.plotting import plot_history

        return plot_history(self, keys=keys, smooth=smooth, ax=ax)


def checkpoint_path(name: str) -> Path:
    """Where a notebook keeps its checkpoints: ``$COURSE_CHECKPOINT_DIR`` or ``checkpoints/`` at the
    root (the runner points it at ``runs/<profile>/checkpoints``)."""
    root = os.environ.get("COURSE_CHECKPOINT_DIR") or Path(__file__).resolve().parent.parent / "checkpoints"
    path = Path(root) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def default_step(model, batch):
    inputs, targets = batch
    return F.cross_entropy(model(inputs), targets)


def _to_device(batch, device):
    if device is None:
        return batch
    if torch.is_tensor(batch):
        return batch.to(device)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


def clip_gradients(parameters, max_norm: float) -> float:
    """Rescale gradients so that their global L2 norm is at most ``max_norm``; return the norm before.

    g <- g * max_norm / ||g|| when ||g|| > max_norm (``torch.nn.utils.clip_grad_norm_``).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    return float(torch.nn.utils.clip_grad_norm_(parameters, max_norm))


def gradient_norm(parameters) -> float:
    grads = [p.grad.detach().flatten() for p in parameters if p.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


def save_checkpoint(path, model, optimizer=None, scheduler=None, history=None, config=None, **position):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"model": model.state_dict(), "position": position,
             "rng": torch.get_rng_state(), "config": config}
    if optimizer is not None:
        state["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        state["scheduler"] = scheduler.state_dict()
    if history is not None:
        state["history"] = history.state_dict()
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # never leave a half-written checkpoint behind


class CheckpointError(RuntimeError):
    """A checkpoint file that is missing, damaged or made for another model; the message says what to do."""


def read_checkpoint(path) -> dict:
    """The contents of a checkpoint file written by ``save_checkpoint``, or a clear error."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"There is no checkpoint file {path}. Train first "
                              "(train(..., checkpoint=...)), or fix the path.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:                          # a torn or foreign file: pickle, zip or EOF errors
        raise CheckpointError(f"{path} is not a readable checkpoint ({type(exc).__name__}: {exc}). It may "
                              "have been cut off while being written: delete it and train again.") from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} was not written by save_checkpoint (no model state in it). Delete "
                              "it or choose another file name.")
    return state


def load_checkpoint(path, model, optimizer=None, scheduler=None):
    """Restore what ``save_checkpoint`` wrote; return ``(position dict, History or None)``."""
    state = read_checkpoint(path)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path} holds weights of another model (sizes or layers differ): "
                              f"{str(exc).splitlines()[0]} Delete it, or use the parameters it was trained "
                              "with.") from None
    if optimizer is not None and "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and "scheduler" in state:
        scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["rng"])
    history = History.from_state_dict(state["history"]) if "history" in state else None
    return state["position"], history


def train(model, batches, *, optimizer, epochs: int = 1, step: Callable = default_step,
          clip_norm: float | None = None, scheduler=None, evaluate: Callable | None = None,
          eval_every: int | None = None, max_steps: int | None = None,
          max_seconds: float | None = None, checkpoint=None, checkpoint_every: int | None = None,
          resume: bool = True, config: dict | None = None, device=None, desc: str = "train",
          progress: bool = True) -> History:
    """Train ``model`` on ``batches`` (a DataLoader or any re-iterable of batches).

    ``scheduler.step()`` is called after every optimizer step. ``evaluate(model) -> dict`` runs
    (in eval mode, without gradients) after each epoch and every ``eval_every`` steps.
    ``max_steps`` / ``max_seconds`` stop early (the study profile's time budget).
    ``config`` (the notebook's sizes and settings that shape this training) is required with a
    ``checkpoint`` and stored in it; a checkpoint made with a different config is not resumed, so
    changing a parameter and rerunning trains afresh instead of resuming a stale run.
    """
    if checkpoint is not None and not config:
        raise ValueError("train(checkpoint=...) needs config=: a dict of the parameters that shape this "
                         "training (sizes, steps, learning rate, data), so that a changed parameter "
                         "starts a new run instead of resuming an old one.")
    history = History()
    start_epoch, global_step, skip_batches = 0, 0, 0
    try:
        total = len(batches)
    except TypeError:
        total = None
    if total == 0:
        raise ValueError("train() got no batches: the data set is empty, or its batch size larger than it "
                         "(with drop_last).")
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if checkpoint is not None and resume and Path(checkpoint).exists():
        saved_config = read_checkpoint(checkpoint).get("config")
        if saved_config != config:
            print(f"{checkpoint} was made with another configuration; training from scratch "
                  "(it will be overwritten).")
            resume = False
    if checkpoint is not None and resume and Path(checkpoint).exists():
        position, saved_history = load_checkpoint(checkpoint, model, optimizer, scheduler)
        history = saved_history or history
        start_epoch, global_step = position.get("epoch", 0), position.get("step", 0)
        skip_batches = position.get("batch_in_epoch", 0)
        print(f"Resumed from {checkpoint}: epoch {start_epoch}, step {global_step}")
        if position.get("finished"):
            print("That run had finished; delete the checkpoint file to train again from scratch.")
            return history

    if device is not None:
        model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]

    def run_evaluation(epoch):
        if evaluate is None:
            return
        was_training = model.training
        model.eval()
        began = time.time()
        with torch.no_grad():
            figures = evaluate(model)
        model.train(was_training)
        history.evals.append({"step": global_step, "epoch": epoch, "seconds": began - t0,
                              "eval_seconds": time.time() - began, **figures})
        return figures

    t0 = time.time() - history.seconds
    stop = False
    for epoch in range(start_epoch, epochs):
        model.train()
        bar = tqdm(batches, total=total, desc=f"{desc} epoch {epoch + 1}/{epochs}",
                   disable=not progress, leave=False, mininterval=1.0)
        for i, batch in enumerate(bar):
            if i < skip_batches:
                continue
            batch = _to_device(batch, device)
            loss = step(model, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at step {global_step}; lower the "
                                         "learning rate or clip gradients (clip_norm)")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = clip_gradients(params, clip_norm) if clip_norm else gradient_norm(params)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            global_step += 1
            history.steps.append(global_step)
            history.loss.append(loss.item())
            history.grad_norm.append(norm)
            if global_step % 10 == 0:
                bar.set_postfix(loss=f"{loss.item():.4f}")
            if eval_every and global_step % eval_every == 0:
                run_evaluation(epoch)
            history.seconds = time.time() - t0
            if checkpoint is not None and checkpoint_every and global_step % checkpoint_every == 0:
                save_checkpoint(checkpoint, model, optimizer, scheduler, history, config,
                                epoch=epoch, step=global_step, batch_in_epoch=i + 1)
            if (max_steps and global_step >= max_steps) or (max_seconds and history.seconds >= max_seconds):
                stop = True
                break
        skip_batches = 0
        bar.close()
        if not (eval_every and history.evals and history.evals[-1]["step"] == global_step):
            figures = run_evaluation(epoch)
        else:
            figures = None
        history.seconds = time.time() - t0
        if progress:
            recent = history.loss[-max(1, min(50, len(history.loss))):]
            shown = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in (figures or {}).items())
            print(f"{desc} epoch {epoch + 1}/{epochs}: loss {sum(recent) / len(recent):.4f}"
                  + (f", {shown}" if shown else "") + f" ({history.seconds:.0f} s)")
        if checkpoint is not None:
            save_checkpoint(checkpoint, model, optimizer, scheduler, history, config,
                            epoch=epoch + 1, step=global_step, batch_in_epoch=0,
                            finished=stop or epoch + 1 == epochs)
        if stop:
            break
    return history


def accuracy_of(model, batches, device=None) -> float:
    """Fraction of correct arg-max predictions of a classifier over ``(inputs, labels)`` batches."""
    correct = total = 0
    model.eval()
    with torch.no_grad():
        for inputs, labels in batches:
            inputs, labels = _to_device((inputs, labels), device)
            correct += (model(inputs).argmax(-1) == labels).sum().item()
            total += labels.numel()
    if total == 0:
        raise ValueError("accuracy_of got no labelled examples: the evaluation set is empty")
    return correct / total



def numpy_rng_state_loadable():
    """A context in which ``torch.load`` (``weights_only=True``, torch >= 2.6) accepts the NumPy
    random state that ``transformers.Trainer`` saves in each checkpoint: with NumPy 1.x, Trainer
    versions before 5 load that file without allowing its NumPy types and cannot resume."""
    import contextlib

    import numpy as np

    if not hasattr(torch.serialization, "safe_globals"):      # torch < 2.5 loads it as it is
        return contextlib.nullcontext()
    core = getattr(np, "_core", None) or np.core
    return torch.serialization.safe_globals(
        [core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))])
