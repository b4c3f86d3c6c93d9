"""Data sets and their sources.

Every loader resolves its source in the same order and says which one it used and why:

1. an explicit local path (the ``path`` argument, e.g. a parameter of the notebook);
2. the data folder named by ``$COURSE_DATA_DIR`` (same layout as ``data/README.md`` describes);
3. the Hugging Face hub, when online (and not in the ``smoke`` profile, which stays offline);
4. the embedded offline default: something a pip package ships, or data the course generates.

Nothing falls back silently: each step that is skipped or fails is printed.
"""
from __future__ import annotations

import gzip
import json
import os
import random
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

DATA_DIR_VARIABLE = "COURSE_DATA_DIR"


class DataUnavailable(RuntimeError):
    """No source could provide the data; the message says what to do."""


@dataclass
class Source:
    kind: str   # "path" | "data_dir" | "hub" | "offline"
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def data_dir() -> Path | None:
    value = os.environ.get(DATA_DIR_VARIABLE)
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise DataUnavailable(f"{DATA_DIR_VARIABLE}={value} is not a folder. Point it at a data "
                              "folder laid out as data/README.md describes, or unset it.")
    return folder


def online() -> bool:
    from utils.environment import is_online

    return is_online()


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def resolve(name: str, *, path=None, local: tuple[str, Callable] | None = None,
            hub: tuple[str, Callable] | None = None, offline: tuple[str, Callable] | None = None,
            profile: str | None = None):
    """Load ``name`` from the first source that works; return ``(data, Source)``.

    ``local`` is ``(relative path inside the data folder, loader(Path))``; ``hub`` is
    ``(hub id, loader())``; ``offline`` is ``(description, loader())``. An explicit ``path`` is
    read with the ``local`` loader.
    """
    def say(message):
        print(f"[data] {name}: {message}")

    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise DataUnavailable(f"{name}: the path {p} does not exist. Fix the path parameter, "
                                  "or set it to None to use the default sources.")
        say(f"explicit path {p}")
        return local[1](p), Source("path", str(p))
    folder = data_dir()
    if local is not None and folder is not None:
        candidate = folder / local[0]
        if candidate.exists():
            say(f"data folder {candidate} (from ${DATA_DIR_VARIABLE})")
            return local[1](candidate), Source("data_dir", str(candidate))
        say(f"not in the data folder ({candidate} is missing)")
    if hub is not None:
        if profile == "smoke":
            say("hub skipped (the smoke profile uses offline data only)")
        elif not online():
            say(f"hub {hub[0]} skipped (offline)")
        else:
            try:
                data = hub[1]()
                say(f"hub {hub[0]}")
                return data, Source("hub", hub[0])
            except Exception as exc:  # report, then try the offline default
                say(f"hub {hub[0]} failed ({type(exc).__name__}: {exc})")
    if offline is not None:
        say(f"offline default: {offline[0]}")
        return offline[1](), Source("offline", offline[0])
    raise DataUnavailable(
        f"{name}: no source available. Pass a local path, set ${DATA_DIR_VARIABLE} to a folder "
        f"holding {local[0] if local else 'the files'}, or connect to the internet for the hub"
        + (f" ({hub[0]})" if hub else "") + ".")


# ----------------------------------------------------------------------------- images
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


def _mnist_from_hub():
    from datasets import load_dataset

    ds = load_dataset("ylecun/mnist")

    def arrays(split):
        return (np.stack([np.asarray(img, dtype=np.uint8) for img in ds[split]["image"]]),
                np.asarray(ds[split]["label"]))

    return (*arrays("train"), *arrays("test"))


def load_digit_images(path=None, profile: str | None = None, seed: int = 0) -> ImageSplits:
    """MNIST (28x28) from a path, the data folder or the hub; offline, scikit-learn's digits (8x8)."""
    try:
        arrays, source = resolve(
            "mnist", path=path, profile=profile,
            local=("images", lambda p: _mnist_from_folder(p, seed)),
            hub=("ylecun/mnist", _mnist_from_hub))
    except DataUnavailable as reason:
        print(f"[data] mnist: {str(reason).splitlines()[0]}")
        return load_digits(seed=seed)
    return _as_splits("mnist", source, *arrays, scale=255.0)


# ----------------------------------------------------------------------------- text
def _gensim_text(name: str) -> str:
    from gensim.test.utils import datapath

    return Path(datapath(name)).read_text(encoding="utf-8")


def load_text(path=None, profile: str | None = None) -> tuple[str, Source]:
    """A long plain text for character-level models.

    Tiny Shakespeare (``text/tinyshakespeare.txt`` in the data folder, or the hub's
    karpathy/tiny_shakespeare), any text file by path, or offline gensim's Lee news corpus.
    """
    def from_hub():
        from datasets import load_dataset

        ds = load_dataset("karpathy/tiny_shakespeare")
        return "".join(ds[split][0]["text"] for split in ("train", "validation", "test"))

    return resolve("text corpus", path=path, profile=profile,
                   local=("text/tinyshakespeare.txt", lambda p: _open_text(p).read()),
                   hub=("karpathy/tiny_shakespeare", from_hub),
                   offline=("gensim's lee_background.cor (300 news articles, ~360 KB)",
                            lambda: _gensim_text("lee_background.cor")))


# ----------------------------------------------------------------------------- translation
def _multi30k_from_folder(folder: Path, src: str, tgt: str) -> dict[str, list[tuple[str, str]]]:
    folder = Path(folder)
    splits = {"train": "train", "validation": "val", "test": "test_2016_flickr"}
    out = {}
    for split, stem in splits.items():
        with _open_text(folder / f"multi30k.{stem}.{src}.gz") as fs, \
                _open_text(folder / f"multi30k.{stem}.{tgt}.gz") as ft:
            src_lines, tgt_lines = fs.readlines(), ft.readlines()
        if len(src_lines) != len(tgt_lines):
            raise DataUnavailable(f"multi30k.{stem}.{src}.gz has {len(src_lines)} lines but "
                                  f"multi30k.{stem}.{tgt}.gz {len(tgt_lines)}: the two sides must be "
                                  f"parallel, line by line. Replace the files in {folder}.")
        out[split] = [(a.strip(), b.strip()) for a, b in zip(src_lines, tgt_lines, strict=True)
                      if a.strip() and b.strip()]
    return out


def load_multi30k(src: str = "en", tgt: str = "de", path=None, profile: str | None = None):
    """Multi30k task 1 as ``{"train"|"validation"|"test": [(source, target), ...]}``.

    There is no offline default: without a path, data folder or network this raises
    ``DataUnavailable`` and the notebook skips its translation part (and says so).
    """
    def from_hub():
        from datasets import load_dataset

        if {src, tgt} != {"en", "de"}:
            raise DataUnavailable("the hub copy bentrevett/multi30k has English and German only")
        ds = load_dataset("bentrevett/multi30k")
        return {split: [(r[src], r[tgt]) for r in ds[split]] for split in ("train", "validation", "test")}

    return resolve(f"multi30k {src}-{tgt}", path=path, profile=profile,
                   local=("translation", lambda p: _multi30k_from_folder(p, src, tgt)),
                   hub=("bentrevett/multi30k", from_hub))


# ----------------------------------------------------------------------------- SQuAD
def read_squad_file(path: Path) -> list[dict]:
    """Read SQuAD-format questions into flat records
    ``{id, title, context, question, answers: {text: [...], answer_start: [...]}}``.

    Takes the official nested JSON (``{"data": [{"title", "paragraphs": [...]}]}``) or JSON
    lines in the hub's flat schema, optionally gzipped.
    """
    path = Path(path)
    with _open_text(path) as f:
        text = f.read()
    if text.lstrip().startswith("{") and '"data"' in text[:2000] and '"paragraphs"' in text:
        records = []
        for article in json.loads(text)["data"]:
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    records.append({
                        "id": qa["id"], "title": article.get("title", ""), "context": para["context"],
                        "question": qa["question"],
                        "answers": {"text": [a["text"] for a in qa["answers"]],
                                    "answer_start": [a["answer_start"] for a in qa["answers"]]}})
        return records
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    for r in records:
        missing = {"id", "context", "question", "answers"} - set(r)
        if missing:
            raise ValueError(f"{path}: a record lacks {sorted(missing)}; expected SQuAD fields")
        r.setdefault("title", "")
    return records


def split_by_article(records: list[dict], validation_fraction: float = 0.25, seed: int = 0):
    """Split questions into train/validation so that no article appears in both."""
    titles = sorted({r["title"] for r in records})
    random.Random(seed).shuffle(titles)
    n_val = max(1, int(round(len(titles) * validation_fraction)))
    val_titles = set(titles[:n_val])
    return ([r for r in records if r["title"] not in val_titles],
            [r for r in records if r["title"] in val_titles])


def load_squad(path=None, profile: str | None = None, seed: int = 0,
               validation_fraction: float = 0.25, n_generated: int = 2000):
    """SQuAD v1.1 as ``({"train": [...], "validation": [...]}, Source)`` of flat records.

    Hub ``rajpurkar/squad`` online; a local file by path or in the data folder
    (``squad/squad-v1.1-dev-38articles.jsonl.gz``), split by article; offline a generated
    SQuAD-format set (``utils.generated.templated_squad``).
    """
    def local(p):
        train, validation = split_by_article(read_squad_file(p), validation_fraction, seed)
        return {"train": train, "validation": validation}

    def from_hub():
        from datasets import load_dataset

        ds = load_dataset("rajpurkar/squad")
        return {split: [dict(r) for r in ds[split]] for split in ("train", "validation")}

    def generated():
        from utils.generated import templated_squad

        return {"train": templated_squad(n_generated, seed=seed),
                "validation": templated_squad(max(50, n_generated // 5), seed=seed + 1)}

    return resolve("squad", path=path, profile=profile,
                   local=("squad/squad-v1.1-dev-38articles.jsonl.gz", local),
                   hub=("rajpurkar/squad", from_hub),
                   offline=("generated SQuAD-format questions (utils.generated.templated_squad)", generated))
