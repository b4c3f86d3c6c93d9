"""Data sets and pretrained models: one loader per data set (one module each), one source chain.

Every loader resolves its source with :func:`resolve`, in the same order, and says which one it
used and why:

1. an explicit local path (the ``path`` argument, e.g. a parameter of the notebook);
2. the data folder named by ``$COURSE_DATA_DIR`` (laid out as ``data/README.md`` describes;
   pretrained models under ``models/<hub id with "/" as "--">``);
3. the Hugging Face hub, when online (the setup cell decides once; the smoke profile is offline);
4. the embedded offline default: something a pip package ships, or data the course generates.

Nothing falls back silently: each step that is skipped or fails is printed, and an explicit
path that does not exist stops with an error.

The loaders: ``mnist`` (MNIST, scikit-learn's digits), ``tiny_shakespeare`` (a long text for
character models), ``multi30k`` (translation), ``squad`` (SQuAD v1.1), ``word_corpus``
(word2vec's corpora and evaluation sets), ``polarity`` (sentence sentiment), ``pretrained``
(hub models), and ``generated`` (the tasks the course makes itself).
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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


def open_text(path: Path):
    """Open a UTF-8 text file for reading, gzipped when its name ends in ``.gz``."""
    path = Path(path)
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


# Data the course ships in its own data/ folder (licences and attribution: data/README.md)
SHIPPED_DATA = Path(__file__).resolve().parents[2] / "data"


def read_shipped(path: Path, what: str, reader, restore: str):
    """``reader(path)`` for a file the course ships; a missing or damaged one stops with an error
    that ends with ``restore`` (how to get it back)."""
    path = Path(path)
    if not path.is_file():
        raise DataUnavailable(f"{what}: the shipped file {path} is missing. {restore}")
    try:
        return reader(path)
    except DataUnavailable as exc:
        raise DataUnavailable(f"{what}: the shipped file is damaged ({exc}). {restore}") from None


def read_text(path: Path, what: str = "text") -> str:
    """The whole of a UTF-8 text file (gzipped if ``.gz``), or an error that says what is wrong
    with it: missing, a folder, not text, not UTF-8, or empty."""
    path = Path(path)
    if path.is_dir():
        raise DataUnavailable(f"{what}: {path} is a folder; pass the path of a file.")
    if not path.exists():
        raise DataUnavailable(f"{what}: there is no file {path}. Fix the path.")
    try:
        with open_text(path) as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        raise DataUnavailable(f"{what}: {path} is not UTF-8 text (byte {exc.start} cannot be decoded): "
                              "is it a binary file? Convert it to UTF-8 or pass another file.") from None
    except (OSError, EOFError) as exc:                   # e.g. a .gz file that is not gzip
        raise DataUnavailable(f"{what}: cannot read {path} ({type(exc).__name__}: {exc}).") from None
    if not text.strip():
        raise DataUnavailable(f"{what}: {path} is empty. Pass a file with some text in it.")
    return text


def resolve(name: str, *, path=None, local: tuple[str, Callable] | None = None,
            hub: tuple[str, Callable] | None = None, offline: tuple[str, Callable] | None = None,
            unavailable: type[DataUnavailable] = DataUnavailable):
    """Load ``name`` from the first source that works; return ``(data, Source)``.

    ``local`` is ``(relative path inside the data folder, loader(Path))``; ``hub`` is
    ``(hub id, loader())``; ``offline`` is ``(description, loader())``. An explicit ``path`` is
    read with the ``local`` loader. ``unavailable`` is the error raised when nothing works.
    """
    from utils.environment import is_online

    def say(message):
        print(f"[data] {name}: {message}")

    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise unavailable(f"{name}: the path {p} does not exist. Fix the path parameter, "
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
        if not is_online():
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
    raise unavailable(
        f"{name}: no source available. Pass a local path, set ${DATA_DIR_VARIABLE} to a folder "
        f"holding {local[0] if local else 'the files'}, or connect to the internet for the hub"
        + (f" ({hub[0]})" if hub else "") + ".")


# ----------------------------------------------------------------------------- the hub
class HubSchemaChanged(DataUnavailable):
    """A hub data set no longer has the splits or columns the course reads."""


def load_hub_dataset(hub_id: str, *args, **kwargs):
    """``datasets.load_dataset(hub_id, ...)`` (downloads show a progress bar and are cached in the
    Hugging Face cache). A data set that still ships a loading script, which datasets 4 and later
    refuse to run, is read from the hub's Parquet conversion (``refs/convert/parquet``) instead."""
    from datasets import load_dataset

    try:
        return load_dataset(hub_id, *args, **kwargs)
    except RuntimeError as exc:
        if "scripts are no longer supported" not in str(exc) or "revision" in kwargs:
            raise
        print(f"[data] {hub_id}: its loading script is not supported by this datasets version; "
              "reading the hub's Parquet conversion (refs/convert/parquet)")
        return load_dataset(hub_id, *args, revision="refs/convert/parquet", **kwargs)


def expect_schema(dataset, hub_id: str, splits, columns) -> None:
    """Raise ``HubSchemaChanged`` unless ``dataset`` (a DatasetDict) has these splits, each with
    these columns: the code after the download relies on them."""
    found_splits = set(dataset.keys())
    missing_splits = set(splits) - found_splits
    problems = []
    if missing_splits:
        problems.append(f"splits {sorted(missing_splits)} are missing (found {sorted(found_splits)})")
    for split in sorted(set(splits) & found_splits):
        missing = set(columns) - set(dataset[split].column_names)
        if missing:
            problems.append(f"split {split!r} lacks the columns {sorted(missing)} "
                            f"(it has {dataset[split].column_names})")
    if problems:
        raise HubSchemaChanged(f"the hub's {hub_id} has changed: {'; '.join(problems)}. The course's loader "
                               "needs updating; until then use a local copy ($COURSE_DATA_DIR, see "
                               "data/README.md).")
