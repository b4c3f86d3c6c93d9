"""Sentence polarity (positive / negative movie-review sentences), resolved like every data set.

``load_polarity`` returns ``({"train": [(text, label)], "test": [...]}, Source)`` with label 1 for
positive and 0 for negative, from the first source that works:

1. an explicit path: a folder holding ``rt-polarity.pos`` and ``rt-polarity.neg``, or one of them;
2. ``$COURSE_DATA_DIR/sentiment/rt-polarity.{pos,neg}`` (Pang & Lee's sentence polarity v1.0,
   5,331 sentences of each class), split here into train/test (``test_fraction``, by ``seed``);
3. the hub's ``cornell-movie-review-data/rotten_tomatoes`` (the same sentences, its own
   train/test split; the validation split is added to train), when online and not in smoke;
4. offline, with ``offline="uci"``, the *Sentiment Labelled Sentences* of Kotzias et al. (2015)
   that the course ships in ``data/sentiment/`` (CC BY 4.0; 1,000 review sentences each from
   Amazon, IMDb and Yelp, half positive), split here; with ``offline="gensim"`` (the default),
   gensim's ``pang_lee_polarity.cor``: 200 sentences of the rt-polarity data, 100 per class.
"""
from __future__ import annotations

import random
from pathlib import Path

from utils.data import (
    SHIPPED_DATA,
    DataUnavailable,
    HubSchemaChanged,
    expect_schema,
    load_hub_dataset,
    read_shipped,
    read_text,
    resolve,
)

HUB_ID = "cornell-movie-review-data/rotten_tomatoes"

# Shipped with the course (CC BY 4.0; data/README.md gives the attribution): the three files of
# UCI's "Sentiment Labelled Sentences", each 1,000 lines of ``sentence<TAB>label``, gzipped.
UCI_DIR = SHIPPED_DATA / "sentiment"
UCI_FILES = ("amazon_cells_labelled.txt.gz", "imdb_labelled.txt.gz", "yelp_labelled.txt.gz")


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


def read_uci_sentences(folder=None) -> list[tuple[str, int]]:
    """The shipped *Sentiment Labelled Sentences* (in ``UCI_DIR`` unless ``folder``) as
    ``(sentence, label)`` pairs, 1 = positive.

    A sentence that occurs more than once (a few short ones such as "Great phone!" do) is kept
    once, so that no test sentence is also a training sentence. A missing or damaged file stops
    with an error that says how to get it back.
    """
    restore = ("It is part of the course repository: restore it with `git checkout -- data/sentiment` "
               "(or clone the course again), or pass a folder with rt-polarity.pos/.neg as DATA_PATH.")
    folder = Path(UCI_DIR if folder is None else folder)
    pairs, seen = [], set()
    for name in UCI_FILES:
        path = folder / name
        lines = read_shipped(path, "sentence polarity", lambda p: read_text(p, "sentence polarity"),
                             restore).splitlines()
        for number, line in enumerate(lines, 1):
            text, tab, label = line.rpartition("\t")
            if not tab or label.strip() not in ("0", "1") or not text.strip():
                raise DataUnavailable(f"sentence polarity: {path}, line {number}: expected "
                                      f"'sentence<TAB>0 or 1', got {line[:60]!r}. {restore}")
            text = text.strip()
            if text not in seen:
                seen.add(text)
                pairs.append((text, int(label)))
        if len(lines) != 1000:
            raise DataUnavailable(f"sentence polarity: {path} has {len(lines)} lines, not 1,000. {restore}")
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


def load_polarity(path=None, seed: int = 0, test_fraction: float | None = None, offline: str = "gensim"):
    """Sentence polarity as ``({"train": [(text, label)], "test": [...]}, Source)``; 1 = positive.

    ``test_fraction`` (default 0.1 for the 10,662 sentences, 0.2 for the 3,000 shipped UCI ones,
    0.25 for gensim's 200) applies where the source has no split of its own. ``offline`` chooses
    the offline default: ``"uci"`` (the shipped Sentiment Labelled Sentences) or ``"gensim"``.
    """
    offline_defaults = {
        "uci": ("the Sentiment Labelled Sentences shipped in data/sentiment (Kotzias et al. 2015: "
                "reviews from Amazon, IMDb and Yelp, 3,000 sentences)",
                lambda: split_labelled(read_uci_sentences(), test_fraction or 0.2, seed)),
        "gensim": ("gensim's pang_lee_polarity.cor (200 sentences of the same data)",
                   lambda: split_labelled(read_gensim_polarity(), test_fraction or 0.25, seed))}
    if offline not in offline_defaults:
        raise ValueError(f"offline must be one of {sorted(offline_defaults)}, not {offline!r}")
    return resolve("sentence polarity", path=path,
                   local=("sentiment", lambda p: _from_folder(Path(p), test_fraction or 0.1, seed)),
                   hub=(HUB_ID, polarity_from_hub), offline=offline_defaults[offline])
