"""A long plain text for character-level models: Tiny Shakespeare (data folder or hub), any
text file by path, or offline gensim's Lee news corpus."""
from __future__ import annotations

from pathlib import Path

from utils.data import Source, read_text, resolve


def _gensim_text(name: str) -> str:
    from gensim.test.utils import datapath

    return Path(datapath(name)).read_text(encoding="utf-8")


def load_text(path=None) -> tuple[str, Source]:
    """A long plain text for character-level models.

    Tiny Shakespeare (``text/tinyshakespeare.txt`` in the data folder, or the hub's
    karpathy/tiny_shakespeare), any text file by path, or offline gensim's Lee news corpus.
    """
    def from_hub():
        from datasets import load_dataset

        ds = load_dataset("karpathy/tiny_shakespeare")
        return "".join(ds[split][0]["text"] for split in ("train", "validation", "test"))

    return resolve("text corpus", path=path,
                   local=("text/tinyshakespeare.txt", lambda file: read_text(file, "text corpus")),
                   hub=("karpathy/tiny_shakespeare", from_hub),
                   offline=("gensim's lee_background.cor (300 news articles, ~360 KB)",
                            lambda: _gensim_text("lee_background.cor")))


