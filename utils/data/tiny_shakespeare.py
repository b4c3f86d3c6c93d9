"""A long plain text for character-level models: Tiny Shakespeare (data folder or hub), any
text file by path, or offline gensim's Lee news corpus."""
from __future__ import annotations

from pathlib import Path

from utils.data import Source, expect_schema, load_hub_dataset, read_text, resolve

HUB_ID = "karpathy/tiny_shakespeare"


def _gensim_text(name: str) -> str:
    from gensim.test.utils import datapath

    return Path(datapath(name)).read_text(encoding="utf-8")


def shakespeare_from_hub(dataset=None) -> str:
    """The hub's Tiny Shakespeare (three splits of one row each) as one text, in reading order."""
    dataset = load_hub_dataset(HUB_ID) if dataset is None else dataset
    expect_schema(dataset, HUB_ID, ("train", "validation", "test"), ("text",))
    return "".join(row["text"] for split in ("train", "validation", "test") for row in dataset[split])


def load_text(path=None) -> tuple[str, Source]:
    """A long plain text for character-level models.

    Tiny Shakespeare (``text/tinyshakespeare.txt`` in the data folder, or the hub's
    karpathy/tiny_shakespeare), any text file by path, or offline gensim's Lee news corpus.
    """
    return resolve("text corpus", path=path,
                   local=("text/tinyshakespeare.txt", lambda file: read_text(file, "text corpus")),
                   hub=(HUB_ID, shakespeare_from_hub),
                   offline=("gensim's lee_background.cor (300 news articles, ~360 KB)",
                            lambda: _gensim_text("lee_background.cor")))


