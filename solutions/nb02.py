"""Reference solutions for notebook 02 (RNN and backpropagation through time)."""
import math

import torch

EXERCISES = {1: ["step_jacobian"], 2: ["steps_back_below_one_thousandth"], 3: ["truncated_grad_W_hh"]}


def step_jacobian(W_xh, W_hh, b_h, x_t, h_prev):
    """dh_t/dh_{t-1} for h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h), one example."""
    h_t = torch.tanh(W_xh @ x_t + W_hh @ h_prev + b_h)
    return (1 - h_t ** 2)[:, None] * W_hh


def steps_to_vanish(factor: float, fraction: float) -> int:
    """Smallest integer k with factor**k < fraction."""
    k = math.ceil(math.log(fraction) / math.log(factor))
    return k if factor ** k < fraction else k + 1


steps_back_below_one_thousandth = steps_to_vanish(0.8, 1e-3)


def truncated_grad_W_hh(x, p, k):
    """Gradient of W_hh for L = sum_b y_T with the backward recursion stopped after k steps."""
    from utils.lessons import from_notebook

    rnn_forward = from_notebook("02_rnn_bptt", "rnn_forward", quiet=True)    # section 1's forward pass
    hs, _ = rnn_forward(x, p)
    steps = x.shape[1]
    grad = torch.zeros_like(p["W_hh"])
    dL_dyT = torch.ones(x.shape[0], p["W_hy"].shape[0], dtype=x.dtype)
    delta = dL_dyT @ p["W_hy"]                              # dL/dh_T
    for t in range(steps, max(steps - k, 0), -1):           # t = T, ..., T - k + 1
        da = delta * (1 - hs[:, t] ** 2)
        grad += da.T @ hs[:, t - 1]
        delta = da @ p["W_hh"]                              # dL/dh_{t-1}: only the path through h_t
    return grad


# ------------------------------------------------------------------ cases for the self-checks
def random_step_case(n_in, n_hidden, generator):
    """(W_xh, W_hh, b_h, x_t, h_prev) in float64."""
    d = torch.float64
    return (torch.randn(n_hidden, n_in, generator=generator, dtype=d),
            torch.randn(n_hidden, n_hidden, generator=generator, dtype=d) / math.sqrt(n_hidden),
            0.1 * torch.randn(n_hidden, generator=generator, dtype=d),
            torch.randn(n_in, generator=generator, dtype=d),
            torch.tanh(torch.randn(n_hidden, generator=generator, dtype=d)))


def random_truncation_case(k, generator, batch=3, steps=8, n_in=2, n_hidden=5):
    """(x, p, k) with p holding W_xh, W_hh, b_h, W_hy, b_y as in the notebook."""
    d = torch.float64
    p = {"W_xh": torch.randn(n_hidden, n_in, generator=generator, dtype=d),
         "W_hh": torch.randn(n_hidden, n_hidden, generator=generator, dtype=d) / math.sqrt(n_hidden),
         "b_h": 0.1 * torch.randn(n_hidden, generator=generator, dtype=d),
         "W_hy": torch.randn(1, n_hidden, generator=generator, dtype=d) / math.sqrt(n_hidden),
         "b_y": torch.zeros(1, dtype=d)}
    x = torch.randn(batch, steps, n_in, generator=generator, dtype=d)
    return (x, p, k)
