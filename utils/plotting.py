"""Plots the notebooks share: training curves, image grids, heatmaps, 2-D embeddings, attention head views."""
from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def smooth_curve(values, window: int = 20):
    """Moving average (shorter at the start) to see the trend of a noisy loss."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < 2:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(0, idx - window)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


def plot_history(history, keys=None, smooth: int = 20, ax=None):
    """Training loss (raw and smoothed) and evaluated figures against the step, side by side."""
    plt = _plt()
    keys = list(keys) if keys is not None else sorted(history.eval_keys())
    if ax is None:
        fig, axes = plt.subplots(1, 1 + bool(keys), figsize=(5.5 * (1 + bool(keys)), 3.5), squeeze=False)
        axes = axes[0]
    else:
        axes = [ax] if not keys else ax
    axes[0].plot(history.steps, history.loss, alpha=0.3, color="C0", label="loss per step")
    axes[0].plot(history.steps, smooth_curve(history.loss, smooth), color="C0", label=f"mean of {smooth}")
    axes[0].set(xlabel="step", ylabel="training loss", title="training loss")
    axes[0].legend()
    if keys:
        for i, key in enumerate(keys):
            steps, values = history.series(key)
            axes[1].plot(steps, values, "o-", color=f"C{i + 1}", label=key)
        axes[1].set(xlabel="step", title="evaluation")
        axes[1].legend()
    plt.tight_layout()
    return axes


def plot_curves(curves: dict, xlabel: str = "step", ylabel: str = "", title: str = "",
                logy: bool = False, ax=None):
    """Several named curves on one axis: ``{"name": ys}`` or ``{"name": (xs, ys)}``."""
    plt = _plt()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, curve in curves.items():
        xs, ys = curve if isinstance(curve, tuple) else (np.arange(len(curve)), curve)
        ax.plot(_numpy(xs), _numpy(ys), label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def show_images(images, labels=None, ncols: int = 8, cmap: str = "gray", size: float = 1.2,
                title: str | None = None):
    """A grid of images (N, H, W) or (N, 1, H, W) or (N, 3, H, W), with optional labels."""
    plt = _plt()
    images = _numpy(images)
    if images.ndim == 4 and images.shape[1] in (1, 3):
        images = images.transpose(0, 2, 3, 1)
        if images.shape[-1] == 1:
            images = images[..., 0]
    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    plt.tight_layout()
    return fig


def heatmap(matrix, xlabels=None, ylabels=None, ax=None, cmap: str = "viridis",
            title: str = "", xlabel: str = "", ylabel: str = "", colorbar: bool = True,
            annotate: bool = False):
    """A matrix as an image with labelled rows and columns (attention maps, confusion matrices)."""
    plt = _plt()
    matrix = _numpy(matrix)
    if ax is None:
        width, height = max(3, 0.35 * matrix.shape[1] + 1.5), max(2.5, 0.35 * matrix.shape[0] + 1)
        _, ax = plt.subplots(figsize=(width, height))
    im = ax.imshow(matrix, cmap=cmap, aspect="auto")
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), labels=list(xlabels), rotation=90, fontsize=8)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), labels=list(ylabels), fontsize=8)
    if annotate:
        for (i, j), v in np.ndenumerate(matrix):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7, color="w")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if colorbar:
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def scatter_2d(points, labels=None, ax=None, title: str = "", annotate: bool = True):
    """2-D points (e.g. a PCA or t-SNE of embeddings), each labelled with its word."""
    plt = _plt()
    points = _numpy(points)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(points[:, 0], points[:, 1], s=12)
    if annotate and labels is not None:
        for (x, y), label in zip(points, labels, strict=True):
            ax.annotate(str(label), (x, y), fontsize=8, xytext=(2, 2), textcoords="offset points")
    ax.set_title(title)
    return ax


def _head_colours(n_heads: int):
    """One colour per head index, the same whichever heads a figure shows."""
    plt = _plt()
    cmap = plt.get_cmap("tab10" if n_heads <= 10 else "tab20")
    return [cmap(h % cmap.N)[:3] for h in range(n_heads)]


def plot_head_view(weights, tokens, key_tokens=None, heads=None, query=None, ax=None, title: str = "",
                   min_weight: float = 0.01, linewidth: float = 3.0, atol: float = 1e-3,
                   query_label: str = "query", key_label: str = "key", head_labels=None):
    """Attention as lines between two columns of tokens (the head view of bertviz, drawn with matplotlib).

    ``weights``: one head's attention ``(L, S)`` or several heads' ``(H, L, S)``; row ``i`` holds the
    weights query token ``i`` gives the ``S`` key tokens (a softmax: each row sums to 1).
    ``tokens``: the ``L`` query tokens (left column); ``key_tokens``: the ``S`` key tokens (right
    column), by default ``tokens`` (self-attention). ``heads``: one head index to show alone, or a
    list of them to overlay (default: all), one colour per head. ``query``: a query position to
    highlight: only its lines are drawn and its token is marked. The line from query ``i`` to key
    ``j`` has opacity ``w`` and width ``linewidth * w`` for its weight ``w``; weights below
    ``min_weight`` are left out. The shorter column is spread over the height of the longer one.
    ``head_labels``: a name for each head index (default ``"head 0"``, ``"head 1"``, ...), for the
    legend. Returns the axes (one ``LineCollection`` per head drawn, labelled with its name).
    """
    plt = _plt()
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    weights = _numpy(weights).astype(float)
    tokens = [str(t) for t in tokens]
    key_tokens = tokens if key_tokens is None else [str(t) for t in key_tokens]
    if weights.ndim == 2:
        weights = weights[None]
    if weights.ndim != 3:
        raise ValueError(f"weights of shape {weights.shape}: pass one head's (L, S) matrix or several heads' "
                         "(H, L, S), e.g. attentions[layer][0] for the first example of a batch")
    n_heads, n_queries, n_keys = weights.shape
    if (n_queries, n_keys) != (len(tokens), len(key_tokens)):
        raise ValueError(f"weights of shape {weights.shape} do not match {len(tokens)} query tokens and "
                         f"{len(key_tokens)} key tokens: pass weights of shape (H, {len(tokens)}, "
                         f"{len(key_tokens)}) or ({len(tokens)}, {len(key_tokens)}), row i for tokens[i], "
                         "column j for key_tokens[j] (for cross-attention give key_tokens=...)")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights must be finite and non-negative: pass attention probabilities (after the "
                         "softmax), not scores")
    row_sums = weights.sum(-1)
    if not np.allclose(row_sums, 1.0, atol=atol):
        h, i = np.unravel_index(np.abs(row_sums - 1).argmax(), row_sums.shape)
        raise ValueError(f"row {i} of head {h} sums to {row_sums[h, i]:.4f}, not 1 (atol={atol}): pass "
                         "attention probabilities, each row a softmax over the keys (not scores, not "
                         "transposed, not averaged over queries)")
    shown = list(range(n_heads)) if heads is None else [heads] if np.isscalar(heads) else list(heads)
    if not shown or any(not 0 <= int(h) < n_heads for h in shown):
        raise ValueError(f"heads={heads!r}: the weights hold {n_heads} head(s), so pass indices "
                         f"0..{n_heads - 1}")
    if query is not None and not 0 <= query < n_queries:
        raise ValueError(f"query={query}: pass a query position 0..{n_queries - 1} (or None for all)")
    head_labels = ([f"head {h}" for h in range(n_heads)] if head_labels is None
                   else [str(name) for name in head_labels])
    if len(head_labels) != n_heads:
        raise ValueError(f"{len(head_labels)} head_labels for {n_heads} heads: pass one name per head")

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 0.28 * max(n_queries, n_keys) + 1.2))
    colours = _head_colours(n_heads)
    height = max(n_queries, n_keys) - 1
    query_y = -np.linspace(0, height, n_queries) if n_queries > 1 else np.zeros(1)
    key_y = -np.linspace(0, height, n_keys) if n_keys > 1 else np.zeros(1)
    rows = range(n_queries) if query is None else [query]
    for h in shown:
        h = int(h)
        segments, rgba, widths = [], [], []
        for i in rows:
            for j in range(n_keys):
                w = weights[h, i, j]
                if w >= min_weight:
                    segments.append([(0.0, query_y[i]), (1.0, key_y[j])])
                    rgba.append((*colours[h], min(w, 1.0)))
                    widths.append(linewidth * w)
        ax.add_collection(LineCollection(segments, colors=rgba, linewidths=widths, label=head_labels[h]))
    for i, token in enumerate(tokens):
        marked = i == query
        ax.text(-0.04, query_y[i], token, ha="right", va="center", fontsize=9,
                fontweight="bold" if marked else "normal",
                bbox=dict(boxstyle="round,pad=0.15", fc="#ffe680", ec="none") if marked else None)
    for j, token in enumerate(key_tokens):
        ax.text(1.04, key_y[j], token, ha="left", va="center", fontsize=9)
    ax.text(-0.04, 1, query_label, ha="right", va="center", fontsize=8, color="gray")
    ax.text(1.04, 1, key_label, ha="left", va="center", fontsize=8, color="gray")
    if len(shown) > 1:
        handles = [Line2D([], [], color=colours[int(h)], lw=2, label=head_labels[int(h)]) for h in shown]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(shown), 4),
                  fontsize=7, frameon=False)
    ax.set_xlim(-0.7, 1.7)
    ax.set_ylim(-height - 0.5, 1.6)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    return ax
