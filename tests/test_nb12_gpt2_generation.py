"""Notebook 12 (GPT-2 generation): the exercise solutions agree with transformers' own logits
processors, and each self-check passes the reference solution and fails a wrong answer."""
import math

import pytest
import torch

from solutions import nb12
from utils.checks import check_equal, check_function


def test_nucleus_size_by_definition():
    probs = [0.45, 0.25, 0.12, 0.08, 0.05, 0.03, 0.02]
    cumulative = [sum(probs[:i + 1]) for i in range(len(probs))]
    smallest = next(i + 1 for i, c in enumerate(cumulative) if c >= 0.9 - 1e-12)
    assert smallest == nb12.NUCLEUS_SIZE
    assert check_equal(4, nb12.NUCLEUS_SIZE)
    assert not check_equal(3, nb12.NUCLEUS_SIZE)
    assert not check_equal(..., nb12.NUCLEUS_SIZE)


def test_min_p_filter_equals_transformers_min_p_warper():
    from transformers.generation import MinPLogitsWarper

    torch.manual_seed(0)
    for min_p in (0.05, 0.1, 0.5):
        logits = torch.randn(4, 100) * 3
        ours = nb12.min_p_filter(logits, min_p)
        theirs = MinPLogitsWarper(min_p=min_p)(torch.zeros(4, 1, dtype=torch.long), logits.clone())
        assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
        assert torch.equal(ours[torch.isfinite(ours)], logits[torch.isfinite(ours)])


def test_ban_repeated_ngrams_equals_no_repeat_ngram_processor():
    from transformers.generation import NoRepeatNGramLogitsProcessor

    generator = torch.Generator().manual_seed(0)
    for n in (2, 3):
        for _ in range(20):
            ids = torch.randint(0, 5, (12,), generator=generator)
            logits = torch.randn(8, generator=generator)
            ours = nb12.ban_repeated_ngrams(ids, logits, n)
            theirs = NoRepeatNGramLogitsProcessor(n)(ids[None], logits[None].clone())[0]
            assert torch.equal(ours, theirs)


def test_bits_per_char_known_values():
    assert nb12.bits_per_char(2.0, 1.0) == pytest.approx(1.0)
    assert nb12.bits_per_char(16.0, 4.0) == pytest.approx(1.0)
    assert nb12.bits_per_char(math.e, 1.0) == pytest.approx(1 / math.log(2))


def test_exercise_checks_pass_reference_and_fail_wrong_answers():
    cases_min_p = [(torch.randn(3, 50), 0.1), (torch.randn(2, 20) * 4, 0.5)]
    assert check_function(nb12.min_p_filter, nb12.min_p_filter, cases_min_p)
    absolute = lambda logits, min_p: logits.masked_fill(logits.softmax(-1) < min_p, float("-inf"))
    assert not check_function(absolute, nb12.min_p_filter, cases_min_p)

    cases_ngram = [(torch.tensor([1, 2, 3, 1, 2]), torch.zeros(6), 3), (torch.tensor([4, 4, 4]), torch.zeros(6), 2),
                   (torch.tensor([1, 2, 3, 4]), torch.zeros(6), 3)]
    assert check_function(nb12.ban_repeated_ngrams, nb12.ban_repeated_ngrams, cases_ngram)

    def ban_seen_tokens(ids, logits, n):   # bans every seen token, not only n-gram completions
        out = logits.clone()
        out[ids] = float("-inf")
        return out

    assert not check_function(ban_seen_tokens, nb12.ban_repeated_ngrams, cases_ngram)

    cases_bpc = [(20.0, 4.0), (2.0, 1.0), (150.0, 3.2)]
    assert check_function(nb12.bits_per_char, nb12.bits_per_char, cases_bpc)
    natural_log = lambda ppl, cpt: math.log(ppl) / cpt
    assert not check_function(natural_log, nb12.bits_per_char, cases_bpc)

    def unanswered(*args):
        raise NotImplementedError

    assert not check_function(unanswered, nb12.bits_per_char, cases_bpc)
