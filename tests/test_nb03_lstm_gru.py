"""Notebook 03 (LSTM and GRU): its teaching claims, tested directly, and the exercise self-checks
(each passes the reference solution and fails a wrong answer)."""
import math

import pytest
import torch
import torch.nn as nn
from utils.generated import adding_problem

from solutions import nb03
from utils.checks import check_close, check_function

D = torch.float64


# ----------------------------------------------------------------------------- the cells, from the equations
def lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)   # PyTorch's order i, f, g, o
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_step(x, h, W_ih, W_hh, b_ih, b_hh):
    xr, xz, xn = (x @ W_ih.T + b_ih).chunk(3, dim=-1)                      # PyTorch's order r, z, n
    hr, hz, hn = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    return (1 - z) * torch.tanh(xn + r * hn) + z * h                         # r acts on W_hn h + b_hn


def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def weights(layer):
    return [getattr(layer, f"{name}_l0") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def unroll(kind, layer, x):
    """All hidden states h_1..h_T of ``layer`` (batch first), computed by our step functions."""
    h = c = x.new_zeros(x.shape[0], layer.hidden_size)
    states = []
    for t in range(x.shape[1]):
        if kind == "lstm":
            h, c = lstm_step(x[:, t], h, c, *weights(layer))
        else:
            h = {"gru": gru_step, "rnn": rnn_step}[kind](x[:, t], h, *weights(layer))
        states.append(h)
    return states


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cells_from_equations_equal_the_library(kind):
    torch.manual_seed(0)
    layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind](3, 5, batch_first=True).to(D)
    x = torch.randn(4, 9, 3, dtype=D)
    ours = torch.stack(unroll(kind, layer, x), dim=1)
    theirs, _ = layer(x)
    assert torch.allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    # and the gradients with respect to every weight
    grads_ours = torch.autograd.grad(ours.pow(2).sum(), weights(layer))
    grads_theirs = torch.autograd.grad(theirs.pow(2).sum(), weights(layer))
    for a, b in zip(grads_ours, grads_theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gru_reset_gate_placement_matters():
    """Cho et al. apply r before W_hn; PyTorch after. On the same weights they differ."""
    torch.manual_seed(1)
    layer = nn.GRU(3, 4).to(D)
    W_ih, W_hh, b_ih, b_hh = weights(layer)
    x, h = torch.randn(2, 3, dtype=D), torch.randn(2, 4, dtype=D)
    xr, xz, xn = (x @ W_ih.T + b_ih).chunk(3, dim=-1)
    hr, hz, _ = (h @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    cho = (1 - z) * torch.tanh(xn + (r * h) @ W_hh[8:].T + b_hh[8:]) + z * h
    assert not torch.allclose(cho, gru_step(x, h, W_ih, W_hh, b_ih, b_hh), atol=1e-3)


def test_cell_jacobian_is_the_forget_gate():
    """Along the cell, dc_t/dc_{t-1} = diag(f_t): the constant error carousel when f_t = 1."""
    torch.manual_seed(2)
    W_ih, W_hh, b_ih, b_hh = weights(nn.LSTM(3, 4).to(D))
    x, h, c = torch.randn(3, dtype=D), torch.randn(4, dtype=D), torch.randn(4, dtype=D)
    jacobian = torch.autograd.functional.jacobian(lambda c_: lstm_step(x, h, c_, W_ih, W_hh, b_ih, b_hh)[1], c)
    f = torch.sigmoid((x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)[4:8])
    assert torch.allclose(jacobian, torch.diag(f))


# ----------------------------------------------------------------------------- gradient through time
def relative_gradient_at_first_step(kind, length=50, hidden=32, forget_bias=1.0, seed=0):
    """||dL/dh_1|| / ||dL/dh_T|| (batch mean) for the squared error at the last step, at initialisation."""
    torch.manual_seed(seed)
    layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind](2, hidden, batch_first=True).to(D)
    if kind == "lstm":
        with torch.no_grad():
            layer.bias_ih_l0[hidden:2 * hidden] = forget_bias
            layer.bias_hh_l0[hidden:2 * hidden] = 0.0
    readout = nn.Linear(hidden, 1).to(D)
    x, y = adding_problem(64, length, seed=seed)
    states = unroll(kind, layer, x.to(D))
    for h in states:
        h.retain_grad()
    ((readout(states[-1]).squeeze(-1) - y.to(D)) ** 2).mean().backward()
    norms = torch.stack([h.grad.norm(dim=-1) for h in states], dim=1)
    return (norms[:, 0] / norms[:, -1]).mean().item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rnn_gradient_decays_over_time_and_the_lstm_gradient_decays_less(seed):
    rnn = relative_gradient_at_first_step("rnn", seed=seed)
    lstm = relative_gradient_at_first_step("lstm", seed=seed)
    assert rnn < 1e-6, "over 50 steps the vanilla RNN's gradient all but vanishes"
    assert lstm > 100 * rnn, "the LSTM's (forget bias 1) decays far less"


def test_lstm_without_forget_bias_decays_like_the_rnn():
    """The notebook's caveat: at forget bias 0 (f ~ 0.5) the LSTM starts no better than the RNN."""
    with_bias = relative_gradient_at_first_step("lstm", forget_bias=1.0)
    without = relative_gradient_at_first_step("lstm", forget_bias=0.0)
    assert without < 1e-6 and with_bias > 1000 * without


# ----------------------------------------------------------------------------- parameter counts
@pytest.mark.parametrize("input_size,hidden_size", [(2, 32), (32, 128), (300, 512), (1, 1)])
def test_parameter_count_formulas(input_size, hidden_size):
    count = lambda m: sum(p.numel() for p in m.parameters())
    block = hidden_size * (hidden_size + input_size) + 2 * hidden_size
    lstm, gru = count(nn.LSTM(input_size, hidden_size)), count(nn.GRU(input_size, hidden_size))
    assert lstm == 4 * block and gru == 3 * block and count(nn.RNN(input_size, hidden_size)) == block
    assert 4 * gru == 3 * lstm


@pytest.mark.parametrize("case", nb03.PARAMETER_COUNT_CASES)
def test_reference_parameter_count_matches_pytorch(case):
    kind, input_size, hidden_size, *rest = case
    num_layers = rest[0] if rest else 1
    bidirectional = rest[1] if len(rest) > 1 else False
    layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[kind](
        input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
    assert nb03.recurrent_parameter_count(*case) == sum(p.numel() for p in layer.parameters())


# ----------------------------------------------------------------------------- exercise self-checks
def test_exercise_1_cifg_cell():
    cases = nb03.cifg_cases(torch.Generator().manual_seed(0))
    assert check_function(nb03.cifg_lstm_cell, nb03.cifg_lstm_cell, cases, raise_on_fail=True)

    def separate_input_gate(x, h, c, W_ih, W_hh, b_ih, b_hh):   # i = f instead of 1 - f
        f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(3, dim=-1)
        f, g, o = torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + f * g
        return o * torch.tanh(c), c

    assert not check_function(separate_input_gate, nb03.cifg_lstm_cell, cases)

    def stub(*args):
        raise NotImplementedError

    assert not check_function(stub, nb03.cifg_lstm_cell, cases)


def test_cifg_cell_is_an_lstm_with_input_gate_one_minus_forget():
    """The reference equals our LSTM step with the input gate's pre-activation set to -(forget's)."""
    generator = torch.Generator().manual_seed(3)
    x, h, c, W_ih, W_hh, b_ih, b_hh = nb03.cifg_cases(generator)[0]
    H = h.shape[1]
    # sigmoid(-a) = 1 - sigmoid(a): an input-gate block equal to minus the forget block
    W_ih4 = torch.cat([-W_ih[:H], W_ih])
    W_hh4 = torch.cat([-W_hh[:H], W_hh])
    b_ih4, b_hh4 = torch.cat([-b_ih[:H], b_ih]), torch.cat([-b_hh[:H], b_hh])
    expected = lstm_step(x, h, c, W_ih4, W_hh4, b_ih4, b_hh4)
    for a, b in zip(nb03.cifg_lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh), expected, strict=True):
        assert torch.allclose(a, b)


def test_exercise_2_parameter_count():
    cases = nb03.PARAMETER_COUNT_CASES
    assert check_function(nb03.recurrent_parameter_count, nb03.recurrent_parameter_count, cases, raise_on_fail=True)

    def one_bias(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
        gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
        directions = 2 if bidirectional else 1
        return sum(directions * gates * (hidden_size * (hidden_size + (input_size if layer == 0 else directions * hidden_size))
                                         + hidden_size) for layer in range(num_layers))

    def layer_input_always_x(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
        gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
        directions = 2 if bidirectional else 1
        return num_layers * directions * gates * (hidden_size * (hidden_size + input_size) + 2 * hidden_size)

    assert not check_function(one_bias, nb03.recurrent_parameter_count, cases)
    assert not check_function(layer_input_always_x, nb03.recurrent_parameter_count, cases)


def test_exercise_3_gru_half_life():
    z = nb03.UPDATE_GATE
    assert z ** nb03.GRU_HALF_LIFE == pytest.approx(0.5)
    assert check_close(math.log(0.5) / math.log(z), nb03.GRU_HALF_LIFE, atol=0.05, raise_on_fail=True)
    assert not check_close(0.5 / (1 - z), nb03.GRU_HALF_LIFE, atol=0.05)   # a plausible wrong answer
    assert not check_close(..., nb03.GRU_HALF_LIFE, atol=0.05)


def test_exercise_4_reverse_padded():
    cases = nb03.reverse_padded_cases(torch.Generator().manual_seed(0))
    assert check_function(nb03.reverse_padded, nb03.reverse_padded, cases, raise_on_fail=True)
    x = torch.arange(10.0).reshape(2, 5)
    assert nb03.reverse_padded(x, [3, 5]).tolist() == [[2.0, 1.0, 0.0, 3.0, 4.0], [9.0, 8.0, 7.0, 6.0, 5.0]]
    assert not check_function(lambda x, lengths: x.flip(1), nb03.reverse_padded, cases)


def test_reversing_each_sequence_gives_the_packed_backward_direction():
    """What exercise 4 is for: the backward LSTM on reverse_padded input equals nn.LSTM on packed input."""
    torch.manual_seed(4)
    lstm = nn.LSTM(3, 4, batch_first=True, bidirectional=True).to(D)
    x, lengths = torch.randn(3, 6, 3, dtype=D), [6, 4, 2]
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    outputs, _ = nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], batch_first=True)
    backward = nn.LSTM(3, 4, batch_first=True).to(D)
    backward.load_state_dict({k.replace("_reverse", ""): v for k, v in lstm.state_dict().items() if "reverse" in k})
    ours = nb03.reverse_padded(backward(nb03.reverse_padded(x, lengths))[0], lengths)
    for row, length in enumerate(lengths):
        assert torch.allclose(ours[row, :length], outputs[row, :length, 4:], rtol=1e-10, atol=1e-12)
