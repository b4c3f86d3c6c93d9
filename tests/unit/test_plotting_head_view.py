"""utils.plotting.plot_head_view: one line per (head, query, key) weight, its opacity and width the
weight, one colour per head; one head alone, several overlaid, one query highlighted; clear errors
for weights that do not fit the tokens or are not softmax rows."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from utils.plotting import plot_head_view  # noqa: E402

QUERIES = ["<bos>", "1", "9", "9"]
KEYS = ["3", " ", "M", "a", "r", " ", "1998"]


def softmax_rows(shape, seed=0):
    logits = np.random.default_rng(seed).normal(scale=2.0, size=shape)
    weights = np.exp(logits)
    return weights / weights.sum(-1, keepdims=True)


def drawn(ax):
    """(segments, rgba, widths, label) of each LineCollection, in drawing order."""
    return [(np.asarray(c.get_segments()), np.asarray(c.get_colors()), np.asarray(c.get_linewidths()), c.get_label())
            for c in ax.collections]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_one_line_per_weight_above_the_threshold_with_the_weight_as_its_opacity_and_width():
    weights = softmax_rows((len(QUERIES), len(KEYS)))
    weights[1] = 0.0
    weights[1, 6] = 1.0                               # query 1 looks only at "1998"
    ax = plot_head_view(weights, QUERIES, KEYS, min_weight=0.01, linewidth=3.0)
    ((segments, rgba, widths, label),) = drawn(ax)
    kept = weights >= 0.01
    assert len(segments) == kept.sum() and label == "head 0"
    assert np.allclose(rgba[:, 3], weights[kept]), "opacity = weight, row by row"
    assert np.allclose(widths, 3.0 * weights[kept])
    query_rows, key_rows = np.nonzero(kept)
    query_y = -query_rows * 6 / 3                     # 4 queries spread over the height of 7 keys
    assert np.allclose(segments[:, 0], np.c_[np.zeros(len(query_rows)), query_y]), "from query i on the left"
    assert np.allclose(segments[:, 1], np.c_[np.ones(len(key_rows)), -key_rows]), "to key j on the right"
    assert sum(1 for s in segments if s[0, 1] == -2) == 1, "a one-hot row draws one line"
    texts = [t.get_text() for t in ax.texts]
    assert all(t in texts for t in QUERIES + KEYS)


def test_several_heads_overlaid_each_in_its_own_colour_and_one_head_alone():
    weights = torch.tensor(softmax_rows((3, 4, 4), seed=1))     # tensors are accepted too
    ax = plot_head_view(weights, QUERIES, min_weight=0.0)
    layers = drawn(ax)
    assert [label for *_, label in layers] == ["head 0", "head 1", "head 2"]
    colours = [tuple(np.round(rgba[0, :3], 6)) for _, rgba, _, _ in layers]
    assert len(set(colours)) == 3, "one colour per head"
    for h, (segments, rgba, _, _) in enumerate(layers):
        assert len(segments) == 16 and np.allclose(rgba[:, 3], weights[h].numpy().ravel())
    assert ax.get_legend() is not None and len(ax.get_legend().get_texts()) == 3

    _, alone = plt.subplots()
    ((segments, rgba, _, label),) = drawn(plot_head_view(weights, QUERIES, heads=2, min_weight=0.0, ax=alone))
    assert label == "head 2" and np.allclose(rgba[:, :3], colours[2]), "a head keeps its colour when shown alone"
    assert np.allclose(rgba[:, 3], weights[2].numpy().ravel())
    _, two = plt.subplots()
    assert [label for *_, label in drawn(plot_head_view(weights, QUERIES, heads=[2, 0], ax=two))] == ["head 2", "head 0"]
    _, named = plt.subplots()
    ax = plot_head_view(weights, QUERIES, heads=[0, 2], head_labels=["head 1", "head 2", "head 3"], ax=named)
    assert [label for *_, label in drawn(ax)] == ["head 1", "head 3"], "heads counted from 1, as a notebook may"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["head 1", "head 3"]


def test_a_highlighted_query_draws_only_its_own_lines():
    weights = softmax_rows((2, 4, 7), seed=2)
    ax = plot_head_view(weights, QUERIES, KEYS, query=2, min_weight=0.0)
    for h, (segments, rgba, _, _) in enumerate(drawn(ax)):
        assert len(segments) == 7 and (segments[:, 0, 1] == -4).all()
        assert np.allclose(rgba[:, 3], weights[h, 2])
    marked = [t for t in ax.texts if t.get_text() == QUERIES[2] and t.get_bbox_patch() is not None]
    assert len(marked) == 1 and marked[0].get_fontweight() == "bold"


def test_weights_that_do_not_match_the_tokens_are_refused_with_the_shape_to_pass():
    weights = softmax_rows((4, 7))
    with pytest.raises(ValueError, match=r"do not match 4 query tokens and 4 key tokens.*\(H, 4, 4\).*key_tokens="):
        plot_head_view(weights, QUERIES)                              # cross-attention without its key tokens
    with pytest.raises(ValueError, match=r"\(H, 4, 7\)"):
        plot_head_view(weights.T, QUERIES, KEYS)                      # transposed
    with pytest.raises(ValueError, match=r"\(L, S\).*\(H, L, S\)"):
        plot_head_view(weights[None, None], QUERIES, KEYS)            # a batch and layers left in


def test_rows_must_be_softmax_rows_within_the_tolerance():
    weights = softmax_rows((2, 4, 7))
    plot_head_view(weights + 5e-4 / 7, QUERIES, KEYS)                 # within atol=1e-3: drawn
    scores = weights.copy()
    scores[1, 3] *= 1.1
    with pytest.raises(ValueError, match=r"row 3 of head 1 sums to 1\.1000, not 1"):
        plot_head_view(scores, QUERIES, KEYS)
    plot_head_view(scores, QUERIES, KEYS, atol=0.2)                   # a looser tolerance is the caller's choice
    with pytest.raises(ValueError, match="sums to"):                 # keys as rows
        plot_head_view(softmax_rows((2, 4, 4), seed=3).transpose(0, 2, 1), QUERIES)
    negative = weights.copy()
    negative[0, 0, :2] = [-0.5, negative[0, 0, 0] + negative[0, 0, 1] + 0.5]
    with pytest.raises(ValueError, match="non-negative"):
        plot_head_view(negative, QUERIES, KEYS)


def test_heads_and_query_out_of_range_are_refused():
    weights = softmax_rows((3, 4, 4))
    with pytest.raises(ValueError, match=r"3 head\(s\).*0\.\.2"):
        plot_head_view(weights, QUERIES, heads=3)
    with pytest.raises(ValueError, match=r"0\.\.2"):
        plot_head_view(weights, QUERIES, heads=[])
    with pytest.raises(ValueError, match=r"query position 0\.\.3"):
        plot_head_view(weights, QUERIES, query=4)
    with pytest.raises(ValueError, match="one name per head"):
        plot_head_view(weights, QUERIES, head_labels=["a", "b"])
