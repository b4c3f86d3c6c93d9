"""Reference solutions for notebook 11 (fine-tuning BERT on SQuAD v1.1) and the helpers that make
the inputs the self-checks try them on."""
from __future__ import annotations

import collections
import math

import torch

from utils.metrics import normalize_answer

EXERCISES = {1: ["token_f1"], 2: ["count_windows"], 3: ["best_span"]}


# Exercise 1: the token F1 of one prediction against one gold answer (official definition).
def token_f1(prediction: str, gold: str) -> float:
    predicted = normalize_answer(prediction).split()
    wanted = normalize_answer(gold).split()
    common = sum((collections.Counter(predicted) & collections.Counter(wanted)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def token_f1_cases():
    """Inputs of exercise 1: (prediction, gold) pairs."""
    return [
        ("Denver Broncos", "Denver Broncos"),
        ("the Denver Broncos", "Denver Broncos"),            # articles do not count
        ("Broncos", "Denver Broncos"),                        # P = 1, R = 1/2
        ("Denver Broncos won", "the Broncos"),                # P = 1/3, R = 1
        ("Carolina Panthers", "Denver Broncos"),              # no overlap
        ("Santa Clara, California.", "Santa Clara California"),  # punctuation does not count
        ("24–10", "24–10"),
        ("in 1964 and 1964", "1964"),                         # repeated tokens count once each
        ("", "Levi's Stadium"),
    ]


# Exercise 2: how many windows a context needs.
def count_windows(n_context_tokens: int, n_question_tokens: int, max_length: int, stride: int) -> int:
    """Windows of ``[CLS] question [SEP] context-piece [SEP]``; consecutive pieces share
    ``stride`` tokens, so each new window moves ``room - stride`` tokens further."""
    room = max_length - n_question_tokens - 3
    if n_context_tokens <= room:
        return 1
    return 1 + math.ceil((n_context_tokens - room) / (room - stride))


def window_cases():
    """Inputs of exercise 2: (context tokens, question tokens, max_length, stride)."""
    return [
        (100, 10, 384, 128),    # fits
        (371, 10, 384, 128),    # exactly fills one window
        (372, 10, 384, 128),    # one token too many
        (600, 10, 384, 128),
        (1000, 20, 256, 64),
        (243, 10, 256, 128),    # exactly fills one window
        (244, 10, 256, 128),
        (500, 30, 128, 32),
    ]


# Exercise 3: the best valid span of one window.
def best_span(start_logits: torch.Tensor, end_logits: torch.Tensor, max_answer_length: int):
    """``(start, end)`` maximising start_logits[start] + end_logits[end] over
    start <= end < start + max_answer_length."""
    scores = start_logits[:, None] + end_logits[None, :]
    n = scores.shape[0]
    i = torch.arange(n)
    valid = (i[None, :] >= i[:, None]) & (i[None, :] - i[:, None] < max_answer_length)
    flat = scores.masked_fill(~valid, float("-inf")).argmax()
    return int(flat // n), int(flat % n)


def span_cases(n_cases: int = 6, seed: int = 0):
    """Inputs of exercise 3: (start_logits, end_logits, max_answer_length) with traps."""
    generator = torch.Generator().manual_seed(seed)
    cases = []
    for k in range(n_cases):
        n = 12 + 7 * k
        start, end = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
        start[-1], end[0] = 10.0, 10.0   # the best start comes after the best end: an invalid pair
        start[1], end[-2] = 9.0, 9.0     # a high-scoring span longer than max_answer_length
        cases.append((start, end, 1 + k % 4))
    return cases

