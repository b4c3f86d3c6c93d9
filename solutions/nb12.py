"""Reference solutions for the exercises of notebook 12 (GPT-2 generation), named like the
notebook's stubs; ``EXERCISES`` lists the answers of each exercise."""
from __future__ import annotations

import math

import torch

EXERCISES = {1: ["nucleus_size"], 2: ["min_p_filter"], 3: ["ban_repeated_ngrams"], 4: ["bits_per_char"]}


def smallest_nucleus(probabilities: list[float], p: float) -> int:
    """How many of the most likely tokens the nucleus keeps: the fewest whose mass reaches p."""
    mass = 0.0
    for n, probability in enumerate(sorted(probabilities, reverse=True), start=1):
        mass += probability
        if mass >= p - 1e-9:          # 0.45 + 0.25 + 0.12 + 0.08 is 0.8999... in floating point
            return n
    return len(probabilities)


# Exercise 1: 0.45 + 0.25 + 0.12 = 0.82 < 0.9, + 0.08 = 0.90 >= 0.9: four tokens.
nucleus_size = smallest_nucleus([0.45, 0.25, 0.12, 0.08, 0.05, 0.03, 0.02], 0.9)


def min_p_filter(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Keep tokens with probability >= min_p * (the largest probability); others get -inf."""
    probs = logits.softmax(-1)
    threshold = min_p * probs.max(dim=-1, keepdim=True).values
    return logits.masked_fill(probs < threshold, float("-inf"))


def ban_repeated_ngrams(ids: torch.Tensor, logits: torch.Tensor, n: int) -> torch.Tensor:
    """Set to -inf every next token that would complete an n-gram already in ``ids`` (1-D)."""
    tokens = ids.tolist()
    out = logits.clone()
    if len(tokens) < n - 1 or n < 1:
        return out
    prefix = tuple(tokens[len(tokens) - (n - 1):]) if n > 1 else ()
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i:i + n - 1]) == prefix:
            out[tokens[i + n - 1]] = float("-inf")
    return out


def bits_per_char(perplexity: float, chars_per_token: float) -> float:
    """log2(perplexity) bits per token, spread over the characters of a token."""
    return math.log2(perplexity) / chars_per_token
