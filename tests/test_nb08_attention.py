"""Notebook 08 (attention): the exercise self-checks pass the reference solutions and fail wrong
answers, and the teaching claims about attention weights hold for the reference solutions."""
import torch

from solutions import nb08
from utils.checks import check_function
from utils.text import lengths_mask


def test_masked_softmax_is_a_distribution_with_zero_on_padding():
    torch.manual_seed(0)
    scores = torch.randn(4, 7) * 5
    mask = lengths_mask(torch.tensor([7, 1, 3, 5]), 7)
    weights = nb08.masked_softmax_by_hand(scores, mask)
    assert (weights >= 0).all()
    assert torch.allclose(weights.sum(-1), torch.ones(4))
    assert (weights[~mask] == 0).all()
    assert torch.allclose(weights, scores.masked_fill(~mask, float("-inf")).softmax(-1))
    # garbage in the padded scores changes nothing
    assert torch.equal(nb08.masked_softmax_by_hand(scores.masked_fill(~mask, 1e4), mask), weights)


def test_masked_softmax_check_fails_an_unmasked_softmax():
    scores, mask = torch.randn(3, 6), lengths_mask(torch.tensor([6, 2, 4]), 6)
    cases = [(scores, mask), (scores.masked_fill(~mask, 1e4), mask)]   # as in the notebook
    assert check_function(nb08.masked_softmax_by_hand, nb08.masked_softmax_by_hand, cases=cases)

    def leaky(s, m):     # exponentiates the padded scores too: overflows to inf * 0 = nan
        e = torch.exp(s - s.max(-1, keepdim=True).values) * m
        return e / e.sum(-1, keepdim=True)

    assert check_function(leaky, nb08.masked_softmax_by_hand, cases=cases[:1]), "fine without garbage"
    assert not check_function(leaky, nb08.masked_softmax_by_hand, cases=cases)
    assert not check_function(lambda s, m: s.softmax(-1), nb08.masked_softmax_by_hand, cases=cases)
    assert not check_function(lambda s, m: s.softmax(-1) * m, nb08.masked_softmax_by_hand, cases=cases)


def test_general_scores():
    torch.manual_seed(0)
    q, k, W = torch.randn(2, 3, 5), torch.randn(2, 4, 5), torch.randn(5, 5)
    got = nb08.general_scores(q, k, W)
    assert got.shape == (2, 3, 4)
    assert torch.allclose(got[1, 2, 3], q[1, 2] @ W @ k[1, 3], atol=1e-5)
    assert torch.allclose(nb08.general_scores(q, k, torch.eye(5)), q @ k.transpose(1, 2), atol=1e-6)  # dot score
    cases = [(q, k, W)]
    assert check_function(nb08.general_scores, nb08.general_scores, cases=cases)
    assert not check_function(lambda q, k, W: q @ W.T @ k.transpose(1, 2), nb08.general_scores, cases=cases)


def test_memory_hop():
    torch.manual_seed(0)
    u, m, c = torch.randn(2, 8), torch.randn(2, 5, 8), torch.randn(2, 5, 8)
    new_u, p = nb08.memory_hop(u, m, c)
    assert torch.allclose(p.sum(-1), torch.ones(2)) and (p >= 0).all()
    assert torch.allclose(new_u[0], u[0] + sum(p[0, i] * c[0, i] for i in range(5)), atol=1e-5)
    # a key that matches the query far better than the others takes (almost) all the weight
    m_sharp = m.clone()
    m_sharp[:, 2] = 50 * u
    _, p_sharp = nb08.memory_hop(u, m_sharp, c)
    assert (p_sharp[:, 2] > 0.99).all()
    cases = [(u, m, c)]
    assert check_function(nb08.memory_hop, nb08.memory_hop, cases=cases)
    assert not check_function(lambda u, m, c: ((p := torch.softmax((m @ u[..., None])[..., 0], -1)) @ c[0], p),
                              nb08.memory_hop, cases=cases)
    assert not check_function(lambda u, m, c: nb08.memory_hop(u, c, m), nb08.memory_hop, cases=cases)
