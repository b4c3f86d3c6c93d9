"""Notebook 03 (LSTM and GRU): its teaching claims, tested on the notebook's own definitions
(loaded with utils.lessons) against PyTorch's layers on the same weights, and the
discrimination of its exercise self-checks."""
import pytest
import torch
import torch.nn as nn

from utils.checks import Exercises
from utils.data.generated import adding_problem
from utils.lessons import load_lesson

D = torch.float64

MUTATIONS = [
    ("torch.sigmoid(f), torch.tanh(g)", "torch.tanh(f), torch.tanh(g)",
     "the LSTM's forget gate squashed by tanh instead of a sigmoid"),
    ("c = f * c + i * g", "c = c + i * g", "the LSTM's cell update drops the forget gate"),
    ("n = torch.tanh(input_n + r * hidden_n)", "n = torch.tanh(input_n + hidden_n)",
     "the GRU's candidate ignores the reset gate"),
    ("stack.extend(parent for parent, _ in node.next_functions)", "stack.extend([])",
     "the autograd-graph walk stops at the output's node"),
    ("steps.append((i, f, g, o, c, h))", "steps.append((f, i, g, o, c, h))",
     "the gate trace files the forget gate under 'input' and the input gate under 'forget'"),
    ("return (steps > first[:, None]) & (steps < second[:, None])",
     "return (steps >= first[:, None]) & (steps < second[:, None])",
     "the gap between the marks includes the first mark, where the number is written"),
    ('"first_number": correlation(cell[rows, second - 1], x[rows, first, 0])',
     '"first_number": correlation(cell[rows, second], x[rows, first, 0])',
     "the stored number is read at the second mark, after the second write"),
]


@pytest.fixture(scope="module")
def nb():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_lesson("03_lstm_gru", profile="smoke")
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def exercises():
    return Exercises("03_lstm_gru")


def weights(layer, suffix="_l0"):
    return [getattr(layer, name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def random(*shape, seed=0):
    return torch.randn(*shape, dtype=D, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- 1. the LSTM cell
def test_lstm_cell_equals_nn_lstmcell_with_gradients(nb):
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 5).to(D)
    x, h, c = random(4, 3, seed=1), random(4, 5, seed=2), random(4, 5, seed=3)
    W = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    ours, theirs = nb.lstm_cell(x, h, c, *W), cell(x, (h, c))
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    loss = lambda h_c: (h_c[0] ** 2).sum() + h_c[1].sum()
    for a, b in zip(torch.autograd.grad(loss(ours), W), torch.autograd.grad(loss(theirs), W), strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_scratch_lstm_equals_nn_lstm_outputs_final_state_and_every_gradient(nb):
    torch.manual_seed(1)
    library = nn.LSTM(3, 5, batch_first=True).to(D)
    scratch = nb.ScratchLSTM(3, 5).to(D)
    scratch.load_state_dict(library.state_dict())
    x, state = random(4, 7, 3, seed=4), (random(1, 4, 5, seed=5), random(1, 4, 5, seed=6))
    ours, theirs = nb.outputs_and_gradients(scratch, x, state), nb.outputs_and_gradients(library, x, state)
    assert len(ours) == len(theirs) == 3 + 4
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    outputs, _ = scratch(x)                               # and from a zero state
    assert torch.allclose(outputs, library(x)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_scratch_layers_have_the_library_parameters_and_initialisation(nb, kind):
    scratch = {"lstm": nb.ScratchLSTM, "gru": nb.ScratchGRU}[kind](6, 16)
    library = {"lstm": nn.LSTM, "gru": nn.GRU}[kind](6, 16)
    shapes = lambda m: {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert shapes(scratch) == shapes(library)
    assert all(p.abs().max() <= 16 ** -0.5 for p in scratch.parameters()), "uniform(-1/sqrt(H), 1/sqrt(H))"
    assert nb.n_parameters(scratch) == nb.n_parameters(library)
    library.load_state_dict(scratch.state_dict())         # loads both ways


def test_the_cell_jacobian_is_the_forget_gate_and_the_identity_when_it_is_saturated(nb):
    """dc_t/dc_{t-1} = diag(f_t); checked against nn.LSTMCell, whose c_t is linear in c_{t-1}."""
    torch.manual_seed(2)
    cell = nn.LSTMCell(3, 5).to(D)
    W = [p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    x, h, c = random(3, seed=7), random(5, seed=8), random(5, seed=9)
    jacobian, forget_gate = nb.cell_jacobian(x, h, c, *W)
    with torch.no_grad():
        base = cell(x[None], (h[None], c[None]))[1][0]
        columns = [cell(x[None], (h[None], (c + e)[None]))[1][0] - base for e in torch.eye(5, dtype=D)]
    assert torch.allclose(jacobian, torch.stack(columns, dim=1), atol=1e-10)
    assert torch.allclose(jacobian, torch.diag(forget_gate), atol=1e-12)
    assert ((forget_gate > 0) & (forget_gate < 1)).all()
    saturated = W[2].clone()
    saturated[5:10] = 50.0                                  # forget bias so large that f_t = 1: the 1997 cell
    jacobian_1997, _ = nb.cell_jacobian(x, h, c, W[0], W[1], saturated, W[3])
    assert torch.allclose(jacobian_1997, torch.eye(5, dtype=D))


# ----------------------------------------------------------------------------- 2. peepholes
def test_peephole_lstm_reduces_to_nn_lstm_and_acts_through_the_cell_only(nb):
    torch.manual_seed(3)
    library = nn.LSTM(3, 5, batch_first=True).to(D)
    W = [p.detach() for p in weights(library)]
    x, state = random(4, 6, 3, seed=10), (random(1, 4, 5, seed=11), random(1, 4, 5, seed=12))
    with torch.no_grad():
        expected = library(x, state)[0]
    zeros = [torch.zeros(5, dtype=D)] * 3
    assert torch.allclose(nb.run_peephole(x, state, W, zeros), expected, rtol=1e-10, atol=1e-12)
    peepholes = [0.5 * random(5, seed=s) for s in (13, 14, 15)]
    assert (nb.run_peephole(x, state, W, peepholes) - expected).abs().max() > 1e-3
    # with c_{t-1} = 0 the input and forget peepholes see nothing: the new cell state is the plain LSTM's
    h0, c0 = random(4, 5, seed=16), torch.zeros(4, 5, dtype=D)
    _, c_peep = nb.peephole_lstm_cell(x[:, 0], h0, c0, *W, *peepholes)
    assert torch.allclose(c_peep, nb.lstm_cell(x[:, 0], h0, c0, *W)[1], atol=1e-12)


# ----------------------------------------------------------------------------- 3. the GRU cell
def test_gru_cell_equals_nn_grucell_with_gradients(nb):
    torch.manual_seed(4)
    cell = nn.GRUCell(3, 5).to(D)
    x, h = random(4, 3, seed=17), random(4, 5, seed=18)
    W = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    ours, theirs = nb.gru_cell(x, h, *W), cell(x, h)
    assert torch.allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for a, b in zip(torch.autograd.grad(ours.pow(2).sum(), W), torch.autograd.grad(theirs.pow(2).sum(), W), strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_scratch_gru_equals_nn_gru_outputs_final_state_and_every_gradient(nb):
    torch.manual_seed(5)
    library = nn.GRU(3, 5, batch_first=True).to(D)
    scratch = nb.ScratchGRU(3, 5).to(D)
    scratch.load_state_dict(library.state_dict())
    x, h = random(4, 7, 3, seed=19), random(1, 4, 5, seed=20)
    ours, theirs = nb.gru_outputs_and_gradients(scratch, x, h), nb.gru_outputs_and_gradients(library, x, h)
    assert len(ours) == len(theirs) == 2 + 4
    for a, b in zip(ours, theirs, strict=True):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_chos_reset_placement_differs_unless_the_reset_gate_is_open(nb):
    torch.manual_seed(6)
    W = [p.detach() for p in weights(nn.GRU(3, 4).to(D))]
    x, h = random(2, 3, seed=21), random(2, 4, seed=22)
    assert (nb.gru_cell_cho(x, h, *W) - nb.gru_cell(x, h, *W)).abs().max() > 1e-3
    b_ih = W[2].clone()
    b_ih[:4] = 50.0                                         # r = 1: r (W h + b) = W (r h) + b
    open_reset = [W[0], W[1], b_ih, W[3]]
    assert torch.allclose(nb.gru_cell_cho(x, h, *open_reset), nb.gru_cell(x, h, *open_reset), atol=1e-12)


# ----------------------------------------------------------------------------- 4. parameter counts
@pytest.mark.parametrize("input_size,hidden_size", [(2, 32), (32, 128), (1, 1)])
def test_parameter_count_formulas(nb, input_size, hidden_size):
    count = {kind: nb.n_parameters(nb.LAYERS[kind](input_size, hidden_size)) for kind in ("rnn", "gru", "lstm")}
    block = nb.block(input_size, hidden_size)
    assert (count["rnn"], count["gru"], count["lstm"]) == (block, 3 * block, 4 * block)


# ----------------------------------------------------------------------------- 5. fused or a loop
def test_autograd_nodes_grow_with_the_steps_of_a_loop_and_not_of_a_fused_kernel(nb):
    torch.manual_seed(0)
    short, long = torch.randn(2, 10, 4), torch.randn(2, 40, 4)
    for layer in (nb.ScratchLSTM(4, 4), nb.ScratchGRU(4, 4), nn.GRU(4, 4, batch_first=True)):
        assert 40 <= nb.autograd_nodes(layer, long)
        assert nb.autograd_nodes(layer, short) + 30 <= nb.autograd_nodes(layer, long)
    if torch.backends.mkldnn.is_available():
        lstm = nn.LSTM(4, 4, batch_first=True)
        assert nb.autograd_nodes(lstm, short) == nb.autograd_nodes(lstm, long) < 10


# ----------------------------------------------------------------------------- 6-7. the adding problem, gradients
def test_memory_model_sets_the_forget_bias_so_that_f_starts_near_sigmoid_of_it(nb):
    hidden = nb.TASK_HIDDEN
    lstm = nb.new_memory_model("lstm").rnn
    assert torch.all(lstm.bias_ih_l0[hidden:2 * hidden] == nb.FORGET_BIAS)
    assert torch.all(lstm.bias_hh_l0[hidden:2 * hidden] == 0)
    plain = nb.new_memory_model("lstm", forget_bias=0.0).rnn           # same seed, same other weights
    assert torch.equal(plain.weight_hh_l0, lstm.weight_hh_l0)
    assert torch.equal(plain.bias_ih_l0[:hidden], lstm.bias_ih_l0[:hidden])
    W = [p.detach().to(D) for p in weights(lstm)]
    zeros = torch.zeros(hidden, dtype=D)
    _, forget_gate = nb.cell_jacobian(torch.zeros(2, dtype=D), zeros, zeros, *W)
    assert torch.allclose(forget_gate, torch.sigmoid(torch.tensor(nb.FORGET_BIAS, dtype=D)).expand(hidden))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_unrolled_states_are_the_library_layers_states(nb, kind):
    model = nb.MemoryModel(kind, 6, forget_bias=1.0).to(D)
    x, _ = adding_problem(3, 12, seed=1)
    ours = torch.stack(nb.unrolled_states(model, x.to(D)), dim=1)    # (keeps each h_t's gradient)
    theirs = model.rnn(x.to(D))[0]
    assert torch.allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def probe():
    x, y = adding_problem(64, 50, seed=0)
    return x, y


def test_the_rnns_gradient_decays_over_time_and_the_lstms_decays_less(nb, probe):
    """||dL/dh_1|| / ||dL/dh_T|| over 50 steps at initialisation, with the notebook's models."""
    relative = {name: nb.gradient_through_time(model, *probe) for name, model in (
        ("rnn", nb.new_memory_model("rnn")), ("lstm", nb.new_memory_model("lstm")),
        ("lstm, forget bias 0", nb.new_memory_model("lstm", forget_bias=0.0)))}
    assert all(r.shape == (50,) and r[-1] == pytest.approx(1.0) for r in relative.values())
    rnn, lstm, lstm_0 = (relative[name][0].item() for name in ("rnn", "lstm", "lstm, forget bias 0"))
    assert rnn < 1e-6, "over 50 steps the vanilla RNN's gradient all but vanishes"
    assert lstm > 100 * rnn, "the LSTM's (forget bias 1) decays far less"
    assert lstm > 100 * lstm_0, "with forget bias 0 (f ~ 0.5) the LSTM starts no better than the RNN"
    assert relative["rnn"][-10] < relative["rnn"][-2], "the RNN's gradient shrinks step by step backwards"


def test_adding_accuracy_of_a_perfect_and_of_a_constant_predictor(nb):
    class Sum(nn.Module):           # reads the two marked numbers: the task solved
        def __init__(self, constant=None):
            super().__init__()
            self.constant, self.dummy = constant, nn.Parameter(torch.zeros(()))

        def forward(self, x):
            if self.constant is not None:
                return torch.full(x.shape[:1], self.constant)
            return (x[..., 0] * x[..., 1]).sum(1)

    x, y = adding_problem(2500, 20, seed=3)
    assert nb.adding_accuracy(Sum(), x, y) == 1.0
    share = ((y - 1.0).abs() < nb.TOLERANCE).float().mean().item()
    assert nb.adding_accuracy(Sum(constant=1.0), x, y) == pytest.approx(share)
    assert 0.03 < share < 0.13, "always 1.0 is within 0.04 of the target about 8% of the time"


def test_adding_stream_is_seeded_and_has_its_length(nb):
    first, second = list(nb.AddingStream(3, 4, 10, seed=7)), list(nb.AddingStream(3, 4, 10, seed=7))
    assert len(nb.AddingStream(3, 4, 10, seed=7)) == len(first) == 3
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, second, strict=True))
    assert not torch.equal(first[0][0], first[1][0])


# ----------------------------------------------------------------------------- 7. inside the trained LSTM
def test_lstm_gates_are_nn_lstmcells_blocks_in_the_order_i_f_g_o(nb):
    torch.manual_seed(8)
    cell = nn.LSTMCell(3, 5).to(D)
    x, h, c = random(4, 3, seed=25), random(4, 5, seed=26), random(4, 5, seed=27)
    W = [p.detach() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    i, f, g, o = nb.lstm_gates(x, h, *W)
    with torch.no_grad():
        h_next, c_next = cell(x, (h, c))
    assert torch.allclose(f * c + i * g, c_next, atol=1e-12)
    assert torch.allclose(o * torch.tanh(c_next), h_next, atol=1e-12)
    b_ih = W[2].clone()
    b_ih[:5], b_ih[5:10], b_ih[15:] = -50.0, 50.0, -50.0       # input shut, forget open, output shut
    i, f, g, o = nb.lstm_gates(x, h, W[0], W[1], b_ih, W[3])
    assert torch.allclose(i, torch.zeros_like(i)) and torch.allclose(f, torch.ones_like(f))
    assert torch.allclose(o, torch.zeros_like(o)) and ((g > -1) & (g < 1)).all()


def test_lstm_trace_is_the_library_layer_and_files_each_gate_under_its_name(nb):
    torch.manual_seed(9)
    layer = nn.LSTM(3, 5, batch_first=True).to(D)
    with torch.no_grad():
        layer.bias_ih_l0[:5], layer.bias_ih_l0[5:10] = -3.0, 3.0   # input gates mostly shut, forget gates mostly open
    x = random(4, 7, 3, seed=28)
    with torch.no_grad():
        trace = nb.lstm_trace(layer, x)
        outputs, (_, c_n) = layer(x)
    assert set(trace) == {"input", "forget", "candidate", "output", "cell", "hidden"}
    assert all(v.shape == (4, 7, 5) for v in trace.values())
    assert torch.allclose(trace["hidden"], outputs, rtol=1e-10, atol=1e-12)
    assert torch.allclose(trace["cell"][:, -1], c_n[0], rtol=1e-10, atol=1e-12)
    assert trace["input"].max() < 0.5 < trace["forget"].min(), "the biases put i below 1/2 and f above"
    previous = torch.cat([torch.zeros(4, 1, 5, dtype=D), trace["cell"][:, :-1]], dim=1)
    assert torch.allclose(trace["cell"], trace["forget"] * previous + trace["input"] * trace["candidate"], atol=1e-12)
    assert torch.allclose(trace["hidden"], trace["output"] * torch.tanh(trace["cell"]), atol=1e-12)


def test_marked_steps_and_the_steps_between_them(nb):
    x = torch.zeros(2, 9, 2)
    x[0, [2, 6], 1] = 1.0
    x[1, [0, 8], 1] = 1.0
    first, second = nb.marked_steps(x)
    assert first.tolist() == [2, 0] and second.tolist() == [6, 8]
    between = nb.between_marks(x)
    assert between[0].nonzero().flatten().tolist() == [3, 4, 5]
    assert between[1].nonzero().flatten().tolist() == list(range(1, 8))
    generated, _ = adding_problem(50, 20, seed=4)
    first, second = nb.marked_steps(generated)
    assert (generated[torch.arange(50), first, 1] == 1).all() and (generated[torch.arange(50), second, 1] == 1).all()
    assert (first < second).all()


def built_memory(x, y):
    """A hand-made trace of three units over adding-problem sequences: unit 0 is the perfect memory
    (keeps everything, writes each marked number only at its mark), unit 1 forgets half at every step,
    unit 2 keeps 0.9 per step and writes everywhere."""
    B, T, _ = x.shape
    marked = x[..., 1]
    ones = torch.ones(B, T)
    forget = torch.stack([ones, 0.5 * ones, 0.9 * ones], dim=-1)
    input_gate = torch.stack([marked, 0.5 * ones, ones], dim=-1)
    cell_0 = (x[..., 0] * marked).cumsum(dim=1)                 # the sum of the marked numbers so far
    noise = torch.randn(B, T, 2, generator=torch.Generator().manual_seed(0))
    return {"forget": forget, "input": input_gate, "cell": torch.cat([cell_0[..., None], noise], dim=-1)}


def test_kept_share_is_the_product_of_the_forget_gates_over_the_gap(nb):
    x, y = adding_problem(101, 20, seed=5)
    kept = nb.kept_share(built_memory(x, y), x)
    first, second = nb.marked_steps(x)
    gap = (second - first - 1).double()
    assert kept[0] == 1.0
    assert kept[1].item() == pytest.approx((0.5 ** gap).median().item(), rel=1e-5)
    assert kept[2].item() == pytest.approx((0.9 ** gap).median().item(), rel=1e-5)
    assert kept.argmax() == 0


def test_writes_and_stores_on_a_perfect_memory_unit(nb):
    x, y = adding_problem(200, 20, seed=6)
    trace = built_memory(x, y)
    perfect = nb.writes_and_stores(trace, x, y, unit=0)
    assert perfect["input_at_marks"] == 1.0 and perfect["input_elsewhere"] == 0.0
    assert perfect["first_number"] == pytest.approx(1.0) and perfect["sum"] == pytest.approx(1.0)
    noise = nb.writes_and_stores(trace, x, y, unit=1)
    assert noise["input_at_marks"] == noise["input_elsewhere"] == 0.5
    assert abs(noise["first_number"]) < 0.3 and abs(noise["sum"]) < 0.3
    assert nb.correlation(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([-2.0, -4.0, -6.0])) == pytest.approx(-1.0)


# ----------------------------------------------------------------------------- 8. bidirectional and stacked
def test_bidirectional_stacked_scratch_lstms_equal_nn_lstm(nb):
    torch.manual_seed(7)
    library = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True).to(D)
    x = random(4, 7, 3, seed=23)
    with torch.no_grad():
        assert torch.allclose(nb.bidirectional_stacked(library, x), library(x)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("radius,ceiling", [(1, 0.75), (2, 13 / 16)])
def test_left_to_right_ceiling_known_answers(nb, radius, ceiling):
    assert nb.left_to_right_ceiling(radius) == pytest.approx(ceiling)


def test_window_majority_labels_and_a_perfect_tagger(nb):
    bits, labels = nb.window_majority(50, 12, 2, seed=0)
    assert bits.shape == labels.shape == (50, 16)
    assert (labels[:, :2] == nb.IGNORE).all() and (labels[:, -2:] == nb.IGNORE).all()
    for t in range(2, 14):
        assert torch.equal(labels[:, t], (bits[:, t - 2:t + 3].sum(1) > 2).long())

    class Majority(nn.Module):      # a tagger that sees the whole window: always right
        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(()))

        def forward(self, bits):
            sums = nn.functional.conv1d(bits[:, None].float(), torch.ones(1, 1, 5), padding=2)[:, 0]
            return torch.stack([2.5 - sums, sums - 2.5], dim=-1)

    assert nb.tagging_accuracy(Majority(), bits, labels) == 1.0
    assert nb.tagging_step(Majority(), (bits, labels)).item() < nb.tagging_step(nb.Tagger(4, True), (bits, labels)).item()
    assert nb.Tagger(4, True, 2)(bits).shape == (50, 16, 2)


# ----------------------------------------------------------------------------- exercises
def test_reference_answers_are_right(nb):
    from solutions import nb03

    for case in nb03.parameter_count_cases():
        kind, input_size, hidden_size, *rest = case
        layer = nb.LAYERS[kind](input_size, hidden_size, num_layers=rest[0] if rest else 1,
                                bidirectional=rest[1] if len(rest) > 1 else False)
        assert nb03.recurrent_parameter_count(*case) == nb.n_parameters(layer)
    # the CIFG cell is the notebook's LSTM cell with an input-gate block equal to minus the forget block
    x, h, c, W_ih, W_hh, b_ih, b_hh = nb03.cifg_cases(torch.Generator().manual_seed(3))[0]
    H = h.shape[1]
    four = [torch.cat([-w[:H], w]) for w in (W_ih, W_hh, b_ih, b_hh)]       # sigmoid(-a) = 1 - sigmoid(a)
    for a, b in zip(nb03.cifg_lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh), nb.lstm_cell(x, h, c, *four), strict=True):
        assert torch.allclose(a, b)
    assert 0.95 ** nb03.gru_half_life == pytest.approx(0.5)
    # reverse_padded turns a one-direction LSTM into the backward direction of a packed bidirectional one
    torch.manual_seed(4)
    lstm = nn.LSTM(3, 4, batch_first=True, bidirectional=True).to(D)
    x, lengths = random(3, 6, 3, seed=24), [6, 4, 2]
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    outputs, _ = nn.utils.rnn.pad_packed_sequence(lstm(packed)[0], batch_first=True)
    backward = nb.ScratchLSTM(3, 4).to(D)
    backward.load_state_dict({k.replace("_reverse", ""): v for k, v in lstm.state_dict().items() if "reverse" in k})
    ours = nb03.reverse_padded(backward(nb03.reverse_padded(x, lengths))[0], lengths)
    for row, length in enumerate(lengths):
        assert torch.allclose(ours[row, :length], outputs[row, :length, 4:], rtol=1e-10, atol=1e-12)


def test_exercise_1_check_rejects_an_uncoupled_input_gate(exercises):
    cases = exercises.cases("cifg_cases", torch.Generator().manual_seed(0))

    def input_gate_equal_to_forget(x, h, c, W_ih, W_hh, b_ih, b_hh):   # i = f instead of 1 - f
        f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(3, dim=-1)
        f, g, o = torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + f * g
        return o * torch.tanh(c), c

    def stub(*args):
        raise NotImplementedError

    for wrong in (input_gate_equal_to_forget, stub):
        assert not exercises.check_function(wrong, cases=cases, name="cifg_lstm_cell")


def test_exercise_2_check_rejects_one_bias_or_a_fixed_layer_input(exercises):
    cases = exercises.cases("parameter_count_cases")

    def one_bias(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
        gates, directions = {"rnn": 1, "gru": 3, "lstm": 4}[kind], 2 if bidirectional else 1
        return sum(directions * gates * (hidden_size * (hidden_size + (input_size if layer == 0 else directions * hidden_size))
                                         + hidden_size) for layer in range(num_layers))

    def layer_input_always_x(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
        gates, directions = {"rnn": 1, "gru": 3, "lstm": 4}[kind], 2 if bidirectional else 1
        return num_layers * directions * gates * (hidden_size * (hidden_size + input_size) + 2 * hidden_size)

    for wrong in (one_bias, layer_input_always_x):
        assert not exercises.check_function(wrong, cases=cases, name="recurrent_parameter_count")


def test_exercise_3_check_rejects_the_time_constant(exercises):
    assert not exercises.check_close("gru_half_life", 0.5 / (1 - 0.95), atol=0.05)
    assert not exercises.check_close("gru_half_life", 1 / (1 - 0.95), atol=0.05)
    assert not exercises.check_close("gru_half_life", ..., atol=0.05)


def test_exercise_4_check_rejects_flipping_the_padding_too(exercises):
    cases = exercises.cases("reverse_padded_cases", torch.Generator().manual_seed(0))
    assert not exercises.check_function(lambda x, lengths: x.flip(1), cases=cases, name="reverse_padded")
