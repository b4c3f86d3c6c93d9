"""Multi30k task 1 (image captions, English-German), from a data folder or the hub. No offline
default: without one the notebooks skip their translation part and say so."""
from __future__ import annotations

from pathlib import Path

from utils.data import DataUnavailable, open_text, resolve


def _multi30k_from_folder(folder: Path, src: str, tgt: str) -> dict[str, list[tuple[str, str]]]:
    folder = Path(folder)
    splits = {"train": "train", "validation": "val", "test": "test_2016_flickr"}
    out = {}
    for split, stem in splits.items():
        with open_text(folder / f"multi30k.{stem}.{src}.gz") as fs, \
                open_text(folder / f"multi30k.{stem}.{tgt}.gz") as ft:
            src_lines, tgt_lines = fs.readlines(), ft.readlines()
        if len(src_lines) != len(tgt_lines):
            raise DataUnavailable(f"multi30k.{stem}.{src}.gz has {len(src_lines)} lines but "
                                  f"multi30k.{stem}.{tgt}.gz {len(tgt_lines)}: the two sides must be "
                                  f"parallel, line by line. Replace the files in {folder}.")
        out[split] = [(a.strip(), b.strip()) for a, b in zip(src_lines, tgt_lines, strict=True)
                      if a.strip() and b.strip()]
    return out


def load_multi30k(src: str = "en", tgt: str = "de", path=None):
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

    return resolve(f"multi30k {src}-{tgt}", path=path,
                   local=("translation", lambda p: _multi30k_from_folder(p, src, tgt)),
                   hub=("bentrevett/multi30k", from_hub))


