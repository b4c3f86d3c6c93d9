"""Notebook 01's own code (loaded from the notebook): the hand-written convolutions against
F.conv2d, the output-size formula against real layers, the measured receptive field, pooling,
the small CNN and its depthwise-separable variant, the batching; and the exercise self-checks."""
import math

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.checks import Exercises
from utils.lessons import load_lesson

MUTATIONS = [
    ("return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1",
     "return (size + 2 * padding - dilation * (kernel - 1)) // stride + 1",
     "the output-size formula without its - 1 (the kernel's extent counted one too long)"),
    ("rows = slice(stride * i, stride * i + dilation * (k - 1) + 1, dilation)",
     "rows = slice(stride * i, stride * i + dilation * (k - 1) + 1)",
     "the loop convolution ignores the dilation along the rows"),
]

SETTINGS = [  # kernel, stride, padding, dilation
    (1, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1), (3, 2, 0, 2), (2, 3, 2, 1), (4, 1, 2, 2), (5, 2, 2, 1)]


@pytest.fixture(scope="module")
def nb():
    torch.set_num_threads(1)
    return load_lesson("01_cnn_review", profile="smoke")


@pytest.mark.parametrize("kernel, stride, padding, dilation", SETTINGS)
def test_hand_written_convolutions_equal_f_conv2d(nb, kernel, stride, padding, dilation):
    g = torch.Generator().manual_seed(kernel * 100 + stride * 10 + padding + dilation)
    x = torch.randn(2, 3, 11, 11, generator=g)
    w, b = torch.randn(4, 3, kernel, kernel, generator=g), torch.randn(4, generator=g)
    want = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    by_unfold = nb.conv2d_unfold(x, w, b, stride, padding, dilation)
    by_loops = nb.conv2d_loops(x[1], w, b, stride, padding, dilation)
    assert by_unfold.shape == want.shape and by_loops.shape == want.shape[1:]
    assert torch.allclose(by_unfold, want, atol=1e-4)
    assert torch.allclose(by_loops, want[1], atol=1e-4)
    assert torch.allclose(nb.conv2d_unfold(x, w, None, stride, padding, dilation),
                          F.conv2d(x, w, None, stride=stride, padding=padding, dilation=dilation), atol=1e-4), \
        "without a bias"


def test_conv2d_loops_on_a_known_answer(nb):
    x = torch.arange(16.0).reshape(1, 4, 4)
    ones = torch.ones(1, 1, 2, 2)
    # each output is the sum of a 2x2 window: top-left window 0 + 1 + 4 + 5 = 10
    assert nb.conv2d_loops(x, ones, stride=2).tolist() == [[[10.0, 18.0], [42.0, 50.0]]]


def test_output_size_formula_matches_real_layers(nb):
    checked = 0
    for size in range(3, 16):
        for kernel, stride, padding, dilation in SETTINGS:
            if size + 2 * padding < dilation * (kernel - 1) + 1:
                continue
            x = torch.zeros(1, 1, size, size)
            conv = nn.Conv2d(1, 1, kernel, stride, padding, dilation)
            assert nb.conv_output_size(size, kernel, stride, padding, dilation) == conv(x).shape[-1]
            checked += 1
            pool_padding = min(padding, kernel // 2)            # pooling allows at most half the kernel
            if size + 2 * pool_padding >= dilation * (kernel - 1) + 1:
                pool = nn.MaxPool2d(kernel, stride, padding=pool_padding, dilation=dilation)
                assert nb.conv_output_size(size, kernel, stride, pool_padding, dilation) == pool(x).shape[-1], \
                    "pooling follows the same formula"
    assert checked > 50
    assert nb.conv_output_size(28, 3, padding=2, dilation=2) == 28, "'same' padding p = d(k-1)/2"


@pytest.mark.parametrize("kernel, stride, size", [(2, 2, 8), (2, 2, 7), (3, 1, 6), (3, 2, 9)])
def test_pool2d_equals_the_library_pooling(nb, kernel, stride, size):
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(size))
    assert torch.equal(nb.pool2d(x, kernel, stride, "max"), F.max_pool2d(x, kernel, stride))
    assert torch.allclose(nb.pool2d(x, kernel, stride, "avg"), F.avg_pool2d(x, kernel, stride))


def test_max_pooling_ignores_a_shift_inside_its_window_but_not_across_windows(nb):
    spot = torch.zeros(1, 1, 8, 8)
    spot[0, 0, 2, 2] = 1.0
    inside = torch.roll(spot, 1, dims=-1)          # (2, 3): the same 2x2 window
    across = torch.roll(inside, 1, dims=-1)        # (2, 4): the next window
    assert torch.equal(nb.pool2d(spot), nb.pool2d(inside))
    assert not torch.equal(nb.pool2d(inside), nb.pool2d(across)), "only local, partial invariance"


def test_measured_receptive_field_of_stride_1_stacks_is_2L_plus_1(nb):
    for n_layers in (1, 2, 3, 5):
        assert nb.measured_receptive_field(nb.conv_stack(n_layers)) == 2 * n_layers + 1


def test_measured_receptive_field_with_strides_follows_the_recurrence(nb):
    # r_l = r_{l-1} + (k - 1) * (product of the strides below layer l)
    for n_layers, stride_every in ((4, 2), (3, 1), (6, 3)):
        strides = [2 if (i + 1) % stride_every == 0 else 1 for i in range(n_layers)]
        field, jump = 1, 1
        for s in strides:
            field, jump = field + 2 * jump, jump * s
        assert nb.measured_receptive_field(nb.conv_stack(n_layers, stride_every), size=64) == field


@pytest.mark.parametrize("image_size, channels", [(8, (4, 8)), (28, (16, 32))])
def test_small_cnn_gives_ten_scores_per_image(nb, image_size, channels):
    for separable in (False, True):
        model = nb.SmallCNN(image_size, channels, separable=separable).eval()
        assert model(torch.randn(3, 1, image_size, image_size)).shape == (3, 10)


@pytest.mark.parametrize("channels", [(16, 32), (32, 64)])
def test_separable_cnn_weights_follow_the_formula(nb, channels):
    c1, c2 = channels
    conv_weights = lambda m: sum(nb.count(layer) for layer in m.features.modules() if isinstance(layer, nn.Conv2d))
    standard = nb.SmallCNN(8, channels)
    separable = nb.SmallCNN(8, channels, separable=True)
    layers = [(1, c1), (c1, c1), (c1, c2), (c2, c2)]
    assert conv_weights(standard) == sum(9 * a * b for a, b in layers)
    # the first layer (one input channel) stays standard; the others: depthwise 9*C_in + pointwise C_in*C_out
    assert conv_weights(separable) == 9 * c1 + sum(9 * a + a * b for a, b in layers[1:])
    assert conv_weights(separable) < 0.25 * conv_weights(standard), "the notebook's claim in section 7"


def test_count_leaves_out_biases_unless_asked(nb):
    conv = nn.Conv2d(3, 5, 3)
    assert nb.count(conv) == 5 * 3 * 9
    assert nb.count(conv, biases=True) == 5 * 3 * 9 + 5


def test_batches_normalise_and_cover_every_example_once(nb):
    images = torch.arange(10 * 16, dtype=torch.float32).reshape(10, 1, 4, 4)
    labels = torch.arange(10)
    mean, std = 3.0, 2.0
    seen = list(nb.batches(images, labels, 4, mean, std))
    assert [len(y) for _, y in seen] == [4, 4, 2]
    assert sorted(torch.cat([y for _, y in seen]).tolist()) == list(range(10))
    for x, y in seen:
        assert torch.equal(x, (images[y] - mean) / std)
    ordered = list(nb.batches(images, labels, 4, mean, std, shuffle=False))
    assert torch.cat([y for _, y in ordered]).tolist() == list(range(10))
    reiterable = nb.Batches(images, labels, 4, mean, std)
    assert len(reiterable) == 3 and len(list(reiterable)) == 3 and len(list(reiterable)) == 3


def test_random_shift_translates_by_at_most_max_shift(nb):
    images = torch.randn(2, 1, 6, 6)
    np.random.seed(0)
    for _ in range(20):
        shifted = nb.random_shift(images, max_shift=1)
        assert shifted.shape == images.shape
        padded = F.pad(images, (1,) * 4)
        assert any(torch.equal(shifted, padded[..., dy:dy + 6, dx:dx + 6]) for dy in range(3) for dx in range(3))


# ------------------------------------------------------------------ the exercises' self-checks
@pytest.fixture(scope="module")
def exercises():
    return Exercises("01_cnn_review")


def test_exercise_1_check_rejects_sizes_without_padding(exercises, nb):
    assert exercises.check_equal("size_after_conv", nb.conv_output_size(224, 7, 2, 3))
    assert exercises.check_equal("size_after_pool", nb.conv_output_size(112, 3, 2, 1))
    assert not exercises.check_equal("size_after_conv", nb.conv_output_size(224, 7, 2)), "padding forgotten"
    assert not exercises.check_equal("size_after_pool", 55)
    assert not exercises.check_equal("size_after_conv", ...)


def test_exercise_2_check_rejects_a_wrong_max_pool(exercises, nb):
    cases = [torch.randn(2, 3, 8, 6), torch.randn(1, 1, 4, 4)]
    assert exercises.check_function(lambda x: nb.pool2d(x, 2, 2, "max"), cases=cases, name="max_pool_2x2")
    average = lambda x: nb.pool2d(x, 2, 2, "avg")
    wrong_axes = lambda x: x.reshape(x.shape[0], x.shape[1], x.shape[2] // 2, 2, x.shape[3] // 2, 2).amax(dim=(2, 4))
    assert not exercises.check_function(average, cases=cases, name="max_pool_2x2"), "average, not max"
    assert not exercises.check_function(wrong_axes, cases=cases, name="max_pool_2x2"), "max over the wrong axes"


def test_exercise_3_check_rejects_a_wrong_separable_count(exercises):
    cases = [(32, 64, 3), (3, 16, 5), (128, 128, 7)]
    assert exercises.check_function(lambda c_in, c_out, k: math.prod((k, k, c_in)) + c_in * c_out, cases=cases,
                                    name="separable_weights")
    standard = lambda c_in, c_out, k: k * k * c_in * c_out
    no_pointwise = lambda c_in, c_out, k: k * k * c_in
    depthwise_per_output = lambda c_in, c_out, k: k * k * c_out + c_in * c_out
    for wrong in (standard, no_pointwise, depthwise_per_output):
        assert not exercises.check_function(wrong, cases=cases, name="separable_weights")
