"""Reference solutions for the exercises of notebook 07 (sequence to sequence)."""
from __future__ import annotations

import torch

EXERCISES = {1: ["masked_nll"], 2: ["normalised_score", "winner_alpha_0", "winner_alpha_1"],
             3: ["reverse_source"]}


def masked_nll(logits: torch.Tensor, targets: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Mean negative log-likelihood of ``targets`` (batch, T) under ``logits`` (batch, T, V),
    over the positions that are not padding."""
    log_probs = logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    mask = (targets != pad_id).to(log_probs.dtype)
    return -(log_probs * mask).sum() / mask.sum()


def normalised_score(log_prob: float, length: int, alpha: float) -> float:
    """The score divided by Wu et al.'s (2016) length penalty lp = ((5 + |Y|) / 6) ** alpha."""
    return log_prob / ((5 + length) / 6) ** alpha


# A 4-token hypothesis with log p = -2.0 against a 10-token one with log p = -3.2:
# raw scores prefer the short one; divided by lp (alpha = 1): -2.0 / 1.5 = -1.33 vs -3.2 / 2.5 = -1.28.
winner_alpha_0 = "short" if normalised_score(-2.0, 4, 0.0) > normalised_score(-3.2, 10, 0.0) else "long"
winner_alpha_1 = "short" if normalised_score(-2.0, 4, 1.0) > normalised_score(-3.2, 10, 1.0) else "long"


def reverse_source(src: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse the real tokens of each right-padded row; the padding stays at the end."""
    out = src.clone()
    for i, n in enumerate(lengths.tolist()):
        out[i, :n] = src[i, :n].flip(0)
    return out
