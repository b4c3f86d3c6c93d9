"""Notebook 04 (leaky units, skip connections, echo state networks): its teaching claims, tested on
the notebook's own definitions (loaded with utils.lessons), and the discrimination of its
exercise self-checks."""
import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from utils.checks import Exercises
from utils.lessons import load_lesson

MUTATIONS = [
    ("mu = alpha * mu + (1 - alpha) * v_t", "mu = alpha * mu + v_t",
     "the leaky unit's input is not scaled by 1 - alpha"),
    ("x = (1 - leak) * x + leak * np.tanh(drive[t] + W_scaled @ x)",
     "x = leak * x + (1 - leak) * np.tanh(drive[t] + W_scaled @ x)",
     "the reservoir's leak rate used as its retention"),
    ("return np.linalg.solve(Z.T @ Z + beta * np.eye(Z.shape[1]), Z.T @ y)",
     "return np.linalg.solve(Z.T @ Z + np.eye(Z.shape[1]), Z.T @ y)",
     "the ridge readout ignores beta"),
    ("index = torch.as_tensor(times)[:, None] - window + 1 + torch.arange(window)",
     "index = torch.as_tensor(times)[:, None] - window + torch.arange(window)",
     "the GRU's scoring windows end one step before the time they predict"),
    ("optimizer = torch.optim.AdamW(model.parameters(), lr=GRU_LR, weight_decay=weight_decay)",
     "optimizer = torch.optim.AdamW(model.parameters(), lr=GRU_LR, weight_decay=0.0)",
     "the GRU sweep's weight decay is ignored"),
    ('return min(sweep, key=lambda setting: sweep[setting]["val"])',
     'return min(sweep, key=lambda setting: sweep[setting]["train"])',
     "the GRU chosen on its training error instead of the validation error"),
    ("[left & right, left | right, left ^ right]", "[left & right, left | right, left | right]",
     "xor computed as or"),
    ("values = apply_operator(level_ops, values[:, 0::2], values[:, 1::2])",
     "values = apply_operator(level_ops, values[:, 0::2], values[:, 0::2])",
     "the level-by-level evaluation reads the left child twice"),
    ("parts = [[TOKEN_ID[\"and\"] + level_ops[:, j], *parts[2 * j], *parts[2 * j + 1]]",
     "parts = [[TOKEN_ID[\"and\"] + level_ops[:, j], *parts[2 * j + 1], *parts[2 * j]]",
     "the prefix text writes the right operand first"),
    ("h = torch.tanh(self.compose(torch.cat([h[:, 0::2], h[:, 1::2], self.operator(level_ops)], dim=-1)))",
     "h = torch.tanh(self.compose(torch.cat([h[:, 0::2], h[:, 0::2], self.operator(level_ops)], dim=-1)))",
     "the batched tree composes each left child with itself"),
    ("h_r = node_by_node(tree_net, leaves, ops, level - 1, 2 * index + 1)",
     "h_r = node_by_node(tree_net, leaves, ops, level - 1, 2 * index)",
     "the node-by-node recursion visits the left child twice"),
    ("o_p = tree_net.operator.weight[ops[level - 1][index]]", "o_p = tree_net.operator.weight[ops[level][index]]",
     "the node-by-node recursion reads the operators of the level above"),
    ('return self.classify(self.gru(self.embed(batch["tokens"]))[1][0])',
     'return self.classify(self.gru(self.embed(batch["tokens"]))[0][:, 0])',
     "the GRU is classified on its state after the first token"),
    ("return (model(batch).argmax(-1) == batch[\"value\"]).float().mean().item()",
     "return (model(batch).argmax(-1) == 1).float().mean().item()",
     "exact match counts predictions of 1, not right predictions"),
]


@pytest.fixture(scope="module")
def nb():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_lesson("04_leaky_units_and_echo_state", profile="smoke")
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def exercises():
    return Exercises("04_leaky_units_and_echo_state")


# ----------------------------------------------------------------------------- 1. the leaky unit
@pytest.mark.parametrize("alpha", [0.5, 0.9, 0.97])
def test_leaky_unit_impulse_response_time_constant_and_mean_delay(nb, alpha):
    steps = np.arange(2000)
    impulse = np.zeros(len(steps))
    impulse[0] = 1.0
    response = nb.leaky(impulse, alpha)
    assert np.allclose(response, (1 - alpha) * alpha ** steps, rtol=1e-12, atol=0), "mu_t = (1 - alpha) alpha^t"
    assert response.sum() == pytest.approx(1, abs=1e-9)
    assert (steps * response).sum() == pytest.approx(alpha / (1 - alpha), abs=1e-6)
    e_fold_step = int(np.argmax(response < response[0] / math.e))
    assert abs(e_fold_step - 1 / (1 - alpha)) <= 1, "the response falls by e after about tau = 1/(1 - alpha) steps"


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_leaky_unit_step_response(nb, alpha):
    steps = np.arange(200)
    assert np.allclose(nb.leaky(np.ones(len(steps)), alpha), 1 - alpha ** (steps + 1), atol=1e-12)


def test_leaky_unit_with_alpha_zero_copies_and_a_large_alpha_filters_noise(nb):
    """White noise through a leaky unit keeps the fraction (1 - alpha) / (1 + alpha) of its variance."""
    v = np.random.default_rng(0).standard_normal(100_000)
    assert np.array_equal(nb.leaky(v, 0.0), v)
    for alpha in (0.5, 0.9):
        assert nb.leaky(v, alpha)[100:].var() == pytest.approx((1 - alpha) / (1 + alpha), rel=0.04)


# ----------------------------------------------------------------------------- 2-3. the gradient's reach
def test_gradient_through_time_of_a_linear_recurrence_is_the_power_of_its_factor(nb):
    """h_t = a h_{t-1} + x_t: dL/dh_t = a^(T-t) dL/dh_T, so the relative norm is a^(T-t) exactly."""
    a, steps = 0.8, 30
    x = torch.randn(4, steps, 3, dtype=nb.DTYPE, generator=torch.Generator().manual_seed(0))
    readout = torch.randn(3, dtype=nb.DTYPE)
    relative = nb.gradient_through_time(lambda states, x_t: a * states[-1] + x_t, x, readout)
    assert torch.allclose(relative, a ** torch.arange(steps - 1, -1, -1, dtype=nb.DTYPE), rtol=1e-10)
    assert nb.factor_per_step(relative) == pytest.approx(a, rel=1e-9)


def test_with_spectral_radius(nb):
    W = torch.randn(20, 20, dtype=nb.DTYPE, generator=torch.Generator().manual_seed(1))
    for radius in (0.5, 0.9, 1.3):
        assert torch.linalg.eigvals(nb.with_spectral_radius(W, radius)).abs().max().item() == pytest.approx(radius)


def test_leaky_rnn_step_jacobian_is_alpha_identity_plus_the_tanh_part(nb):
    """dh_t/dh_{t-1} = alpha I + (1 - alpha) diag(1 - tanh^2) W_hh (the equation of section 2)."""
    g = torch.Generator().manual_seed(2)
    n = 6
    W_hh, W_xh = torch.randn(n, n, dtype=nb.DTYPE, generator=g), torch.randn(n, 1, dtype=nb.DTYPE, generator=g)
    h, x_t = torch.randn(n, dtype=nb.DTYPE, generator=g), torch.randn(1, dtype=nb.DTYPE, generator=g)
    for alpha in (0.0, 0.5, 0.9):
        jacobian = torch.autograd.functional.jacobian(lambda h_, a=alpha: nb.leaky_rnn_step(h_, x_t, W_hh, W_xh, a), h)
        slope = 1 - torch.tanh(W_hh @ h + W_xh @ x_t) ** 2
        expected = alpha * torch.eye(n, dtype=nb.DTYPE) + (1 - alpha) * torch.diag(slope) @ W_hh
        assert torch.allclose(jacobian, expected, atol=1e-12)


@pytest.fixture(scope="module")
def gradient_setup(nb):
    g = torch.Generator().manual_seed(0)
    n, steps = 32, 60
    W_hh, W_skip = torch.randn(n, n, dtype=nb.DTYPE, generator=g), torch.randn(n, n, dtype=nb.DTYPE, generator=g)
    W_xh, readout = torch.randn(n, 1, dtype=nb.DTYPE, generator=g), torch.randn(n, dtype=nb.DTYPE, generator=g)
    x = 0.1 * torch.randn(8, steps, 1, dtype=nb.DTYPE, generator=g)
    return W_hh, W_skip, W_xh, readout, x


def test_a_leak_lengthens_the_reach_of_the_gradient(nb, gradient_setup):
    W_hh, _, W_xh, readout, x = gradient_setup
    W = nb.with_spectral_radius(W_hh, 0.9)
    norms = {alpha: nb.gradient_through_time(
        lambda states, x_t, a=alpha: nb.leaky_rnn_step(states[-1], x_t, W, W_xh, a), x, readout)
        for alpha in (0.0, 0.5, 0.9, 0.97)}
    factors = [nb.factor_per_step(r) for r in norms.values()]
    assert all(a < b for a, b in zip(factors, factors[1:], strict=False)), "a larger alpha keeps more gradient per step"
    assert norms[0.97][0] > 1e3 * norms[0.0][0]
    # near the linear regime the factor per step is at most about alpha + (1 - alpha) rho
    for alpha, factor in zip(norms, factors, strict=True):
        assert factor < alpha + (1 - alpha) * 0.9 + 0.01


def test_skip_connections_decay_about_like_rho_to_the_one_over_d(nb, gradient_setup):
    W_hh, W_skip, W_xh, readout, x = gradient_setup
    rho = 0.5
    W_1, W_d = nb.with_spectral_radius(W_hh, rho), nb.with_spectral_radius(W_skip, rho)
    factor, first = {}, {}
    for d in (1, 5, 10):
        relative = nb.gradient_through_time(
            lambda states, x_t, d=d: nb.skip_rnn_step(states, x_t, W_1, W_d, W_xh, d), x, readout, max_delay=d)
        factor[d], first[d] = nb.factor_per_step(relative), relative[0].item()
        assert factor[d] == pytest.approx(rho ** (1 / d), abs=0.05), f"skip d={d}: about rho^(1/d) per step"
    for d in (5, 10):
        assert factor[d] > factor[1] + 0.2 and first[d] > 1e6 * first[1]


# ----------------------------------------------------------------------------- 4. recursive networks
def evaluate_by_recursion(words):
    """A prefix expression, parsed and evaluated by recursion (independent of the notebook's code)."""
    word = next(words)
    if word in ("0", "1"):
        return int(word)
    left, right = evaluate_by_recursion(words), evaluate_by_recursion(words)
    return {"and": left & right, "or": left | right, "xor": left ^ right}[word]


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_random_expressions_are_balanced_trees_and_their_root_value_is_right(nb, depth):
    leaves, ops = nb.random_expressions(300, depth, np.random.default_rng(depth))
    assert leaves.shape == (300, 2 ** depth) and set(np.unique(leaves)) <= {0, 1}
    assert [o.shape for o in ops] == [(300, 2 ** (depth - level)) for level in range(1, depth + 1)]
    assert set(np.unique(np.concatenate([o.ravel() for o in ops]))) == {0, 1, 2}
    values = nb.root_value(leaves, ops)
    tokens = nb.written_left_to_right(leaves, ops)
    by_recursion = [evaluate_by_recursion(iter(nb.VOCABULARY[t] for t in row)) for row in tokens]
    assert values.tolist() == by_recursion, "the level-by-level value is the value of the written expression"
    assert [nb.evaluate_prefix(row)[0] for row in tokens] == by_recursion
    assert all(nb.evaluate_prefix(row)[1] == 2 * depth for row in tokens), "the stack holds 2d items at its deepest"


def test_the_written_expression_keeps_the_leaves_in_order_each_operator_before_its_operands(nb):
    leaves = np.array([[1, 0, 1, 1]])
    ops = [np.array([[0, 1]]), np.array([[2]])]          # (1 and 0) xor (1 or 1)
    words = [nb.VOCABULARY[t] for t in nb.written_left_to_right(leaves, ops)[0]]
    assert words == ["xor", "and", "1", "0", "or", "1", "1"]
    assert nb.root_value(leaves, ops).tolist() == [1]
    leaves, ops = nb.random_expressions(50, 4, np.random.default_rng(0))
    tokens = nb.written_left_to_right(leaves, ops)
    assert tokens.shape == (50, 2 * 16 - 1), "2n - 1 tokens"
    is_value = tokens < nb.TOKEN_ID["and"]
    assert np.array_equal(tokens[is_value].reshape(50, 16), leaves + nb.TOKEN_ID["0"]), "the leaves, left to right"


def test_apply_operator_truth_tables(nb):
    left, right = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    tables = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "xor": [0, 1, 1, 0]}
    for op, table in tables.items():
        assert nb.apply_operator(np.full(4, nb.OPERATORS.index(op)), left, right).tolist() == table, op


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_the_batched_tree_equals_the_node_by_node_recursion_in_depth_steps(nb, depth):
    torch.manual_seed(depth)
    tree_net = nb.TreeNet(8)
    leaves, ops = nb.random_expressions(6, depth, np.random.default_rng(depth))
    calls = []
    hook = tree_net.compose.register_forward_hook(lambda module, inputs, output: calls.append(output.shape))
    batched = tree_net.root(torch.as_tensor(leaves), [torch.as_tensor(o) for o in ops])
    hook.remove()
    assert len(calls) == depth, "one matrix product per level"
    assert [shape[:2] for shape in calls] == [(6, 2 ** (depth - level)) for level in range(1, depth + 1)]
    for i in range(6):
        recursive = nb.node_by_node(tree_net, leaves[i], [o[i] for o in ops], depth)
        assert torch.allclose(batched[i], recursive, atol=1e-6)
    # the equation written out for a depth-1 tree: h_p = tanh(W [E_l; E_r; o_p] + b)
    W, b = tree_net.compose.weight, tree_net.compose.bias
    left, right, op = int(leaves[0, 0]), int(leaves[0, 1]), int(ops[0][0, 0])
    by_hand = torch.tanh(W @ torch.cat([tree_net.leaf.weight[left], tree_net.leaf.weight[right],
                                        tree_net.operator.weight[op]]) + b)
    level_one = nb.node_by_node(tree_net, leaves[0], [o[0] for o in ops], 1, 0)
    assert torch.allclose(level_one, by_hand, atol=1e-6)


def test_the_tree_net_reads_every_leaf_and_its_operators(nb):
    torch.manual_seed(0)
    tree_net = nb.TreeNet(8)
    leaves, ops = nb.random_expressions(1, 3, np.random.default_rng(0))
    batch = {"leaves": torch.as_tensor(leaves), "ops": [torch.as_tensor(o) for o in ops]}
    base = tree_net(batch)
    for j in range(8):
        flipped = batch["leaves"].clone()
        flipped[0, j] = 1 - flipped[0, j]
        assert not torch.allclose(tree_net({**batch, "leaves": flipped}), base), f"leaf {j} matters"
    other_root_op = [o.clone() for o in batch["ops"]]
    other_root_op[-1][0, 0] = (other_root_op[-1][0, 0] + 1) % 3
    assert not torch.allclose(tree_net({**batch, "ops": other_root_op}), base)


def test_the_sequence_gru_classifies_its_state_after_the_last_token(nb):
    torch.manual_seed(0)
    model = nb.SequenceGRU(8)
    tokens = torch.randint(0, len(nb.VOCABULARY), (5, 7))
    with torch.no_grad():
        states = model.gru(model.embed(tokens))[0]
        assert torch.allclose(model({"tokens": tokens}), model.classify(states[:, -1]), atol=1e-6)
        changed = tokens.clone()
        changed[:, -1] = (changed[:, -1] + 1) % len(nb.VOCABULARY)
        assert not torch.allclose(model({"tokens": changed}), model({"tokens": tokens}))


def test_expression_batch_loss_and_exact_match(nb):
    batch = nb.expression_batch(40, 3, np.random.default_rng(0))
    assert batch["tokens"].shape == (40, 15) and batch["leaves"].shape == (40, 8) and len(batch["ops"]) == 3
    assert batch["value"].tolist() == nb.root_value(batch["leaves"].numpy(), [o.numpy() for o in batch["ops"]]).tolist()
    oracle = lambda b: 10.0 * torch.nn.functional.one_hot(b["value"], 2).float()
    assert nb.exact_match(oracle, batch) == 1.0
    assert nb.exact_match(lambda b: -oracle(b), batch) == 0.0
    ones = batch["value"].float().mean().item()
    assert nb.exact_match(lambda b: torch.tensor([[0.0, 1.0]]).expand(len(b["value"]), 2), batch) == pytest.approx(ones)
    assert nb.expression_loss(oracle, [batch, batch]).item() < 1e-4
    assert nb.expression_loss(lambda b: torch.zeros(len(b["value"]), 2), [batch]).item() == pytest.approx(math.log(2))


def test_a_tree_net_learns_depth_three_where_the_gru_does_not_yet():
    torch.set_num_threads(1)
    nb = load_lesson("04_leaky_units_and_echo_state", profile="smoke", parameters={"EXPR_STEPS": 200})
    rng = np.random.default_rng(1)
    batches = [[nb.expression_batch(32, depth, rng) for depth in (1, 2, 3)] for _ in range(nb.EXPR_STEPS)]
    test = nb.expression_batch(400, 3, np.random.default_rng(2))
    torch.manual_seed(1)
    tree_net, gru = nb.TreeNet(nb.EXPR_HIDDEN), nb.SequenceGRU(nb.EXPR_HIDDEN)
    history = nb.train_on_expressions(tree_net, batches, "tree")
    nb.train_on_expressions(gru, batches, "gru")
    assert len(history.loss) == 200
    tree, sequence = nb.exact_match(tree_net, test), nb.exact_match(gru, test)
    assert tree > 0.9 and tree > sequence + 0.05, (tree, sequence)


# ----------------------------------------------------------------------------- 4. the echo state network
def test_make_reservoir_scales_to_radius_one_and_draws_the_input_weights_in_range(nb):
    W_in, W = nb.make_reservoir(40, np.random.default_rng(0), input_scaling=0.3)
    assert W.shape == (40, 40) and W_in.shape == (40, 2)
    assert np.abs(np.linalg.eigvals(W)).max() == pytest.approx(1.0)
    assert np.abs(W_in).max() <= 0.3


@pytest.fixture(scope="module")
def reservoir(nb):
    return nb.make_reservoir(50, np.random.default_rng(3))


def test_reservoir_without_leak_or_recurrence_is_memoryless(nb, reservoir):
    W_in, W = reservoir
    u = np.random.default_rng(4).uniform(0, 0.5, 20)
    states = nb.run_reservoir(u, W_in, W, spectral_radius=0.0, leak=1.0, x0=np.ones(50))
    assert np.allclose(states, np.tanh(W_in[:, 0] + np.outer(u, W_in[:, 1])), atol=1e-12)


def test_reservoir_leak_rate(nb, reservoir):
    """Leak 0: the state never moves. Leak a, no recurrence, constant input: x_t - x* = (1 - a)^t (x_0 - x*)."""
    W_in, W = reservoir
    x0 = np.random.default_rng(5).uniform(-1, 1, 50)
    u = np.full(30, 0.25)
    assert np.allclose(nb.run_reservoir(u, W_in, W, 0.9, 0.0, x0=x0.copy()), x0, atol=1e-12)
    target = np.tanh(W_in[:, 0] + 0.25 * W_in[:, 1])
    leak = 0.3
    states = nb.run_reservoir(u, W_in, W, 0.0, leak, x0=x0.copy())
    expected = target + (1 - leak) ** np.arange(1, 31)[:, None] * (x0 - target)
    assert np.allclose(states, expected, atol=1e-12)


def test_echo_state_property_two_starts_converge(nb, reservoir):
    W_in, W = reservoir
    rng = np.random.default_rng(6)
    u = rng.uniform(0, 0.5, nb.WASHOUT)
    x_a, x_b = rng.uniform(-1, 1, 50), rng.uniform(-1, 1, 50)
    distance = {radius: np.linalg.norm(nb.run_reservoir(u, W_in, W, radius, 1.0, x_a.copy())[-1]
                                       - nb.run_reservoir(u, W_in, W, radius, 1.0, x_b.copy())[-1])
                for radius in (0.5, 0.9)}
    assert distance[0.9] < 1e-6, "with spectral radius 0.9 the start is forgotten within the washout"
    assert distance[0.5] < distance[0.9]


@pytest.mark.parametrize("beta", [1e-6, 0.1, 10.0])
def test_ridge_readout_is_the_closed_form_of_sklearns_ridge(nb, beta):
    rng = np.random.default_rng(7)
    Z = np.hstack([np.ones((80, 1)), rng.normal(size=(80, 6))])
    y = Z @ rng.normal(size=7) + 0.1 * rng.normal(size=80)
    w = nb.ridge_readout(Z, y, beta)
    assert np.allclose(w, Ridge(alpha=beta, fit_intercept=False).fit(Z, y).coef_, atol=1e-8)
    # the same minimiser of |Z w - y|^2 + beta |w|^2, as least squares on [Z; sqrt(beta) I]
    augmented = np.vstack([Z, math.sqrt(beta) * np.eye(7)])
    w_lstsq = np.linalg.lstsq(augmented, np.concatenate([y, np.zeros(7)]), rcond=None)[0]
    assert np.allclose(w, w_lstsq, atol=1e-8)


def test_design_and_nrmse(nb):
    u, states = np.arange(5.0), np.arange(15.0).reshape(5, 3)
    assert np.array_equal(nb.design(u, states), np.hstack([np.ones((5, 1)), u[:, None], states]))
    assert np.array_equal(nb.delay_line_design(u, 3)[:, 1:], [[0, 0, 0], [1, 0, 0], [2, 1, 0], [3, 2, 1], [4, 3, 2]])
    target = np.random.default_rng(8).normal(size=100)
    assert nb.nrmse(np.full(100, target.mean()), target) == pytest.approx(1.0)
    assert nb.nrmse(target, target) == 0.0


def test_a_small_esn_beats_the_mean_and_the_delay_line_on_narma10(nb):
    u, y = nb.narma(1500, order=10, seed=1)
    train, test = slice(100, 1100), slice(1100, 1500)
    W_in, W = nb.make_reservoir(100, np.random.default_rng(1))
    Z = nb.design(u, nb.run_reservoir(u, W_in, W, 0.9, 1.0))
    esn = nb.nrmse(Z[test] @ nb.ridge_readout(Z[train], y[train]), y[test])
    Z_delay = nb.delay_line_design(u, 20)
    delay = nb.nrmse(Z_delay[test] @ nb.ridge_readout(Z_delay[train], y[train]), y[test])
    assert esn < 0.6 and esn < delay, (esn, delay)


# ----------------------------------------------------------------------------- 5. the GRU's training data
def test_window_batches_cut_aligned_windows_from_the_training_part(nb):
    series = torch.arange(nb.WASHOUT + nb.TRAIN_LEN + 50, dtype=torch.float32)
    batches = nb.window_batches(series[:, None], 10 * series, 3, torch.Generator().manual_seed(0))
    assert len(batches) == 3
    for inputs, targets in batches:
        assert inputs.shape == (nb.GRU_BATCH, nb.GRU_WINDOW, 1) and targets.shape == (nb.GRU_BATCH, nb.GRU_WINDOW)
        assert torch.equal(targets, 10 * inputs[..., 0]), "targets line up with their inputs"
        assert torch.equal(inputs[:, 1:, 0] - inputs[:, :-1, 0], torch.ones(nb.GRU_BATCH, nb.GRU_WINDOW - 1))
        assert inputs.min() >= nb.WASHOUT and inputs.max() < nb.WASHOUT + nb.TRAIN_LEN


def test_window_loss_ignores_the_warmup_steps(nb):
    targets = torch.randn(4, nb.GRU_WINDOW)
    garbage_then_exact = torch.cat([1e3 * torch.ones(4, nb.GRU_WARMUP), targets[:, nb.GRU_WARMUP:]], dim=1)
    assert nb.window_loss(lambda inputs: garbage_then_exact, (None, targets)).item() == 0.0
    assert nb.window_loss(lambda inputs: targets + 1, (None, targets)).item() == pytest.approx(1.0)
    assert nb.GRURegressor(8)(torch.randn(3, 11, 1)).shape == (3, 11)


def test_windowed_predictions_read_the_window_that_ends_at_each_time(nb):
    torch.manual_seed(0)
    model = nb.GRURegressor(4)
    inputs = torch.randn(50, 1)
    times, window = [9, 20, 49], 5
    got = nb.windowed_predictions(model, inputs, times, window)
    with torch.no_grad():
        want = torch.stack([model(inputs[t - window + 1:t + 1][None])[0, -1] for t in times])
    assert torch.allclose(got, want, atol=1e-6)
    changed_now, changed_before = inputs.clone(), inputs.clone()
    changed_now[20] += 1.0
    changed_before[20 - window] += 1.0
    assert not torch.allclose(nb.windowed_predictions(model, changed_now, [20], window), got[1:2]), "reads x_t"
    assert torch.allclose(nb.windowed_predictions(model, changed_before, [20], window), got[1:2], atol=1e-6), "nothing older"


def test_train_gru_is_reproducible_and_uses_its_weight_decay():
    torch.set_num_threads(1)
    nb = load_lesson("04_leaky_units_and_echo_state", profile="smoke", parameters={"GRU_STEPS": 3})
    g = torch.Generator().manual_seed(0)
    inputs = torch.randn(nb.WASHOUT + nb.TRAIN_LEN, 1, generator=g)
    targets = torch.randn(nb.WASHOUT + nb.TRAIN_LEN, generator=g)
    weights = lambda model: torch.cat([w.detach().flatten() for w in model.parameters()])
    first, history = nb.train_gru(inputs, targets, 8, 0.0)
    again, _ = nb.train_gru(inputs, targets, 8, 0.0)
    decayed, _ = nb.train_gru(inputs, targets, 8, 1.0)
    assert len(history.loss) == 3 and first.gru.hidden_size == 8
    assert torch.equal(weights(first), weights(again)), "same seed, same batches: the same GRU"
    assert not torch.equal(weights(first), weights(decayed)), "the weight decay asked for is applied"


def test_the_gru_setting_is_chosen_on_the_validation_error(nb):
    sweep = {(16, 0.0): {"train": 0.1, "val": 0.5}, (32, 0.1): {"train": 0.3, "val": 0.4},
             (32, 0.0): {"train": 0.2, "val": 0.45}}
    assert nb.chosen_on_validation(sweep) == (32, 0.1)


# ----------------------------------------------------------------------------- exercises
def test_reference_answers_are_right(nb):
    from solutions import nb04

    # guaranteed radius: rescaled there, the reservoir's largest singular value is exactly 1
    _, W = nb.make_reservoir(40, np.random.default_rng(2))
    radius = nb04.guaranteed_radius(W)
    assert np.linalg.norm(radius * W, 2) == pytest.approx(1.0)
    assert 0 < radius < 1, "sigma_max > rho for a random non-symmetric matrix: the guarantee is stricter than rho < 1"
    for Z, y, beta in nb04.ridge_cases(3):
        w, b = nb04.ridge_with_intercept(Z, y, beta)
        reference = Ridge(alpha=beta, fit_intercept=True).fit(Z, y)
        assert np.allclose(w, reference.coef_, atol=1e-8) and abs(b - reference.intercept_) < 1e-8
    # memory capacity: at most one per delay and one per unit; a reservoir nearer the edge of stability recalls more
    u = np.random.default_rng(0).uniform(-0.5, 0.5, 600)
    W_in, W = nb.make_reservoir(30, np.random.default_rng(0))
    short, long = (nb04.memory_capacity(nb.run_reservoir(u, W_in, W, radius, 1.0), u, 20) for radius in (0.5, 0.95))
    assert 0 < short < long <= 20


def test_guaranteed_radius_makes_every_step_of_the_notebooks_reservoir_a_contraction(nb):
    """At sigma_max(rho W) <= 1 the distance of two starts never grows, at any leak, whatever the input;
    and the bound is tight: a little above that radius two nearby states along W's top singular
    direction move apart."""
    from solutions.nb04 import guaranteed_radius

    rng = np.random.default_rng(4)
    W_in, W = nb.make_reservoir(60, rng, input_scaling=2.0)
    u = rng.uniform(-1, 1, 300)
    x_a, x_b = rng.uniform(-1, 1, 60), rng.uniform(-1, 1, 60)
    radius = guaranteed_radius(W)
    for leak in (1.0, 0.3):
        distance = np.linalg.norm(nb.run_reservoir(u, W_in, W, radius, leak, x_a.copy())
                                  - nb.run_reservoir(u, W_in, W, radius, leak, x_b.copy()), axis=1)
        steps = np.concatenate([[np.linalg.norm(x_a - x_b)], distance])
        assert (steps[1:] <= steps[:-1] * (1 + 1e-9) + 1e-12).all(), f"leak {leak}: the distance never grows"
    top_direction = np.linalg.svd(W)[2][0]
    no_drive = np.zeros_like(W_in)
    for scale, grows in ((1.0, False), (1.05, True)):
        one_step = nb.run_reservoir(np.zeros(1), no_drive, W, scale * radius, 1.0, 1e-6 * top_direction)
        assert (np.linalg.norm(one_step[-1]) > 1e-6 * (1 + 1e-3)) == grows, scale


def test_exercise_1_check_rejects_the_spectral_radius_rule_and_a_missing_rescale(exercises):
    cases = exercises.cases("reservoir_matrix_cases", 0)
    W_symmetric = cases[-1][0]
    assert exercises.check_function(lambda W: 1.0, cases=[(W_symmetric,)], name="guaranteed_radius", atol=1e-8), \
        "a symmetric matrix: sigma_max = rho, the guarantee is rho <= 1"
    spectral_radius = lambda W: np.abs(np.linalg.eigvals(W)).max()
    wrong = {"rho < 1 is the rule": lambda W: 1.0,
             "W taken to be at radius 1": lambda W: 1 / np.linalg.norm(W, 2),
             "one over the spectral radius": lambda W: 1 / spectral_radius(W),
             "the Frobenius norm": lambda W: spectral_radius(W) / np.linalg.norm(W)}
    for why, answer in wrong.items():
        assert not exercises.check_function(answer, cases=cases, name="guaranteed_radius", atol=1e-8), why

    def not_written(W):
        raise NotImplementedError
    assert not exercises.check_function(not_written, cases=cases, name="guaranteed_radius")


def test_exercise_2_check_rejects_a_penalised_or_missing_bias(exercises):
    cases = exercises.cases("ridge_cases", 0)

    def penalised_bias(Z, y, beta):   # the notebook's ridge_readout with a column of ones
        Z1 = np.hstack([np.ones((len(Z), 1)), Z])
        w = np.linalg.solve(Z1.T @ Z1 + beta * np.eye(Z1.shape[1]), Z1.T @ y)
        return w[1:], float(w[0])

    def no_bias(Z, y, beta):
        return np.linalg.solve(Z.T @ Z + beta * np.eye(Z.shape[1]), Z.T @ y), 0.0

    for wrong in (penalised_bias, no_bias):
        assert not exercises.check_function(wrong, cases=cases, name="ridge_with_intercept", atol=1e-6)


def test_exercise_3_check_rejects_unsquared_or_future_correlations(nb, exercises):
    rng = np.random.default_rng(0)          # as the notebook's check cell builds its cases
    u = rng.uniform(-0.5, 0.5, 600)
    W_in, W = nb.make_reservoir(30, rng)
    cases = [(nb.run_reservoir(u, W_in, W, radius, 1.0), u, max_delay, nb.RIDGE)
             for radius, max_delay in ((0.5, 10), (0.95, 20))]

    def unsquared(states, u, max_delay, beta=1e-6):
        X = states[max_delay:]
        total = 0.0
        for k in range(1, max_delay + 1):
            target = u[max_delay - k:len(u) - k]
            prediction = X @ np.linalg.solve(X.T @ X + beta * np.eye(X.shape[1]), X.T @ target)
            total += np.corrcoef(prediction, target)[0, 1]
        return total

    def future_inputs(states, u, max_delay, beta=1e-6):   # predicts later inputs instead of earlier ones
        X = states[:len(u) - max_delay]
        total = 0.0
        for k in range(1, max_delay + 1):
            target = u[k:len(u) - max_delay + k]
            prediction = X @ np.linalg.solve(X.T @ X + beta * np.eye(X.shape[1]), X.T @ target)
            total += np.corrcoef(prediction, target)[0, 1] ** 2
        return total

    for wrong in (unsquared, future_inputs):
        assert not exercises.check_function(wrong, cases=cases, name="memory_capacity", atol=1e-6)
