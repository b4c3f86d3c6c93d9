"""Notebook 09 (Transformer): the exercise self-checks, and the teaching claims that can be
tested outside the notebook (attention equals PyTorch's, masks, the 1/sqrt(d_k) scaling, the
schedule's peak, label smoothing), on code taken from the notebook's own cells."""
import math

import nbformat
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from utils.notebooks import NOTEBOOK_DIR

from solutions import nb09
from utils.checks import check_close, check_function

NOTEBOOK = NOTEBOOK_DIR / "09_transformer.ipynb"


def _notebook_definitions(*names):
    """Execute the notebook cells that define ``names`` (functions/classes) and return them."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    namespace = {"torch": torch, "nn": nn, "F": F, "math": math}
    wanted = set(names)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for name in list(wanted):
            if f"def {name}(" in cell.source or f"class {name}(" in cell.source:
                # keep only the definitions: top-level def/class blocks of the cell
                blocks, current = [], None
                for line in cell.source.splitlines():
                    if line.startswith(("def ", "class ", "@")):
                        current = [line]
                        blocks.append(current)
                    elif current is not None and (line.startswith((" ", "\t")) or not line.strip()):
                        current.append(line)
                    else:
                        current = None
                exec("\n".join("\n".join(b) for b in blocks), namespace)
                wanted -= {n for n in wanted if n in namespace}
    missing = [n for n in names if n not in namespace]
    assert not missing, f"not found in the notebook: {missing}"
    return [namespace[n] for n in names]


@pytest.fixture(scope="module")
def nb():
    names = ["attention", "padding_bias", "causal_bias", "MultiHeadAttention", "copy_from_torch_attention",
             "transformer_lr", "with_cooldown", "label_smoothed_cross_entropy", "sinusoidal_encoding"]
    return dict(zip(names, _notebook_definitions(*names), strict=True))


# ----------------------------------------------------------------------------- teaching claims
def test_attention_equals_sdpa_with_padding_and_causal_masks(nb):
    torch.manual_seed(0)
    tokens = torch.tensor([[5, 6, 7, 8, 9], [5, 6, 0, 0, 0]])
    q, k, v = (torch.randn(2, 3, 5, 8) for _ in range(3))
    keep = (tokens != 0)[:, None, None, :] & torch.ones(5, 5, dtype=torch.bool).tril()
    bias = nb["padding_bias"](tokens) + nb["causal_bias"](5)
    out, weights = nb["attention"](q, k, v, bias)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v, attn_mask=keep), atol=1e-5)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 5))
    assert (weights[~keep.expand_as(weights)] == 0).all()
    # without a mask, and with gradients (the other softmax path)
    q.requires_grad_()
    out, _ = nb["attention"](q, k, v)
    assert torch.allclose(out, F.scaled_dot_product_attention(q, k, v), atol=1e-5)
    out.sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()


def test_attention_scaling_matters(nb):
    # a wrong scale (no 1/sqrt(d_k)) would not match SDPA: the comparison can fail
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 2, 4, 16) for _ in range(3))
    unscaled = torch.softmax(q @ k.transpose(-1, -2), -1) @ v
    assert not torch.allclose(unscaled, F.scaled_dot_product_attention(q, k, v), atol=1e-3)
    assert torch.allclose(nb["attention"](q, k, v)[0], F.scaled_dot_product_attention(q, k, v), atol=1e-5)


def test_multi_head_attention_equals_torch(nb):
    torch.manual_seed(0)
    reference = nn.MultiheadAttention(16, 4, batch_first=True).eval()
    own = nb["MultiHeadAttention"](16, 4).eval()
    nb["copy_from_torch_attention"](own, reference)
    x, tokens = torch.randn(2, 5, 16), torch.tensor([[1, 2, 3, 4, 5], [1, 2, 3, 0, 0]])
    with torch.no_grad():
        want, want_w = reference(x, x, x, key_padding_mask=tokens == 0, need_weights=True, average_attn_weights=False)
        got = own(x, x, nb["padding_bias"](tokens))
    assert torch.allclose(got, want, atol=1e-5) and torch.allclose(own.weights, want_w, atol=1e-5)


def test_dot_product_variance_grows_with_head_size():
    torch.manual_seed(0)
    for d_k in (16, 256):
        dots = (torch.randn(20000, d_k) * torch.randn(20000, d_k)).sum(-1)
        assert abs(dots.var().item() / d_k - 1) < 0.1
        assert abs((dots / math.sqrt(d_k)).var().item() - 1) < 0.1


def test_schedule_peaks_at_warmup(nb):
    lr = nb["transformer_lr"]
    rates = [lr(s, 512, 4000) for s in range(1, 10001)]
    assert rates.index(max(rates)) + 1 == 4000
    assert math.isclose(max(rates), nb09.PEAK_LR_512_4000, rel_tol=1e-9)


def test_cooldown_decays_linearly_to_zero_over_its_share(nb):
    cool = nb["with_cooldown"]
    total = 1000
    assert cool(2.0, 100, total, 0.3) == 2.0                     # before the last 30%: unchanged
    assert cool(2.0, 700, total, 0.3) == 2.0                     # the cool-down starts here
    assert math.isclose(cool(2.0, 850, total, 0.3), 1.0)         # halfway through it: half the rate
    assert cool(2.0, total, total, 0.3) == 0.0
    assert cool(2.0, 999, total, 0.0) == 2.0                     # cooldown=0: the plain schedule


def test_label_smoothing_equals_torch(nb):
    torch.manual_seed(0)
    logits, target = torch.randn(3, 6, 11), torch.randint(0, 11, (3, 6))
    ours = nb["label_smoothed_cross_entropy"](logits, target, 0.1)
    theirs = F.cross_entropy(logits.reshape(-1, 11), target.reshape(-1), ignore_index=0, label_smoothing=0.1)
    assert abs(ours.item() - theirs.item()) < 1e-5


def test_positional_encoding_shape_and_range(nb):
    pe = nb["sinusoidal_encoding"](50, 16)
    assert pe.shape == (50, 16) and pe.abs().max() <= 1.0
    assert torch.allclose(pe[0, 1::2], torch.ones(8)) and torch.allclose(pe[0, 0::2], torch.zeros(8))


# ----------------------------------------------------------------------------- exercises
def test_exercise_1_causal_keep_mask():
    cases = [(1,), (4,), (7,)]
    assert check_function(nb09.causal_keep_mask, nb09.causal_keep_mask, cases, raise_on_fail=True)
    assert nb09.causal_keep_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    assert not check_function(lambda n: torch.ones(n, n, dtype=torch.bool).triu(), nb09.causal_keep_mask, cases)
    assert not check_function(lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1), nb09.causal_keep_mask, cases)

    def stub(n):
        raise NotImplementedError
    assert not check_function(stub, nb09.causal_keep_mask, cases)


def test_exercise_2_padding_bias_from_lengths(nb):
    cases = [(torch.tensor([3, 1, 4]), 4), (torch.tensor([2]), 5)]
    assert check_function(nb09.padding_bias_from_lengths, nb09.padding_bias_from_lengths, cases, raise_on_fail=True)
    # the solution agrees with the notebook's padding_bias on right-padded tokens
    tokens = torch.tensor([[7, 7, 7, 0], [7, 0, 0, 0], [7, 7, 7, 7]])
    assert torch.equal(nb09.padding_bias_from_lengths(torch.tensor([3, 1, 4]), 4), nb["padding_bias"](tokens))
    wrong_shape = lambda lengths, n: nb09.padding_bias_from_lengths(lengths, n)[:, 0, 0, :]
    off_by_one = lambda lengths, n: nb09.padding_bias_from_lengths(lengths + 1, n)
    boolean = lambda lengths, n: (torch.arange(n)[None, :] < lengths[:, None])[:, None, None, :]
    for wrong in (wrong_shape, off_by_one, boolean):
        assert not check_function(wrong, nb09.padding_bias_from_lengths, cases)


def test_exercise_3_numbers():
    assert check_close(8.0, nb09.UNSCALED_STD_AT_64, atol=1e-3, raise_on_fail=True)
    assert not check_close(64.0, nb09.UNSCALED_STD_AT_64, atol=1e-3)        # the variance, not the std
    assert not check_close(1.0, nb09.UNSCALED_STD_AT_64, atol=1e-3)         # that is the scaled one
    assert not check_close(..., nb09.UNSCALED_STD_AT_64)
    assert check_close(6.988e-4, nb09.PEAK_LR_512_4000, atol=1e-6, raise_on_fail=True)
    assert not check_close(512 ** -0.5, nb09.PEAK_LR_512_4000, atol=1e-6)
    assert not check_close(4000 ** -0.5, nb09.PEAK_LR_512_4000, atol=1e-6)
