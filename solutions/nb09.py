"""Reference solutions for the exercises of notebook 09 (the Transformer)."""
from __future__ import annotations

import math

import torch

EXERCISES = {1: ["causal_keep_mask"], 2: ["padding_bias_from_lengths"],
             3: ["unscaled_std_at_64", "peak_lr_512_4000"]}


def causal_keep_mask(n: int) -> torch.Tensor:
    """(n, n) booleans, True where query i may attend to key j, i.e. j <= i."""
    return torch.ones(n, n, dtype=torch.bool).tril()


def padding_bias_from_lengths(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(batch, 1, 1, max_len) additive mask: 0 at the first lengths[b] positions, -inf after."""
    real = torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
    bias = torch.zeros(len(lengths), max_len, device=lengths.device).masked_fill(~real, float("-inf"))
    return bias[:, None, None, :]


# Var(q.k) = d_k for standard-normal components, so the standard deviation is sqrt(64) = 8.
unscaled_std_at_64 = math.sqrt(64)
# The schedule d^-0.5 * min(step^-0.5, step * warmup^-1.5) peaks at step = warmup: (d * warmup)^-0.5.
peak_lr_512_4000 = (512 * 4000) ** -0.5
