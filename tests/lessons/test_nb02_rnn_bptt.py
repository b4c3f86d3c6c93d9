"""Notebook 02's own code (loaded from the notebook): its RNN forward pass against nn.RNN, its
hand-written BPTT against autograd, the spectral-radius and singular-value helpers, the vanishing
and exploding gradients measured with its functions (and the singular-value bound they obey), its
clipping against clip_grad_norm_, the clipping task with its share of clipped steps and its
smaller-learning-rate baseline; and the exercise self-checks."""
import math

import pytest
import torch
import torch.nn as nn

from utils.checks import Exercises
from utils.lessons import load_lesson

DTYPE = torch.float64

MUTATIONS = [
    ("da = delta * (1 - hs[:, t] ** 2)", "da = delta * (1 - hs[:, t])",
     "the tanh derivative in the hand-written BPTT written as 1 - h instead of 1 - h**2"),
    ("for t in range(steps, 0, -1):", "for t in range(1, steps + 1):",
     "the backward recursion run forwards in time"),
    ('delta = dL_dy[:, t - 1] @ p["W_hy"] + da_next @ p["W_hh"]',
     'delta = dL_dy[:, t - 1] @ p["W_hy"] + da_next @ p["W_hh"].T',
     "the recurrent weight not transposed on the way back"),
    ("return W * (radius / torch.linalg.eigvals(W).abs().max())",
     "return W * (radius / torch.linalg.svdvals(W).max())",
     "rescaled by the largest singular value instead of the spectral radius"),
    ("g.mul_(max_norm / total_norm)", "g.mul_(max_norm)",
     "clipping multiplies by v instead of rescaling to length v"),
    ("return torch.linalg.svdvals(W).max().item()", "return torch.linalg.eigvals(W).abs().max().item()",
     "the spectral radius reported as the largest singular value"),
    ('np.mean(np.array(log["norm"]) > CLIP_NORM)', 'np.mean(np.array(log["norm_after"]) > CLIP_NORM)',
     "the share of clipped steps counted after clipping, where no norm is above v"),
    ("optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)",
     "optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)",
     "the smaller-learning-rate baseline trained at the large rate"),
]


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("02_rnn_bptt", profile="smoke")


def random_rnn(nb, n_in=3, n_hidden=6, n_out=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = nb.init_rnn(n_in, n_hidden, n_out, g)
    p["b_h"] = 0.1 * torch.randn(n_hidden, generator=g, dtype=DTYPE)
    p["b_y"] = 0.1 * torch.randn(n_out, generator=g, dtype=DTYPE)
    return p, g


def test_rnn_forward_equals_nn_rnn_on_the_same_weights(nb):
    p, g = random_rnn(nb)
    x = torch.randn(4, 7, 3, generator=g, dtype=DTYPE)
    library = nn.RNN(3, 6, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        library.weight_ih_l0.copy_(p["W_xh"])
        library.weight_hh_l0.copy_(p["W_hh"])
        library.bias_ih_l0.copy_(p["b_h"])
        library.bias_hh_l0.zero_()
        hs, ys = nb.rnn_forward(x, p)
        states, last = library(x)
    assert hs.shape == (4, 8, 6) and ys.shape == (4, 7, 2)
    assert torch.equal(hs[:, 0], torch.zeros(4, 6)), "h_0 = 0"
    assert torch.allclose(hs[:, 1:], states, atol=1e-12)
    assert torch.allclose(hs[:, -1], last[0], atol=1e-12)
    assert torch.allclose(ys, hs[:, 1:] @ p["W_hy"].T + p["b_y"], atol=1e-12), "y_t = W_hy h_t + b_y"


def test_zero_probes_change_nothing_in_the_forward_pass(nb):
    p, g = random_rnn(nb)
    x = torch.randn(2, 5, 3, generator=g, dtype=DTYPE)
    hs, ys = nb.rnn_forward(x, p)
    probed_hs, probed_ys = nb.rnn_forward(x, p, torch.zeros(2, 5, 6, dtype=DTYPE))
    assert torch.equal(hs, probed_hs) and torch.equal(ys, probed_ys)


def autograd_gradients(nb, x, p, targets):
    weights = {name: w.clone().requires_grad_() for name, w in p.items()}
    probes = torch.zeros(x.shape[0], x.shape[1], p["W_hh"].shape[0], dtype=DTYPE, requires_grad=True)
    hs, ys = nb.rnn_forward(x, weights, probes)
    loss = 0.5 * ((ys - targets) ** 2).sum() / x.shape[0]
    *grads, deltas = torch.autograd.grad(loss, [*weights.values(), probes])
    return dict(zip(weights, grads, strict=True)), deltas, hs.detach(), ys.detach()


@pytest.mark.parametrize("seed, steps, n_hidden", [(0, 6, 5), (1, 12, 8), (2, 1, 3)])
def test_hand_written_bptt_equals_autograd(nb, seed, steps, n_hidden):
    p, g = random_rnn(nb, n_hidden=n_hidden, seed=seed)
    batch = 4
    x = torch.randn(batch, steps, 3, generator=g, dtype=DTYPE)
    targets = torch.randn(batch, steps, 2, generator=g, dtype=DTYPE)
    want, want_deltas, hs, ys = autograd_gradients(nb, x, p, targets)
    grads, deltas = nb.rnn_backward(x, hs, (ys - targets) / batch, p)
    assert set(grads) == set(p), "a gradient for every weight"
    for name in p:
        assert torch.allclose(grads[name], want[name], rtol=1e-10, atol=1e-12), name
    assert torch.allclose(deltas, want_deltas, rtol=1e-10, atol=1e-12), "dL/dh_t for every t"


def test_bptt_with_the_loss_at_the_last_step_only(nb):
    """Section 3's loss L = sum_b y_T: only the path back through h_{t+1} carries gradient to h_t < T."""
    p, g = random_rnn(nb, n_out=1)
    x = torch.randn(3, 9, 3, generator=g, dtype=DTYPE)
    weights = {name: w.clone().requires_grad_() for name, w in p.items()}
    probes = torch.zeros(3, 9, 6, dtype=DTYPE, requires_grad=True)
    hs, ys = nb.rnn_forward(x, weights, probes)
    *want, want_deltas = torch.autograd.grad(ys[:, -1].sum(), [*weights.values(), probes])
    dL_dy = torch.zeros_like(ys.detach())
    dL_dy[:, -1] = 1.0
    grads, deltas = nb.rnn_backward(x, hs.detach(), dL_dy, p)
    assert torch.allclose(deltas, want_deltas, atol=1e-12)
    for name, w in zip(weights, want, strict=True):
        assert torch.allclose(grads[name], w, atol=1e-12), name


def test_with_spectral_radius_sets_the_largest_eigenvalue_modulus(nb):
    g = torch.Generator().manual_seed(3)
    W = torch.randn(10, 10, generator=g, dtype=DTYPE)
    for radius in (0.5, 1.0, 3.0):
        scaled = nb.with_spectral_radius(W, radius)
        assert math.isclose(torch.linalg.eigvals(scaled).abs().max().item(), radius, rel_tol=1e-9)
        assert torch.allclose(scaled / scaled.norm(), W / W.norm(), atol=1e-12), "only rescaled"


def test_largest_singular_value_is_the_spectral_norm_not_the_spectral_radius(nb):
    """A non-normal matrix: both eigenvalues 0.5, yet it stretches some vector by about 2.1."""
    W = torch.tensor([[0.5, 2.0], [0.0, 0.5]], dtype=DTYPE)
    sigma = nb.largest_singular_value(W)
    assert sigma == pytest.approx(torch.linalg.matrix_norm(W, ord=2).item(), rel=1e-12)
    assert sigma > 4 * torch.linalg.eigvals(W).abs().max().item()
    x = torch.randn(2, 10_000, dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    stretch = (W @ x).norm(dim=0) / x.norm(dim=0)
    assert stretch.max().item() <= sigma * (1 + 1e-12) and stretch.max().item() > 0.999 * sigma, "max ||Wx|| / ||x||"


def measured(nb, radius, seed, n_hidden=16, steps=40):
    g = torch.Generator().manual_seed(seed)
    base = nb.init_rnn(1, n_hidden, 1, g)
    x = 0.1 * torch.randn(8, steps, 1, generator=g, dtype=DTYPE)
    return nb.relative_gradient_norms(x, dict(base, W_hh=nb.with_spectral_radius(base["W_hh"], radius)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_gradient_vanishes_for_a_small_and_explodes_for_a_large_spectral_radius(nb, seed):
    small, large = measured(nb, 0.5, seed), measured(nb, 3.0, seed)
    assert small.shape == (40,) and math.isclose(small[-1].item(), 1.0), "relative to ||dL/dh_T||"
    assert small[0] < 1e-8, "40 steps back at radius 0.5: next to nothing is left"
    assert large[0] > 100, "radius 3: far larger at t = 1 than at t = T"
    assert (small[1:] > small[:-1]).all(), "at radius 0.5 it shrinks at every step back"


@pytest.mark.parametrize("seed", [0, 1])
def test_the_gradient_obeys_the_singular_value_bound_and_vanishes_below_rho_one_even_above_it(nb, seed):
    """||dL/dh_t|| <= sigma_max^(T-t) ||dL/dh_T|| at every t; at rho = 0.9 sigma_max > 1, yet it vanishes."""
    g = torch.Generator().manual_seed(seed)
    base = nb.init_rnn(1, 16, 1, g)
    x = 0.1 * torch.randn(8, 40, 1, generator=g, dtype=DTYPE)
    steps_back = torch.arange(39, -1, -1, dtype=DTYPE)
    for radius in (0.5, 0.9, 3.0):
        W = nb.with_spectral_radius(base["W_hh"], radius)
        relative = nb.relative_gradient_norms(x, dict(base, W_hh=W))
        sigma = nb.largest_singular_value(W)
        assert (relative <= sigma ** steps_back * (1 + 1e-9)).all(), radius
        assert sigma > radius, "sigma_max >= rho, here strictly"
        if radius == 0.9:
            assert sigma > 1 and relative[0] < 0.01, "the sufficient condition fails, the gradient vanishes anyway"


def test_near_the_linear_regime_the_gradient_shrinks_by_about_rho_per_step(nb):
    relative = measured(nb, 0.5, 0)
    factor = (relative[0] / relative[-1]).item() ** (1 / 39)
    assert 0.4 < factor < 0.55, f"about rho = 0.5 per step back (tanh slopes pull it a little below), got {factor}"


@pytest.mark.parametrize("scale", [10.0, 0.01])
def test_clip_by_norm_equals_clip_grad_norm(nb, scale):
    torch.manual_seed(0)
    ours, theirs = nn.RNN(2, 8, batch_first=True), nn.RNN(2, 8, batch_first=True)
    theirs.load_state_dict(ours.state_dict())
    inputs = torch.randn(3, 5, 2)
    for model in (ours, theirs):
        (scale * model(inputs)[0].sum()).backward()
    before = torch.cat([w.grad.flatten() for w in ours.parameters()]).clone()
    our_norm = nb.clip_by_norm(list(ours.parameters()), 0.5)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.5)
    assert torch.allclose(our_norm, their_norm), "returns the norm before clipping"
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.allclose(a.grad, b.grad, rtol=1e-5, atol=1e-9)
    after = torch.cat([w.grad.flatten() for w in ours.parameters()])
    assert after.norm() <= 0.5 * (1 + 1e-5), "the norm never exceeds v"
    assert torch.allclose(after / after.norm(), before / before.norm(), atol=1e-6), "the direction is kept"
    if before.norm() <= 0.5:
        assert torch.equal(after, before), "a short gradient is left alone"


def test_task_batch_labels_are_the_sign_of_the_last_five(nb):
    x, y = nb.task_batch(64, torch.Generator().manual_seed(0))
    assert x.shape == (64, nb.TASK_STEPS, 1)
    assert torch.equal(y, (x[:, -5:, 0].sum(1) > 0).long())
    assert 0.3 < y.float().mean() < 0.7, "both classes occur"


def test_the_classifier_reads_the_last_hidden_state(nb):
    model = nb.LastFiveSign(8)
    x = torch.randn(4, 6, 1)
    scores = model(x)
    assert scores.shape == (4, 2)
    changed = x.clone()
    changed[:, -1] += 1.0
    assert not torch.allclose(model(changed), scores), "the last input reaches the scores"


def test_train_task_with_clipping_keeps_every_step_short():
    torch.set_num_threads(1)
    nb = load_lesson("02_rnn_bptt", profile="smoke", parameters={"TRAIN_STEPS": 12, "TASK_STEPS": 10})
    clipped, unclipped = nb.train_task(0, clip=True), nb.train_task(0, clip=False)
    assert len(clipped["loss"]) == 12 and 0 <= clipped["test_accuracy"] <= 1
    assert max(clipped["norm_after"]) <= nb.CLIP_NORM * (1 + 1e-5)
    assert all(math.isclose(a, min(b, nb.CLIP_NORM), rel_tol=1e-5)
               for a, b in zip(clipped["norm_after"], clipped["norm"], strict=True)), "cut to v, only when longer"
    assert unclipped["norm_after"] == pytest.approx(unclipped["norm"]), "no clipping: nothing changes"
    assert clipped["loss"][0] == unclipped["loss"][0], "the same model and batch at the first step"


def test_clipped_share_counts_the_steps_longer_than_v(nb):
    v = nb.CLIP_NORM
    log = {"norm": [0.1 * v, 0.9 * v, v, 1.1 * v, 30 * v], "norm_after": [0.1 * v, 0.9 * v, v, v, v]}
    assert nb.clipped_share(log) == pytest.approx(2 / 5), "strictly longer than v: cut"


def test_train_task_reports_which_steps_clipping_cut_and_uses_its_learning_rate():
    torch.set_num_threads(1)
    nb = load_lesson("02_rnn_bptt", profile="smoke", parameters={"TRAIN_STEPS": 12, "TASK_STEPS": 10})
    clipped = nb.train_task(0, clip=True)
    was_cut = [after < before * (1 - 1e-6) for before, after in zip(clipped["norm"], clipped["norm_after"], strict=True)]
    assert nb.clipped_share(clipped) == pytest.approx(sum(was_cut) / len(was_cut)), "the share is the steps cut"
    frozen, moving = nb.train_task(0, clip=False, learning_rate=0.0), nb.train_task(0, clip=False, learning_rate=0.1)
    assert frozen["loss"][0] == moving["loss"][0], "the same model and batch at the first step"
    assert frozen["loss"][1] != moving["loss"][1], "the learning rate is the one asked for"
    assert frozen["norm"][0] == moving["norm"][0] and frozen["norm"][1] != moving["norm"][1]
    assert nb.SMALL_LEARNING_RATE < nb.LEARNING_RATE


# ------------------------------------------------------------------ the exercises' self-checks
@pytest.fixture(scope="module")
def exercises():
    return Exercises("02_rnn_bptt")


def test_exercise_1_check_rejects_a_wrong_jacobian(exercises):
    from solutions.nb02 import step_jacobian

    g = torch.Generator().manual_seed(5)
    cases = [exercises.cases("random_step_case", a, b, g) for a, b in ((2, 4), (3, 6))]
    W_xh, W_hh, b_h, x_t, h_prev = cases[0]
    by_autograd = torch.autograd.functional.jacobian(lambda h: torch.tanh(W_xh @ x_t + W_hh @ h + b_h), h_prev)
    assert torch.allclose(step_jacobian(*cases[0]), by_autograd, atol=1e-12), "the check's reference is right"
    assert exercises.check_function(step_jacobian, cases=cases, atol=1e-8)
    forgot_tanh = lambda W_xh, W_hh, b_h, x_t, h_prev: W_hh
    transposed = lambda *a: step_jacobian(*a).T
    for wrong in (forgot_tanh, transposed):
        assert not exercises.check_function(wrong, cases=cases, atol=1e-8, name="step_jacobian")


def test_exercise_2_check_rejects_an_off_by_one():
    exercises = Exercises("02_rnn_bptt")
    assert 0.8 ** 31 < 1e-3 <= 0.8 ** 30
    assert exercises.check_equal("steps_back_below_one_thousandth", 31)
    assert not exercises.check_equal("steps_back_below_one_thousandth", 30)
    assert not exercises.check_equal("steps_back_below_one_thousandth", ...)


def test_exercise_3_reference_is_the_notebooks_full_gradient_when_untruncated(nb, exercises):
    from solutions.nb02 import truncated_grad_W_hh

    g = torch.Generator().manual_seed(1)
    x, p, _ = exercises.cases("random_truncation_case", 8, g)
    hs, ys = nb.rnn_forward(x, p)
    dL_dy = torch.zeros_like(ys)
    dL_dy[:, -1] = 1.0
    full = nb.rnn_backward(x, hs, dL_dy, p)[0]["W_hh"]
    assert torch.allclose(truncated_grad_W_hh(x, p, x.shape[1]), full, atol=1e-12), "k = T: full BPTT"
    assert not torch.allclose(truncated_grad_W_hh(x, p, 1), full, atol=1e-6)

    cases = [exercises.cases("random_truncation_case", k, g) for k in (1, 3, 8)]
    assert exercises.check_function(truncated_grad_W_hh, cases=cases, atol=1e-8)
    untruncated = lambda x, p, k: truncated_grad_W_hh(x, p, x.shape[1])
    assert not exercises.check_function(untruncated, cases=cases, atol=1e-8, name="truncated_grad_W_hh")

    def not_written(x, p, k):
        raise NotImplementedError
    assert not exercises.check_function(not_written, cases=cases, name="truncated_grad_W_hh")
