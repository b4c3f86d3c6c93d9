"""Plots the notebooks share: training curves, image grids, heatmaps, 2-D embeddings."""
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
