"""Handwritten digits: MNIST (28x28, from a folder of IDX files or the hub) and, offline,
scikit-learn's 1,797 digits (8x8)."""
from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils.data import DataUnavailable, HubSchemaChanged, Source, expect_schema, load_hub_dataset, resolve


@dataclass
class ImageSplits:
    """Images as float tensors in [0, 1], shape (N, 1, H, W), with integer labels."""

    train_images: "torch.Tensor"  # noqa: F821
    train_labels: "torch.Tensor"  # noqa: F821
    test_images: "torch.Tensor"  # noqa: F821
    test_labels: "torch.Tensor"  # noqa: F821
    name: str
    source: Source

    def __repr__(self):
        return (f"{self.name}: train {tuple(self.train_images.shape)}, test "
                f"{tuple(self.test_images.shape)}, from {self.source}")


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format, optionally gzipped) into a NumPy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        zero, dtype_code, ndim = struct.unpack(">HBB", f.read(4))
        if zero != 0 or dtype_code != 0x08:
            raise ValueError(f"{path} is not an unsigned-byte IDX file")
        shape = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def _split(images: np.ndarray, labels: np.ndarray, test_fraction: float, seed: int):
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(round(len(labels) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return images[train], labels[train], images[test], labels[test]


def _as_splits(name, source, train_x, train_y, test_x, test_y, scale):
    import torch

    def images(x):
        return torch.tensor(np.asarray(x, dtype=np.float32) / scale).unsqueeze(1)

    def labels(y):
        return torch.tensor(np.asarray(y, dtype=np.int64))

    return ImageSplits(images(train_x), labels(train_y), images(test_x), labels(test_y), name, source)


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> ImageSplits:
    """scikit-learn's 1,797 handwritten digits (8x8, 16 grey levels): always offline."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = bunch.images.astype(np.float32)
    print("[data] digits: offline default: scikit-learn load_digits (1,797 images, 8x8)")
    return _as_splits("digits", Source("offline", "sklearn.datasets.load_digits"),
                      *_split(images, bunch.target, test_fraction, seed), scale=16.0)


def _mnist_from_folder(folder: Path, seed: int):
    """MNIST IDX files in ``folder``, named as LeCun's originals, optionally prefixed ``mnist-``."""
    folder = Path(folder)

    def find(split, kind):
        for prefix in ("", "mnist-"):
            for suffix in (".gz", ""):
                candidate = folder / f"{prefix}{split}-{kind}-ubyte{suffix}"
                if candidate.exists():
                    return candidate
        return None

    files = {split: (find(split, "images-idx3"), find(split, "labels-idx1")) for split in ("train", "t10k")}
    if all(files["train"]) and all(files["t10k"]):
        tr, te = files["train"], files["t10k"]
        return read_idx(tr[0]), read_idx(tr[1]), read_idx(te[0]), read_idx(te[1])
    if all(files["t10k"]):
        print("[data] mnist: only the 10,000 test images are in this folder; using 80% of them "
              "to train and a disjoint 20% to test")
        return _split(read_idx(files["t10k"][0]), read_idx(files["t10k"][1]), 0.2, seed)
    raise DataUnavailable(f"No MNIST IDX files (t10k-images-idx3-ubyte.gz, ...) in {folder}.")


HUB_ID = "ylecun/mnist"


def mnist_from_hub(dataset=None):
    """The hub's MNIST (``dataset``: its DatasetDict, downloaded when None) as uint8 arrays
    ``(train images, train labels, test images, test labels)``, images (N, 28, 28)."""
    dataset = load_hub_dataset(HUB_ID) if dataset is None else dataset
    expect_schema(dataset, HUB_ID, ("train", "test"), ("image", "label"))

    def arrays(split):
        images = np.stack([np.asarray(img, dtype=np.uint8) for img in dataset[split]["image"]])
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise HubSchemaChanged(f"the hub's {HUB_ID} {split} images are {images.shape[1:]}, not 28x28 "
                                   "grey levels; use a local copy ($COURSE_DATA_DIR/images).")
        return images, np.asarray(dataset[split]["label"], dtype=np.int64)

    return (*arrays("train"), *arrays("test"))


def load_mnist(path=None, seed: int = 0) -> ImageSplits:
    """MNIST (28x28) from a path, the data folder or the hub; offline, scikit-learn's digits (8x8).

    A ``path`` that does not exist, or holds no MNIST files, is an error: the fallback to the
    digits is only for when no path was given.
    """
    try:
        arrays, source = resolve(
            "mnist", path=path,
            local=("images", lambda p: _mnist_from_folder(p, seed)),
            hub=(HUB_ID, mnist_from_hub))
    except DataUnavailable as reason:
        if path is not None:
            raise
        print(f"[data] mnist: {str(reason).splitlines()[0]}")
        return load_digits(seed=seed)
    return _as_splits("mnist", source, *arrays, scale=255.0)


