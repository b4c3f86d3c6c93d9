"""Sentence polarity (positive / negative movie-review sentences), resolved like every data set.

``load_polarity`` returns ``({"train": [(text, label)], "test": [...]}, Source)`` with label 1 for
positive and 0 for negative, from the first source that works:

1. an explicit path: a folder holding ``rt-polarity.pos`` and ``rt-polarity.neg``, or one of them;
2. ``$COURSE_DATA_DIR/sentiment/rt-polarity.{pos,neg}`` (Pang & Lee's sentence polarity v1.0,
   5,331 sentences of each class), split here into train/test (``test_fraction``, by ``seed``);
3. the hub's ``cornell-movie-review-data/rotten_tomatoes`` (the same sentences, its own
   train/test split; the validation split is added to train), when online and not in smoke;
4. offline, gensim's ``pang_lee_polarity.cor``: 200 sentences of the same data, 100 per class.
"""
from __future__ import annotations

import random
from pathlib import Path

from utils.data import DataUnavailable, HubSchemaChanged, expect_schema, load_hub_dataset, resolve

HUB_ID = "cornell-movie-review-data/rotten_tomatoes"


def _read_lines(path: Path) -> list[str]:
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # the original distribution is latin-1
        text = raw.decode("latin-1")
    return [line.strip() for line in text.splitlines() if line.strip()]


def split_labelled(pairs: list[tuple[str, int]], test_fraction: float, seed: int) -> dict:
    """Shuffle each class with ``seed`` and hold out ``test_fraction`` of it: a stratified split."""
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted({y for _, y in pairs}):
        members = [p for p in pairs if p[1] == label]
        rng.shuffle(members)
        n_test = int(round(len(members) * test_fraction))
        test += members[:n_test]
        train += members[n_test:]
    rng.shuffle(train)
    rng.shuffle(test)
    return {"train": train, "test": test}


def _from_folder(path: Path, test_fraction: float, seed: int) -> dict:
    folder = path if path.is_dir() else path.parent
    files = {1: folder / "rt-polarity.pos", 0: folder / "rt-polarity.neg"}
    missing = [str(f) for f in files.values() if not f.exists()]
    if missing:
        raise DataUnavailable(f"sentence polarity: {', '.join(missing)} missing. Point the path at a "
                              "folder holding rt-polarity.pos and rt-polarity.neg.")
    pairs = [(text, label) for label, f in files.items() for text in _read_lines(f)]
    return split_labelled(pairs, test_fraction, seed)


def read_gensim_polarity(path=None) -> list[tuple[str, int]]:
    """gensim's ``pang_lee_polarity.cor``: one ``__label__pos|__label__neg sentence`` per line."""
    if path is None:
        from gensim.test.utils import datapath

        path = datapath("pang_lee_polarity.cor")
    pairs = []
    for line in _read_lines(Path(path)):
        tag, _, text = line.partition(" ")
        if tag not in ("__label__pos", "__label__neg"):
            raise ValueError(f"{path}: unexpected label {tag!r}")
        pairs.append((text.strip(), int(tag == "__label__pos")))
    return pairs


def polarity_from_hub(dataset=None) -> dict:
    """The hub's rotten_tomatoes (the same sentences, its own splits; validation joins train)."""
    dataset = load_hub_dataset(HUB_ID) if dataset is None else dataset
    expect_schema(dataset, HUB_ID, ("train", "validation", "test"), ("text", "label"))
    names = getattr(dataset["train"].features["label"], "names", None)
    if names is not None and list(names) != ["neg", "pos"]:
        raise HubSchemaChanged(f"the hub's {HUB_ID} labels are {names}, not ['neg', 'pos']; use a local copy "
                               "($COURSE_DATA_DIR/sentiment).")

    def rows(split):
        return [(r["text"], int(r["label"])) for r in dataset[split]]

    return {"train": rows("train") + rows("validation"), "test": rows("test")}


def load_polarity(path=None, seed: int = 0, test_fraction: float | None = None):
    """Sentence polarity as ``({"train": [(text, label)], "test": [...]}, Source)``; 1 = positive.

    ``test_fraction`` (default 0.1 for the 10,662 sentences, 0.25 for gensim's 200) applies where
    the source has no split of its own.
    """
    return resolve("sentence polarity", path=path,
                   local=("sentiment", lambda p: _from_folder(Path(p), test_fraction or 0.1, seed)),
                   hub=(HUB_ID, polarity_from_hub),
                   offline=("gensim's pang_lee_polarity.cor (200 sentences of the same data)",
                            lambda: split_labelled(read_gensim_polarity(), test_fraction or 0.25, seed)))
