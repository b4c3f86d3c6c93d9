"""Notebook 01's own code (loaded from the notebook): the hand-written convolutions against
F.conv2d, the output-size formula against real layers, the measured receptive field and its
recurrence, pooling, the small CNN and its depthwise-separable variant, the batching, the shift
measurement (translation, offsets, relative change, the stages around each pooling), the sentence
CNN (k-gram scores, max over time, padding) and its batches; and the exercise self-checks."""
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
    ("field, jump = field + (kernel - 1) * jump, jump * stride",
     "field, jump = field + (kernel - 1) * jump, jump",
     "the receptive-field recurrence forgets that strides multiply the step of later layers"),
    ("images[..., max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]",
     "images[..., max(dy, 0):height + min(dy, 0), max(-dx, 0):width + min(-dx, 0)]",
     "translate reads the rows from the wrong side: the content moves up instead of down"),
    ("if (dy, dx) != (0, 0):", "if True:",
     "the random shifts include the zero shift, which flatters every stage's stability"),
    ("return (after - before).flatten(1).norm(dim=1) / before.flatten(1).norm(dim=1).clamp_min(1e-12)",
     "return (after - before).flatten(1).norm(dim=1) / after.flatten(1).norm(dim=1).clamp_min(1e-12)",
     "the relative change divided by the moved image's norm instead of the original's"),
    ('stages[f"block {block} before pooling"] = model.features[:i]',
     'stages[f"block {block} before pooling"] = model.features[:i - 1]',
     "the stage 'before pooling' stops one layer early (before the last ReLU)"),
    ("ramps = torch.stack([steps.repeat(3), steps.repeat_interleave(3)])",
     "ramps = torch.stack([steps.repeat(3), steps.repeat(3)])",
     "the ramp share counts the left-right ramp twice and never the top-bottom one"),
    ("ramps = ramps / ramps.norm(dim=1, keepdim=True)", "ramps = ramps",
     "the ramps are not unit vectors: the 'share' is no longer a share of the energy"),
    ("scores.append(c * inside[:, None])", "scores.append(c)",
     "the sentence CNN lets windows over the padding into the max: features depend on the batch"),
    ("inside = torch.arange(c.shape[-1], device=ids.device) < (lengths - width + 1)[:, None]",
     "inside = torch.arange(c.shape[-1], device=ids.device) < (lengths - width)[:, None]",
     "the last k-gram of every sentence is masked out (off by one)"),
    ("return torch.cat([c.amax(dim=-1) for c in self.window_scores(ids)], dim=1)",
     "return torch.cat([c.mean(dim=-1) for c in self.window_scores(ids)], dim=1)",
     "mean over time instead of max over time"),
    ("length = max(min_length, max(len(s) for s in ids))", "length = max(len(s) for s in ids)",
     "sentence batches shorter than the widest filter"),
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


def test_receptive_field_recurrence_matches_the_measurement(nb):
    for n_layers, stride_every in ((4, 2), (3, 1), (6, 3), (5, None)):
        strides = [2 if stride_every and (i + 1) % stride_every == 0 else 1 for i in range(n_layers)]
        measured = nb.measured_receptive_field(nb.conv_stack(n_layers, stride_every), size=96)
        assert nb.receptive_field([3] * n_layers, strides) == measured
    assert nb.receptive_field([7, 3], [2, 2]) == 7 + 2 * 2


def test_ramp_share_is_the_energy_share_of_the_two_gradients(nb):
    steps = torch.tensor([-1.0, 0.0, 1.0])
    left_right = steps.repeat(3, 1)                 # every row -1 0 1
    sobel_x = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    filters = torch.stack([left_right, left_right.T, left_right + 2 * left_right.T, torch.ones(3, 3),
                           torch.tensor([[1.0, -2.0, 1.0]] * 3), sobel_x, sobel_x.T])[:, None]
    assert torch.allclose(nb.ramp_share(filters), torch.tensor([1, 1, 1, 0, 0, 8 / 9, 8 / 9]), atol=1e-6)
    random_share = nb.ramp_share(torch.randn(4000, 1, 3, 3, generator=torch.Generator().manual_seed(0))).mean()
    assert abs(random_share - 2 / 9) < 0.01, "two of nine orthogonal directions"


# ------------------------------------------------------------------ the shift measurement
def test_translate_moves_the_content_and_fills_with_background(nb):
    image = torch.zeros(1, 1, 6, 6)
    image[0, 0, 2, 3] = 1.0
    for dy, dx in ((1, 0), (0, -2), (-1, 2), (3, 1), (0, 0)):
        moved = nb.translate(image, dy, dx)
        assert moved.shape == image.shape
        assert moved.sum() == 1 and moved[0, 0, 2 + dy, 3 + dx] == 1, (dy, dx)
    ramp = torch.arange(36.0).reshape(1, 1, 6, 6)
    down_right = nb.translate(ramp, 1, 2)
    assert torch.equal(down_right[..., 1:, 2:], ramp[..., :-1, :-2])
    assert down_right[..., 0, :].abs().sum() == 0 and down_right[..., :, :2].abs().sum() == 0, "the border is 0"
    assert torch.equal(nb.translate(ramp, 6, 0), torch.zeros_like(ramp)), "moved out of the image entirely"


def test_random_offsets_are_never_zero_and_cover_the_range(nb):
    offsets = nb.random_offsets(400, 2, np.random.default_rng(0))
    assert len(offsets) == 400 and (0, 0) not in offsets
    assert all(-2 <= dy <= 2 and -2 <= dx <= 2 for dy, dx in offsets)
    assert len(set(offsets)) == 24, "every non-zero offset of up to 2 pixels occurs"


def test_relative_change_is_zero_for_no_change_and_scales_with_the_original(nb):
    before = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    after = torch.tensor([[3.0, 4.0], [1.0, 2.0]])
    assert torch.allclose(nb.relative_change(before, after), torch.tensor([0.0, 2.0]))
    assert torch.allclose(nb.relative_change(before, 2 * before), torch.ones(2))


def test_network_stages_sit_just_around_each_pooling(nb):
    model = nb.SmallCNN(16, (4, 8)).eval()
    stages = nb.network_stages(model)
    assert list(stages) == ["input pixels", "block 1 before pooling", "block 1 after pooling",
                            "block 2 before pooling", "block 2 after pooling", "class scores"]
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():
        for block, size in ((1, 16), (2, 8)):
            before, after = stages[f"block {block} before pooling"](x), stages[f"block {block} after pooling"](x)
            assert before.shape[-1] == size and torch.equal(F.max_pool2d(before, 2), after)
            assert before.min() >= 0, "the maps that enter the pooling come after the ReLU"
        assert torch.equal(stages["input pixels"](x), x) and stages["class scores"](x).shape == (3, 10)


def test_pooling_removes_part_of_the_change_of_a_shift(nb):
    # the notebook's measurement on smooth random images through an untrained network: each pooling
    # lowers the relative change of a 1-pixel shift, but does not remove it
    torch.manual_seed(0)
    images = F.avg_pool2d(torch.rand(64, 1, 20, 20), 5, stride=1, padding=2)
    moved = torch.cat([nb.translate(img[None], dy, dx)
                       for img, (dy, dx) in zip(images, nb.random_offsets(64, 1, np.random.default_rng(0)), strict=True)])
    stages = nb.network_stages(nb.SmallCNN(20, (8, 16)).eval())
    with torch.no_grad():
        change = {name: nb.relative_change(f(images), f(moved)).median().item() for name, f in stages.items()}
    for block in (1, 2):
        assert 0.2 * change[f"block {block} before pooling"] < change[f"block {block} after pooling"] \
            < change[f"block {block} before pooling"]


# ------------------------------------------------------------------ the sentence CNN
@pytest.fixture(scope="module")
def sentence_cnn(nb):
    torch.manual_seed(0)
    return nb.SentenceCNN(torch.randn(20, 6), n_filters=4, widths=(2, 3), pad_id=0).eval()


def test_sentence_cnn_scores_every_k_gram_by_the_equation(nb, sentence_cnn):
    ids = torch.tensor([[5, 7, 9, 11, 13]])
    x = sentence_cnn.embed.weight[ids[0]]                   # (T, d)
    for scores, width, conv in zip(sentence_cnn.window_scores(ids), (2, 3), sentence_cnn.convs, strict=True):
        w, b = conv.weight, conv.bias                       # (filters, d, k)
        want = torch.stack([F.relu(b + sum(w[:, :, u] @ x[i + u] for u in range(width)))
                            for i in range(5 - width + 1)], dim=-1)
        assert scores.shape == (1, 4, 5 - width + 1)
        assert torch.allclose(scores[0], want, atol=1e-6)
    hand = torch.cat([s.amax(dim=-1) for s in sentence_cnn.window_scores(ids)], dim=1)
    assert torch.allclose(sentence_cnn.features(ids), hand), "max over time"
    assert sentence_cnn(ids).shape == (1, 2)


def test_sentence_cnn_features_do_not_depend_on_the_padding_of_the_batch(nb, sentence_cnn):
    short, long = [4, 8, 15], [16, 17, 18, 19, 4, 8, 15, 5, 6]
    alone = sentence_cnn.features(nb.sentence_batch([(short, 1)], pad_id=0, min_length=3)[0])
    batch, labels = nb.sentence_batch([(short, 1), (long, 0)], pad_id=0, min_length=3)
    assert batch.shape == (2, 9) and labels.tolist() == [1, 0]
    assert torch.allclose(sentence_cnn.features(batch)[0], alone[0], atol=1e-6)


def test_sentence_batch_pads_to_at_least_the_widest_filter(nb):
    batch, labels = nb.sentence_batch([([4], 0), ([5, 6], 1)], pad_id=0, min_length=5)
    assert batch.tolist() == [[4, 0, 0, 0, 0], [5, 6, 0, 0, 0]] and labels.tolist() == [0, 1]


def test_sentence_cnn_finds_a_key_word_anywhere_in_the_sentence(nb):
    # class 1 iff token 3 occurs, at any position: max over time can learn it, word vectors fixed
    g = torch.Generator().manual_seed(0)
    sentences = [torch.randint(4, 20, (int(torch.randint(3, 9, (1,), generator=g)),), generator=g).tolist()
                 for _ in range(64)]
    labels = [i % 2 for i in range(64)]
    for sentence, label in zip(sentences, labels, strict=True):
        if label:
            sentence[int(torch.randint(len(sentence), (1,), generator=g))] = 3
    torch.manual_seed(0)
    model = nb.SentenceCNN(torch.randn(20, 8, generator=g), n_filters=4, widths=(2, 3), dropout=0.0, pad_id=0)
    assert not model.embed.weight.requires_grad, "static word vectors"
    ids, y = nb.sentence_batch(list(zip(sentences, labels, strict=True)), pad_id=0, min_length=3)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    for _ in range(100):
        loss = F.cross_entropy(model(ids), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert (model(ids).argmax(-1) == y).float().mean() == 1.0


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
