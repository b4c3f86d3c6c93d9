"""Multi30k task 1 (image captions, English-German), from a data folder or the hub. No offline
default: without one the notebooks skip their translation part and say so."""
from __future__ import annotations

from pathlib import Path

from utils.data import DataUnavailable, expect_schema, load_hub_dataset, open_text, resolve

HUB_ID = "bentrevett/multi30k"


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


def multi30k_from_hub(src: str = "en", tgt: str = "de", dataset=None) -> dict[str, list[tuple[str, str]]]:
    """The hub's copy of Multi30k (English and German only) as pairs per split."""
    if {src, tgt} != {"en", "de"}:
        raise DataUnavailable(f"the hub copy {HUB_ID} has English and German only; for {src}-{tgt} use a "
                              "local copy ($COURSE_DATA_DIR/translation)")
    dataset = load_hub_dataset(HUB_ID) if dataset is None else dataset
    expect_schema(dataset, HUB_ID, ("train", "validation", "test"), (src, tgt))
    return {split: [(r[src], r[tgt]) for r in dataset[split]] for split in ("train", "validation", "test")}


def load_multi30k(src: str = "en", tgt: str = "de", path=None):
    """Multi30k task 1 as ``{"train"|"validation"|"test": [(source, target), ...]}``.

    There is no offline default: without a path, data folder or network this raises
    ``DataUnavailable`` and the notebook skips its translation part (and says so).
    """
    return resolve(f"multi30k {src}-{tgt}", path=path,
                   local=("translation", lambda p: _multi30k_from_folder(p, src, tgt)),
                   hub=(HUB_ID, lambda: multi30k_from_hub(src, tgt)))


