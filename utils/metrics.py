"""Metrics: exact match, bits per character, BLEU (sacrebleu), SQuAD EM/F1."""
from __future__ import annotations

import collections
import math
import re
import string


def _paired(predictions, references, what: str):
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} {what} but {len(references)} references: they must be paired, "
                         "one reference per prediction, in the same order")
    if not predictions:
        raise ValueError(f"no {what} to score: an empty test set?")


def exact_match_rate(predictions: list[str], references: list[str]) -> float:
    """Fraction of predicted strings identical to their reference (e.g. ISO dates)."""
    _paired(predictions, references, "predictions")
    return sum(p == r for p, r in zip(predictions, references, strict=True)) / max(len(references), 1)


def bits_per_char(mean_nll_nats: float) -> float:
    """Mean negative log-likelihood per character converted from nats to bits."""
    if not mean_nll_nats >= 0:
        raise ValueError(f"a negative log-likelihood is never below 0 (got {mean_nll_nats}): pass the mean "
                         "cross-entropy in nats")
    return mean_nll_nats / math.log(2)


def bleu(hypotheses: list[str], references: list[str]) -> float:
    """Corpus BLEU (0-100) with sacrebleu's standard settings (13a tokenisation)."""
    import sacrebleu

    _paired(hypotheses, references, "hypotheses")
    if not all(isinstance(t, str) for t in [*hypotheses, *references]):
        raise TypeError("bleu takes strings (detokenised sentences, or tokens joined by spaces), "
                        "not token lists")
    return sacrebleu.corpus_bleu(hypotheses, [references]).score


# SQuAD v1.1: the official evaluation's answer normalisation, exact match and token F1.
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def squad_exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def squad_f1(prediction: str, gold: str) -> float:
    """Token-level F1 between normalised answers (bag of tokens, as the official script)."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_scores(predictions: dict[str, str], records: list[dict]) -> dict[str, float]:
    """Official SQuAD v1.1 EM and F1 in percent: the best over each question's gold answers.

    ``predictions`` maps question id to answer text; ``records`` are flat SQuAD records. A
    question without a prediction counts as wrong (the official script warns and scores 0).
    """
    if not records:
        raise ValueError("no questions to score: the evaluation set is empty")
    em = f1 = 0.0
    for r in records:
        golds = r["answers"]["text"]
        pred = predictions.get(r["id"], "")
        em += max(squad_exact_match(pred, g) for g in golds)
        f1 += max(squad_f1(pred, g) for g in golds)
    n = max(len(records), 1)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n}
