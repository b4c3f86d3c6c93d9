"""Reference solutions for notebook 03 (LSTM and GRU)."""
import math

import torch

EXERCISES = {1: ["cifg_lstm_cell"], 2: ["recurrent_parameter_count"], 3: ["gru_half_life"],
             4: ["reverse_padded"]}


# ------------------------------------------------------------------ exercise 1
def cifg_lstm_cell(x, h, c, W_ih, W_hh, b_ih, b_hh):
    """One step of an LSTM with coupled input and forget gates (CIFG): i_t = 1 - f_t.

    The weights hold three blocks of rows, in the order f, g, o (shapes (3H, X), (3H, H), (3H,)).
    """
    f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(3, dim=-1)
    f, g, o = torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + (1 - f) * g
    h = o * torch.tanh(c)
    return h, c


# ------------------------------------------------------------------ exercise 2
def recurrent_parameter_count(kind, input_size, hidden_size, num_layers=1, bidirectional=False):
    """Number of parameters of nn.RNN / nn.GRU / nn.LSTM (kind "rnn", "gru", "lstm") with two biases."""
    gates = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else directions * hidden_size
        total += directions * gates * (hidden_size * (hidden_size + layer_input) + 2 * hidden_size)
    return total


# ------------------------------------------------------------------ exercise 3
def steps_to_half(z):
    """Steps k after which h_0's weight z**k in h_k has fallen to one half (real-valued)."""
    return math.log(0.5) / math.log(z)


gru_half_life = steps_to_half(0.95)


# ------------------------------------------------------------------ exercise 4
def reverse_padded(x, lengths):
    """Reverse each sequence of a batch-first padded batch within its own length.

    x: (B, T, ...), lengths: B integers. Positions at or beyond a sequence's length (padding)
    stay where they are.
    """
    batch, steps = x.shape[:2]
    lengths = torch.as_tensor(lengths, device=x.device).reshape(batch, 1)
    positions = torch.arange(steps, device=x.device).expand(batch, steps)
    source = torch.where(positions < lengths, lengths - 1 - positions, positions)
    source = source.reshape(batch, steps, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, source)


# ------------------------------------------------------------------ inputs for the self-checks
def cifg_cases(generator, dtype=torch.float64):
    """Random (x, h, c, W_ih, W_hh, b_ih, b_hh) tuples of a few sizes."""
    cases = []
    for batch, n_in, hidden in ((2, 3, 4), (5, 1, 6), (1, 7, 2)):
        r = lambda *shape: torch.randn(*shape, generator=generator, dtype=dtype)
        cases.append((r(batch, n_in), r(batch, hidden), r(batch, hidden), r(3 * hidden, n_in),
                      r(3 * hidden, hidden), r(3 * hidden), r(3 * hidden)))
    return cases


def parameter_count_cases():
    """(kind, input_size, hidden_size[, num_layers[, bidirectional]]) tuples."""
    return [("lstm", 10, 20), ("gru", 3, 7, 1, True), ("rnn", 5, 4, 3),
            ("lstm", 8, 16, 2, True), ("gru", 1, 1, 4, False), ("lstm", 300, 128, 3, True)]


def reverse_padded_cases(generator):
    return [(torch.randn(3, 6, 2, generator=generator), [6, 4, 1]),
            (torch.arange(10.0).reshape(2, 5), [3, 5]),
            (torch.randn(4, 3, 2, 2, generator=generator), [1, 2, 3, 3])]
