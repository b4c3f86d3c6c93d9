"""Notebook 13 (compression): the sentence-polarity loader, the distillation loss and its T^2
factor, symmetric int8 rounding, pruning's exact sparsity, and the exercise self-checks."""
import math
import warnings

import pytest
import torch
import torch.nn as nn
from utils.sentiment import load_polarity, read_gensim_polarity, split_labelled

from solutions import nb13
from tests.conftest import SHARED_DATA
from utils.checks import check_close, check_function
from utils.data import DataUnavailable


# ----------------------------------------------------------------------------- loader
def test_gensim_polarity_offline_default(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    data, source = load_polarity(profile="smoke", seed=0)
    assert source.kind == "offline"
    assert len(data["train"]) == 150 and len(data["test"]) == 50
    assert sum(y for _, y in data["test"]) == 25, "stratified: half of each class in test"
    texts = {t for t, _ in data["train"]}
    assert not texts & {t for t, _ in data["test"]}
    assert all(isinstance(t, str) and t and y in (0, 1) for t, y in data["train"])
    assert not any(t.startswith("__label__") for t, _ in data["train"])


def test_gensim_file_format(tmp_path):
    f = tmp_path / "mini.cor"
    f.write_bytes("__label__pos a caf\xe9 film . \n__label__neg dull . \n".encode("latin-1"))
    assert read_gensim_polarity(f) == [("a caf\xe9 film .", 1), ("dull .", 0)]
    f.write_text("__label__meh what\n")
    with pytest.raises(ValueError):
        read_gensim_polarity(f)


def test_split_is_seeded_and_stratified():
    pairs = [(f"s{i}", i % 2) for i in range(100)]
    a, b, c = split_labelled(pairs, 0.2, 0), split_labelled(pairs, 0.2, 0), split_labelled(pairs, 0.2, 1)
    assert a == b and a != c
    assert len(a["test"]) == 20 and sum(y for _, y in a["test"]) == 10


def test_explicit_folder_path_latin1(tmp_path):
    (tmp_path / "rt-polarity.pos").write_bytes("great caf\xe9 .\nfine .\n".encode("latin-1"))
    (tmp_path / "rt-polarity.neg").write_bytes(b"bad .\nawful .\n")
    data, source = load_polarity(tmp_path, seed=0, test_fraction=0.5)
    assert source.kind == "path"
    everything = sorted(data["train"] + data["test"])
    assert everything == sorted([("great caf\xe9 .", 1), ("fine .", 1), ("bad .", 0), ("awful .", 0)])


def test_explicit_path_missing_file_says_what_to_do(tmp_path):
    (tmp_path / "rt-polarity.pos").write_text("good .\n")
    with pytest.raises(DataUnavailable, match="rt-polarity.neg"):
        load_polarity(tmp_path)


HAVE_SHARED = (SHARED_DATA / "sentiment" / "rt-polarity.pos").exists()


@pytest.mark.skipif(not HAVE_SHARED, reason="no shared data folder")
def test_data_folder_path(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED_DATA))
    data, source = load_polarity(profile="smoke", seed=0)
    assert source.kind == "data_dir"
    assert len(data["train"]) + len(data["test"]) == 10_662
    assert len(data["test"]) == 1066
    assert abs(sum(y for _, y in data["test"]) - 533) <= 1


# ----------------------------------------------------------------------------- distillation
def test_distillation_loss_by_hand():
    z_s, z_t, T, a = [0.5, -1.0], [2.0, -2.0], 2.0, 0.7

    def softmax(z):
        return [math.exp(v) / sum(math.exp(u) for u in z) for v in z]

    p_t, p_s = softmax([v / T for v in z_t]), softmax([v / T for v in z_s])
    kl = sum(pt * math.log(pt / ps) for pt, ps in zip(p_t, p_s, strict=True))
    for label, expected in [(0, a * T * T * kl + (1 - a) * -math.log(softmax(z_s)[0])),
                            (-1, a * T * T * kl)]:
        got = nb13.distillation_loss(torch.tensor([z_s]), torch.tensor([z_t]), torch.tensor([label]), T, a)
        assert abs(got.item() - expected) < 1e-6


def test_t_squared_keeps_the_soft_gradient_constant():
    g = torch.Generator().manual_seed(0)
    z_s, z_t = torch.randn(256, 2, generator=g) * 2, torch.randn(256, 2, generator=g) * 2
    norms = {}
    for T in (8, 16, 32):
        z = z_s.clone().requires_grad_(True)
        nb13.distillation_loss(z, z_t, torch.full((256,), -1), T, 1.0).backward()
        norms[T] = z.grad.norm().item()
    assert 0.8 < norms[8] / norms[16] < 1.2 and 0.8 < norms[16] / norms[32] < 1.2
    assert 3.2 < (norms[8] / 64) / (norms[16] / 256) < 4.8


# ----------------------------------------------------------------------------- int8 and pruning
def test_symmetric_int8_error_is_at_most_half_a_step():
    w = torch.randn(64, 32) * 0.05
    q, scale = nb13.quantize_int8(w)
    assert q.dtype == torch.int8 and q.abs().max() == 127
    assert ((w - q.float() * scale).abs() <= scale / 2 + 1e-8).all()


def test_pytorch_dynamic_quantization_uses_the_symmetric_rule():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(16, 8))
        quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
        packed = quantized[0].weight()
    w = model[0].weight.detach()
    scale = w.abs().max() / 127.5
    assert packed.q_zero_point() == 0 and math.isclose(packed.q_scale(), scale.item(), rel_tol=1e-5)
    assert torch.equal(packed.int_repr(), torch.clamp(torch.round(w / scale), -128, 127).to(torch.int8))


def test_global_pruning_reaches_the_target_and_keeps_dense_size():
    from torch.nn.utils import prune

    torch.manual_seed(0)
    layers = [nn.Linear(20, 30), nn.Linear(30, 10)]
    targets = [(m, "weight") for m in layers]
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=0.6)
    for m in layers:
        prune.remove(m, "weight")
    zeros = sum(int((m.weight == 0).sum()) for m in layers)
    assert zeros == round(0.6 * 900)
    assert all(m.weight.shape == s for m, s in zip(layers, [(30, 20), (10, 30)], strict=True))


# ----------------------------------------------------------------------------- exercises
def test_exercise_checks_pass_the_reference_and_fail_wrong_answers():
    cases1 = [(torch.randn(4, 3), 1.0), (torch.randn(2, 5) * 3, 4.0)]
    assert check_function(nb13.soft_targets, nb13.soft_targets, cases=cases1)
    assert not check_function(lambda z, T: torch.softmax(z, -1), nb13.soft_targets, cases=cases1)
    assert not check_function(lambda z, T: torch.softmax(z * T, -1), nb13.soft_targets, cases=cases1)

    cases2 = [(torch.randn(8, 5),), (torch.randn(3, 3) * 0.01,)]
    assert check_function(nb13.quantize_int8, nb13.quantize_int8, cases=cases2)

    def wrong_scale(w):
        scale = w.abs().max() / 255
        return torch.clamp(torch.round(w / scale), -127, 127).to(torch.int8), scale

    assert not check_function(wrong_scale, nb13.quantize_int8, cases=cases2)

    assert abs(nb13.SIZE_RATIO - 182 / 440) < 1e-12
    assert check_close(0.4136, nb13.SIZE_RATIO, atol=0.005)
    assert not check_close(0.25, nb13.SIZE_RATIO, atol=0.005)
    assert not check_close(..., nb13.SIZE_RATIO, atol=0.005)

    cases4 = [(8,), (4,), (2, 2)]
    assert check_function(nb13.breakeven_sparsity, nb13.breakeven_sparsity, cases=cases4)
    assert abs(nb13.breakeven_sparsity(8) - 2 / 3) < 1e-12 and nb13.breakeven_sparsity(4) == 0.5
    assert not check_function(lambda i, v=4: v / (v + i), nb13.breakeven_sparsity, cases=cases4)

