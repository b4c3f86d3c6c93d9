"""Reference solutions for notebook 13 (compression) and the helpers that make the inputs the
self-checks try them on."""
import torch

EXERCISES = {1: ["soft_targets"], 2: ["quantize_int8"], 3: ["size_ratio"], 4: ["breakeven_sparsity"]}


def soft_targets(logits, temperature):
    """Exercise 1: softmax of logits / T over the last dimension."""
    return torch.softmax(logits / temperature, dim=-1)


def quantize_int8(weight):
    """Exercise 2: symmetric per-tensor int8, scale = max|W| / 127."""
    scale = weight.abs().max() / 127
    q = torch.clamp(torch.round(weight / scale), -127, 127).to(torch.int8)
    return q, scale


# Exercise 3: 24M fp32 embedding parameters (4 bytes) + 86M int8 Linear weights (1 byte),
# over 110M fp32 parameters.
size_ratio = (24 * 4 + 86 * 1) / (110 * 4)


def breakeven_sparsity(index_bytes, value_bytes=4):
    """Exercise 4: dense fp32 costs 4 bytes per entry; sparse (1 - s)(value + index). Equal when
    s = 1 - 4 / (value + index)."""
    return 1 - 4 / (value_bytes + index_bytes)


def soft_target_cases(seed=0):
    """Inputs of exercise 1: (logits, temperature)."""
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(4, 3, generator=g), 1.0), (torch.randn(2, 5, generator=g) * 3, 4.0),
            (torch.randn(3, 2, generator=g), 0.5)]


def int8_cases(seed=0):
    """Inputs of exercise 2: weight matrices of different scales."""
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(8, 5, generator=g),), (torch.randn(3, 3, generator=g) * 0.01,)]


def breakeven_cases():
    """Inputs of exercise 4: (index bytes,) or (index bytes, value bytes)."""
    return [(8,), (4,), (2, 2)]
