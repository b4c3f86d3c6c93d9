"""Notebook 02's teaching claims that can be tested outside it, and its exercise self-checks.

The notebook itself (hand BPTT = autograd, measured vanishing/exploding, clipping) runs in
tests/test_notebooks.py; here the same claims are re-measured with small independent code."""

import pytest
import torch

from solutions import nb02
from utils.checks import check_equal, check_function

DTYPE = torch.float64


def _random_rnn(n_hidden, radius, seed):
    g = torch.Generator().manual_seed(seed)
    W_hh = torch.randn(n_hidden, n_hidden, generator=g, dtype=DTYPE)
    W_hh *= radius / torch.linalg.eigvals(W_hh).abs().max()
    W_xh = torch.randn(n_hidden, 1, generator=g, dtype=DTYPE)
    w_y = torch.randn(n_hidden, generator=g, dtype=DTYPE)
    x = 0.1 * torch.randn(8, 40, 1, generator=g, dtype=DTYPE)
    return W_hh, W_xh, w_y, x


def _relative_gradient_norms(radius, seed, n_hidden=32):
    """||dL/dh_t|| / ||dL/dh_T|| for L = sum_b w_y . h_T, by autograd with zero probes."""
    W_hh, W_xh, w_y, x = _random_rnn(n_hidden, radius, seed)
    probes = torch.zeros(x.shape[0], x.shape[1], n_hidden, dtype=DTYPE, requires_grad=True)
    h = torch.zeros(x.shape[0], n_hidden, dtype=DTYPE)
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ W_xh.T + h @ W_hh.T) + probes[:, t]
    (grad,) = torch.autograd.grad((h @ w_y).sum(), probes)
    norms = grad.norm(dim=-1)
    return (norms / norms[:, -1:]).mean(0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vanilla_rnn_gradient_vanishes_for_small_and_explodes_for_large_radius(seed):
    small, large = _relative_gradient_norms(0.5, seed), _relative_gradient_norms(3.0, seed)
    assert small[0] < 1e-8, "40 steps at radius 0.5: the gradient at t=1 is negligible"
    assert large[0] > 100, "radius 3: the gradient at t=1 is far larger than at t=T"


def test_clipping_bounds_the_global_norm_and_keeps_the_direction():
    model = torch.nn.RNN(2, 8)
    (100 * model(torch.randn(5, 3, 2))[0].sum()).backward()
    before = torch.cat([p.grad.flatten() for p in model.parameters()]).clone()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    after = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert after.norm() <= 0.5 * (1 + 1e-5)
    assert torch.allclose(after / after.norm(), before / before.norm(), atol=1e-6)


def test_step_jacobian_solution_equals_autograd():
    g = torch.Generator().manual_seed(0)
    W_xh, W_hh, b_h, x_t, h_prev = nb02.random_step_case(3, 5, g)
    by_autograd = torch.autograd.functional.jacobian(
        lambda h: torch.tanh(W_xh @ x_t + W_hh @ h + b_h), h_prev)
    assert torch.allclose(nb02.step_jacobian(W_xh, W_hh, b_h, x_t, h_prev), by_autograd, atol=1e-12)


def test_truncated_gradient_solution_full_length_equals_autograd():
    g = torch.Generator().manual_seed(1)
    x, p, _ = nb02.random_truncation_case(8, g)
    weights = {k: v.clone().requires_grad_() for k, v in p.items()}
    h = torch.zeros(x.shape[0], 5, dtype=DTYPE)
    for t in range(x.shape[1]):
        h = torch.tanh(x[:, t] @ weights["W_xh"].T + h @ weights["W_hh"].T + weights["b_h"])
    loss = (h @ weights["W_hy"].T + weights["b_y"]).sum()
    (full,) = torch.autograd.grad(loss, weights["W_hh"])
    assert torch.allclose(nb02.truncated_grad_W_hh(x, p, x.shape[1]), full, atol=1e-12)
    assert not torch.allclose(nb02.truncated_grad_W_hh(x, p, 1), full, atol=1e-6)


def test_steps_to_vanish():
    assert nb02.steps_to_vanish(0.8, 1e-3) == 31            # 0.8**31 = 0.00099 < 0.001 <= 0.8**30
    assert 0.8 ** 31 < 1e-3 <= 0.8 ** 30
    assert nb02.steps_to_vanish(0.5, 0.25) == 3             # strictly below: 0.5**2 == 0.25 is not


# ------------------------------------------------------------------ the notebook's self-checks
def test_exercise_1_check_passes_solution_and_fails_wrong_answer():
    g = torch.Generator().manual_seed(5)
    cases = [tuple(nb02.random_step_case(a, b, g)) for a, b in ((2, 4), (3, 6))]
    assert check_function(nb02.step_jacobian, nb02.step_jacobian, cases=cases, atol=1e-8, raise_on_fail=True)
    forgot_tanh = lambda W_xh, W_hh, b_h, x_t, h_prev: W_hh
    transposed = lambda *a: nb02.step_jacobian(*a).T
    assert not check_function(forgot_tanh, nb02.step_jacobian, cases=cases, atol=1e-8)
    assert not check_function(transposed, nb02.step_jacobian, cases=cases, atol=1e-8)


def test_exercise_2_check_passes_solution_and_fails_wrong_answer():
    right = nb02.steps_to_vanish(0.8, 1e-3)
    assert check_equal(right, nb02.steps_to_vanish(0.8, 1e-3), raise_on_fail=True)
    assert not check_equal(30, right)
    assert not check_equal(..., right)


def test_exercise_3_check_passes_solution_and_fails_wrong_answer():
    g = torch.Generator().manual_seed(5)
    cases = [nb02.random_truncation_case(k, g) for k in (1, 3, 8)]
    assert check_function(nb02.truncated_grad_W_hh, nb02.truncated_grad_W_hh, cases=cases, atol=1e-8,
                          raise_on_fail=True)
    untruncated = lambda x, p, k: nb02.truncated_grad_W_hh(x, p, x.shape[1])
    assert not check_function(untruncated, nb02.truncated_grad_W_hh, cases=cases, atol=1e-8)

    def not_written(x, p, k):
        raise NotImplementedError
    assert not check_function(not_written, nb02.truncated_grad_W_hh, cases=cases)
