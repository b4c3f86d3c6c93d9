"""Notebook 07 (sequence to sequence): the exercise self-checks pass the reference solutions and
fail wrong answers, and the reference solutions are right on cases worked out by hand."""
import math

import torch
import torch.nn.functional as F

from solutions import nb07
from utils.checks import check_equal, check_function


def test_masked_nll_equals_ignore_index_cross_entropy():
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 7)
    targets = torch.tensor([[4, 5, 2, 0, 0], [6, 2, 0, 0, 0], [3, 3, 4, 5, 2]])
    want = F.cross_entropy(logits.reshape(-1, 7), targets.reshape(-1), ignore_index=0)
    assert torch.allclose(nb07.masked_nll(logits, targets, 0), want, atol=1e-6)
    # extra padding changes nothing
    longer_logits = torch.cat([logits, torch.randn(3, 4, 7)], dim=1)
    longer_targets = torch.cat([targets, torch.zeros(3, 4, dtype=torch.long)], dim=1)
    assert torch.allclose(nb07.masked_nll(longer_logits, longer_targets, 0), want, atol=1e-6)


def test_masked_nll_check_passes_solution_and_fails_unmasked_mean():
    cases = [(torch.randn(3, 5, 7), torch.tensor([[4, 5, 2, 0, 0], [6, 2, 0, 0, 0], [3, 3, 4, 5, 2]]), 0)]
    assert check_function(nb07.masked_nll, nb07.masked_nll, cases=cases)

    def unmasked(logits, targets, pad_id):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    assert not check_function(unmasked, nb07.masked_nll, cases=cases)


def test_normalised_score_and_winners():
    assert nb07.normalised_score(-3.0, 1, 1.0) == -3.0          # lp(1) = 1
    assert math.isclose(nb07.normalised_score(-2.0, 4, 1.0), -2.0 / 1.5)
    assert math.isclose(nb07.normalised_score(-3.2, 10, 1.0), -3.2 / 2.5)
    assert nb07.WINNER_ALPHA_0 == "short" and nb07.WINNER_ALPHA_1 == "long"
    cases = [(-2.0, 4, 0.0), (-3.2, 10, 1.0), (-7.5, 3, 0.6)]
    assert check_function(nb07.normalised_score, nb07.normalised_score, cases=cases)
    assert not check_function(lambda lp, n, a: lp / n ** a, nb07.normalised_score, cases=cases)
    assert check_equal("short", nb07.WINNER_ALPHA_0) and not check_equal("long", nb07.WINNER_ALPHA_0)
    assert check_equal("long", nb07.WINNER_ALPHA_1) and not check_equal("short", nb07.WINNER_ALPHA_1)
    assert not check_equal(..., nb07.WINNER_ALPHA_1)


def test_reverse_source_keeps_padding_at_the_end():
    src = torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0], [4, 5, 6, 7]])
    lengths = torch.tensor([3, 2, 4])
    want = torch.tensor([[7, 6, 5, 0], [9, 8, 0, 0], [7, 6, 5, 4]])
    assert torch.equal(nb07.reverse_source(src, lengths), want)
    assert torch.equal(src, torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0], [4, 5, 6, 7]])), "input untouched"
    cases = [(src, lengths)]
    assert check_function(nb07.reverse_source, nb07.reverse_source, cases=cases)
    assert not check_function(lambda s, n: s.flip(1), nb07.reverse_source, cases=cases)


def test_unanswered_stubs_say_not_yet_without_raising():
    def stub(*args):
        raise NotImplementedError

    assert not check_function(stub, nb07.masked_nll, cases=[(torch.randn(1, 2, 3), torch.tensor([[1, 0]]), 0)])
    assert not check_equal(..., nb07.WINNER_ALPHA_0)
