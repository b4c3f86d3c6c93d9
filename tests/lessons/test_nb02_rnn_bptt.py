"""Notebook 02's own code (loaded from the notebook): its RNN forward pass against nn.RNN; the
output-recurrent RNN, its teacher-forced pass against the loop over time, the independence of its
teacher-forced steps, free running as teacher forcing on its own outputs, the tasks and the trainer;
its hand-written BPTT against autograd, the spectral-radius and singular-value helpers, the vanishing
and exploding gradients measured with its functions (and the singular-value bound they obey), its
clipping against clip_grad_norm_, the clipping task with its share of clipped steps and its
smaller-learning-rate baseline; the one-unit latch whose loss has a cliff, the bisection to its
wall, the gradient there and the step along it; and the exercise self-checks."""
import math

import numpy as np
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
    ("d[:, :-1]], dim=1)", "d[:, 1:]], dim=1)",
     "teacher forcing feeds the next target d_{t+1} instead of the previous one"),
    ('d_prev[:, t - 1] @ p["W_yh"].T', 'd_prev[:, t - 2] @ p["W_yh"].T',
     "the loop over time feeds the target from two steps back"),
    ('h = torch.tanh(x @ p["W_xh"].T + d_prev @ p["W_yh"].T + p["b_h"])', 'h = torch.tanh(x @ p["W_xh"].T + p["b_h"])',
     "the one-pass teacher-forced network forgets the output feedback"),
    ('h = torch.tanh(x[:, t - 1] @ p["W_xh"].T + y @ p["W_yh"].T + p["b_h"])',
     'h = torch.tanh(x[:, t - 1] @ p["W_xh"].T + y_0 @ p["W_yh"].T + p["b_h"])',
     "free running feeds y_0 at every step instead of its own previous output"),
    ("F.pad(x, (0, 0, DELAY, 0))", "F.pad(x, (0, 0, DELAY - 1, 0))",
     "the echo task echoes one step late instead of DELAY steps"),
    ("return 0.5 * (rnn_forward(x, p)[1][:, -1, 0] - LATCH_TARGET) ** 2",
     "return 0.5 * (rnn_forward(x, p)[1][:, 0, 0] - LATCH_TARGET) ** 2",
     "the latch's loss read at the first step instead of the last"),
    ("if losses_along_bias(p, [middle]).item() > level:", "if losses_along_bias(p, [middle]).item() < level:",
     "the bisection for the wall moves the wrong end"),
    ("return {name: w - distance * grads[name] / norm for name, w in p.items()}",
     "return {name: w + distance * grads[name] / norm for name, w in p.items()}",
     "the step along the gradient goes uphill"),
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
    """Section 4's loss L = sum_b y_T: only the path back through h_{t+1} carries gradient to h_t < T."""
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


# ------------------------------------------------- section 2: output recurrence and teacher forcing
def random_output_rnn(nb, n_in=2, n_hidden=5, n_out=3, seed=0, batch=4, steps=7):
    g = torch.Generator().manual_seed(seed)
    p = nb.init_output_rnn(n_in, n_hidden, n_out, g)
    p["b_h"] = 0.1 * torch.randn(n_hidden, generator=g, dtype=DTYPE)
    p["b_y"] = 0.1 * torch.randn(n_out, generator=g, dtype=DTYPE)
    x = torch.randn(batch, steps, n_in, generator=g, dtype=DTYPE)
    d = torch.randn(batch, steps, n_out, generator=g, dtype=DTYPE)
    y_0 = torch.randn(n_out, generator=g, dtype=DTYPE)
    return p, x, d, y_0


def test_shifted_targets_feed_y_0_then_the_previous_target(nb):
    _, _, d, y_0 = random_output_rnn(nb)
    d_prev = nb.shifted_targets(d, y_0)
    assert d_prev.shape == d.shape
    assert torch.equal(d_prev[:, 0], y_0.expand(d.shape[0], -1)), "at t = 1: y_0"
    assert torch.equal(d_prev[:, 1:], d[:, :-1]), "at t: d_{t-1}, never d_t"


def test_teacher_forced_outputs_follow_the_equations(nb):
    p, x, d, y_0 = random_output_rnn(nb)
    d_prev = nb.shifted_targets(d, y_0)
    y = nb.teacher_forced_outputs(x, d_prev, p)
    t = 3   # y_4 from x_4 and d_3
    h = torch.tanh(p["W_xh"] @ x[1, t] + p["W_yh"] @ d[1, t - 1] + p["b_h"])
    assert torch.allclose(y[1, t], p["W_hy"] @ h + p["b_y"], atol=1e-12)


@pytest.mark.parametrize("seed, steps", [(0, 7), (1, 1), (2, 12)])
def test_the_teacher_forced_pass_equals_the_loop_over_time_loss_and_gradient(nb, seed, steps):
    p, x, d, y_0 = random_output_rnn(nb, seed=seed, steps=steps)
    d_prev = nb.shifted_targets(d, y_0)
    losses, grads = [], []
    for outputs in (nb.teacher_forced_outputs, nb.teacher_forced_outputs_loop):
        weights = {name: w.clone().requires_grad_() for name, w in p.items()}
        loss = nb.squared_error(outputs(x, d_prev, weights), d).mean()
        losses.append(loss)
        grads.append(torch.autograd.grad(loss, list(weights.values())))
    assert torch.allclose(losses[0], losses[1], rtol=1e-12, atol=0)
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_teacher_forced_steps_are_independent_given_the_data(nb):
    """dy_t / dx_s and dy_t / d(d_prev)_s vanish for s != t: no step depends on another."""
    p, x, d, y_0 = random_output_rnn(nb, batch=1, steps=5)
    d_prev = nb.shifted_targets(d, y_0)
    jac_x, jac_d = torch.autograd.functional.jacobian(lambda a, b: nb.teacher_forced_outputs(a, b, p), (x, d_prev))
    for jac in (jac_x, jac_d):
        per_step = jac[0].abs().sum(dim=(1, 2, 4))      # (T out, T in)
        assert (per_step.diagonal() > 0).all()
        assert torch.equal(per_step - torch.diag(per_step.diagonal()), torch.zeros_like(per_step))


def test_free_running_is_teacher_forcing_on_its_own_outputs(nb):
    p, x, _, y_0 = random_output_rnn(nb, steps=9)
    y_free = nb.free_running_outputs(x, y_0, p)
    assert y_free.shape == (4, 9, 3)
    assert torch.allclose(nb.teacher_forced_outputs(x, nb.shifted_targets(y_free, y_0), p), y_free, atol=1e-12)
    changed = x.clone()
    changed[:, 0] += 1.0
    assert (nb.free_running_outputs(changed, y_0, p)[:, -1] - y_free[:, -1]).abs().max() > 1e-9, "x_1 reaches y_T"


def test_the_output_rnn_cannot_see_the_input_the_echo_asks_for(nb):
    """Teacher forced on the echo task, y_t has zero derivative with respect to x_{t-2}."""
    g = torch.Generator().manual_seed(0)
    x, d = nb.echo_batch(3, g)
    assert x.shape == d.shape == (3, nb.TF_STEPS, 1)
    assert torch.equal(d[:, nb.DELAY:], x[:, :-nb.DELAY]) and torch.equal(d[:, :nb.DELAY], torch.zeros(3, nb.DELAY, 1))
    p = nb.init_output_rnn(1, 6, 1, g)
    d_prev = nb.shifted_targets(d, nb.ECHO_START)
    jac = torch.autograd.functional.jacobian(lambda a: nb.teacher_forced_outputs(a, d_prev, p), x)[0, :, 0, 0, :, 0]
    t = nb.DELAY + 3
    assert jac[t, t - nb.DELAY] == 0 and jac[t, t] != 0


def test_rotation_batch_turns_the_point_by_the_angle_the_input_sets(nb):
    x, d = nb.rotation_batch(5, torch.Generator().manual_seed(1))
    assert x.shape == (5, nb.TF_STEPS, 1) and d.shape == (5, nb.TF_STEPS, 2)
    assert x.min() >= -1 and x.max() <= 1
    assert torch.allclose(d.norm(dim=-1), torch.ones(5, nb.TF_STEPS, dtype=DTYPE)), "on the unit circle"
    previous = nb.shifted_targets(d, nb.ROTATION_START)
    turned = torch.atan2(previous[..., 0] * d[..., 1] - previous[..., 1] * d[..., 0], (previous * d).sum(-1))
    assert torch.allclose(turned, nb.ROTATION_SPEED * (1 + x[..., 0] / 2), atol=1e-12), "d_t = R(angle(x_t)) d_{t-1}"


def test_fit_trains_on_fresh_batches_and_lowers_the_loss(nb):
    torch.set_num_threads(1)
    p0 = nb.init_output_rnn(1, 8, 2, torch.Generator().manual_seed(0))
    outputs = lambda x, d, p: nb.teacher_forced_outputs(x, nb.shifted_targets(d, nb.ROTATION_START), p)
    p, losses = nb.fit(outputs, p0, nb.rotation_batch, 60, seed=0)
    assert len(losses) == 60 and np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])
    assert set(p) == set(p0) and not any(w.requires_grad for w in p.values())
    assert not torch.equal(p["W_yh"], p0["W_yh"]), "the feedback weight is trained"
    again = nb.fit(outputs, p0, nb.rotation_batch, 3, seed=0)[1]
    assert again == losses[:3], "the seed fixes the batches"


def test_median_seconds_times_every_function_each_repeat():
    nb = load_lesson("02_rnn_bptt", profile="smoke")
    calls = []
    seconds = nb.median_seconds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b"] * 3, "interleaved"
    assert set(seconds) == {"a", "b"} and all(s >= 0 for s in seconds.values())


# ------------------------------------------------------------------ section 5: the cliff
def test_losses_along_bias_are_one_row_per_bias(nb):
    biases = [-0.9, -0.3, 0.2]
    batched = nb.losses_along_bias(nb.LATCH_WEIGHTS, biases)
    one_by_one = [nb.latch_loss(dict(nb.LATCH_WEIGHTS, b_h=torch.tensor([b], dtype=DTYPE))).item() for b in biases]
    assert batched.shape == (3,) and torch.allclose(batched, torch.tensor(one_by_one, dtype=DTYPE), atol=1e-14)
    x = torch.zeros(1, nb.LATCH_STEPS, 1, dtype=DTYPE)
    x[:, 0] = 1.0
    y_T = nb.rnn_forward(x, dict(nb.LATCH_WEIGHTS, b_h=torch.tensor([0.2], dtype=DTYPE)))[1][0, -1, 0]
    assert batched[2].item() == pytest.approx(0.5 * (y_T.item() - nb.LATCH_TARGET) ** 2, rel=1e-12)


def test_the_latch_holds_its_bit_above_the_wall_and_forgets_below(nb):
    x = torch.zeros(1, nb.LATCH_STEPS, 1, dtype=DTYPE)
    x[:, 0] = 1.0
    h_T = lambda b: nb.rnn_forward(x, dict(nb.LATCH_WEIGHTS, b_h=torch.tensor([b], dtype=DTYPE)))[0][0, -1, 0].item()
    assert h_T(-0.3) > 0.7 and h_T(-0.8) < -0.7
    b_wall = nb.wall_bias(nb.LATCH_WEIGHTS, -0.8, -0.3)
    assert -0.6 < b_wall < -0.5, "about where h = tanh(2h + b) loses its high fixed point (b = -0.53)"
    level = (nb.losses_along_bias(nb.LATCH_WEIGHTS, [-0.8]) + nb.losses_along_bias(nb.LATCH_WEIGHTS, [-0.3])).item() / 2
    assert nb.losses_along_bias(nb.LATCH_WEIGHTS, [b_wall]).item() == pytest.approx(level, rel=1e-3), "half way up"


def test_loss_and_gradient_is_autograds_and_step_along_moves_down_the_gradient(nb):
    p = dict(nb.LATCH_WEIGHTS, b_h=torch.tensor([-0.45], dtype=DTYPE))
    loss, grads = nb.loss_and_gradient(p)
    assert set(grads) == set(p) and loss == pytest.approx(nb.latch_loss(p).item())
    eps = 1e-6
    numeric = (nb.latch_loss(dict(p, b_h=p["b_h"] + eps)) - nb.latch_loss(dict(p, b_h=p["b_h"] - eps))).item() / (2 * eps)
    assert grads["b_h"].item() == pytest.approx(numeric, rel=1e-5)
    norm = nb.global_norm(grads)
    assert norm == pytest.approx(math.sqrt(sum((g ** 2).sum().item() for g in grads.values())))
    moved = nb.step_along(p, grads, 0.3)
    distance = math.sqrt(sum(((moved[k] - p[k]) ** 2).sum().item() for k in p))
    assert distance == pytest.approx(0.3, rel=1e-12), "moved exactly the distance asked"
    assert torch.allclose(moved["b_h"] - p["b_h"], -0.3 * grads["b_h"] / norm), "against the gradient"
    small = nb.step_along(p, grads, 1e-4)
    assert nb.latch_loss(small).item() < loss, "a short step down the gradient lowers the loss"


def test_the_cliff_is_steep_and_its_gradient_long_at_smoke_size(nb):
    biases = np.linspace(-1.0, 0.5, nb.CLIFF_POINTS)
    losses = nb.losses_along_bias(nb.LATCH_WEIGHTS, biases).numpy()
    window = round(nb.CLIFF_WIDTH / (biases[1] - biases[0]))
    assert np.max(losses[:-window] / losses[window:]) > nb.CLIFF_JUMP_MIN
    k = int(np.argmax(-np.diff(losses)))
    b_wall = nb.wall_bias(nb.LATCH_WEIGHTS, biases[k], biases[k + 1])
    wall = nb.global_norm(nb.loss_and_gradient(dict(nb.LATCH_WEIGHTS, b_h=torch.tensor([b_wall], dtype=DTYPE)))[1])
    plateau = nb.global_norm(nb.loss_and_gradient(dict(nb.LATCH_WEIGHTS, b_h=torch.tensor([-0.9], dtype=DTYPE)))[1])
    assert wall > 100 * plateau
