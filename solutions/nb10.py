"""Reference solutions for the exercises of notebook 10 (BERT pretraining), named like the
notebook's stubs; ``EXERCISES`` lists the answers of each exercise."""
from __future__ import annotations

EXERCISES = {1: ["fraction_masked", "fraction_selected_unchanged"], 2: ["segment_ids"],
             3: ["word_groups"], 4: ["mean_reciprocal_rank"]}

# Exercise 1: a token is selected with probability 0.15, then turned into [MASK] with 0.8 and
# left unchanged with 0.1.
fraction_masked = 0.15 * 0.8
fraction_selected_unchanged = 0.15 * 0.1


def segment_ids(len_a: int, len_b: int) -> list[int]:
    """token_type_ids of ``[CLS] A [SEP] B [SEP]``: 0 for [CLS], A and the first [SEP]; 1 after."""
    return [0] * (len_a + 2) + [1] * (len_b + 1)


def word_groups(tokens: list[str]) -> list[list[int]]:
    """Positions of each whole word in a WordPiece sequence (for whole-word masking).

    A ``##`` piece joins the word before it; special tokens ([CLS], [SEP], [PAD], ...) belong to
    no word.
    """
    groups: list[list[int]] = []
    for i, token in enumerate(tokens):
        if token.startswith("[") and token.endswith("]"):
            continue
        if token.startswith("##") and groups and groups[-1][-1] == i - 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def mean_reciprocal_rank(rankings: list[list[str]], answers: list[str]) -> float:
    """Mean of 1/rank of each answer in its ranked predictions (0 when it is not ranked)."""
    total = 0.0
    for ranked, answer in zip(rankings, answers, strict=True):
        if answer in ranked:
            total += 1.0 / (ranked.index(answer) + 1)
    return total / max(len(answers), 1)
