"""Reference solutions for notebook 05 (character-level language model)."""
import math

import torch
import torch.nn.functional as F

# Exercise 1: 1.4 nats per character
BITS_AT_1_4_NATS = 1.4 / math.log(2)
PERPLEXITY_AT_1_4_NATS = math.exp(1.4)


def temperature_softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) over the last axis; T == 0 gives the one-hot arg-max (greedy)."""
    if temperature == 0:
        return F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(logits.dtype)
    return F.softmax(logits / temperature, dim=-1)


def top_k_probs(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Next-character probabilities restricted to the k largest logits of each row (last axis)."""
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return F.softmax(logits.masked_fill(logits < kth_largest, float("-inf")), dim=-1)


def make_streams(token_ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(N,) -> (B, N // B): row b holds the b-th consecutive piece of the sequence."""
    length = len(token_ids) // batch_size
    return token_ids[: batch_size * length].view(batch_size, length)
