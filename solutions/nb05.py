"""Reference solutions for notebook 05 (character-level language model)."""
import math

import torch
import torch.nn.functional as F

EXERCISES = {1: ["bits_at_1_4_nats", "perplexity_at_1_4_nats"],
             2: ["temperature_softmax"],
             3: ["top_k_probs"]}

# Exercise 1: 1.4 nats per character
bits_at_1_4_nats = 1.4 / math.log(2)
perplexity_at_1_4_nats = math.exp(1.4)


def temperature_softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) over the last axis; T == 0 gives the one-hot arg-max (greedy)."""
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
    return F.softmax(logits / temperature, dim=-1)


def top_k_probs(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Next-character probabilities restricted to the k largest logits of each row (last axis)."""
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return F.softmax(logits.masked_fill(logits < kth_largest, float("-inf")), dim=-1)
