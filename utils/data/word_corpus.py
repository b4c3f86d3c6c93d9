"""Word corpora for word embeddings (notebook 06): lists of tokenised "sentences".

``load_word2vec_corpus`` resolves its source like every course loader (``utils.data.resolve``):

1. an explicit path: any plain-text file (``.txt``, ``.gz``, ``.bz2``, or ``text8.zip``);
2. the data folder ``$COURSE_DATA_DIR``: ``text/text8`` (or ``text/text8.zip``), the classic
   first 100 MB of English Wikipedia, cleaned to lower-case words;
3. the hub when online: WikiText-103 (``Salesforce/wikitext``, raw), streamed up to
   ``max_tokens`` words;
4. offline, a corpus that gensim ships: the shortened English Wikipedia dump (106 articles,
   ~450k words; parsed once, ~10 s, then cached under ``data/cache/``) or, for quick runs, the
   Lee news corpus (300 articles, ~60k words).

Every source is tokenised the same way (lower case, alphabetic words of 2-15 letters, as
gensim's Wikipedia parser does) and cut into pieces of at most ``chunk`` words, because
gensim's word2vec ignores words past 10,000 in one sentence.
"""
from __future__ import annotations

import bz2
import gzip
import io
import os
import zipfile
from pathlib import Path

from utils.data import DataUnavailable, Source, resolve

ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = ROOT / "data" / "cache" / "word2vec"
WIKI_DUMP = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEE = "lee_background.cor"
HUB_ID = "Salesforce/wikitext"
HUB_CONFIG = "wikitext-103-raw-v1"
OFFLINE_CHOICES = ("wiki", "lee")
ARTICLE_MIN_WORDS = 50  # gensim's WikiCorpus drops redirects and stubs shorter than this
_CACHE_VERSION = "v1"


def tokenize(text: str) -> list[str]:
    """Lower-case alphabetic words of 2-15 letters (gensim's Wikipedia tokeniser)."""
    from gensim.corpora.wikicorpus import tokenize as wiki_tokenize

    return wiki_tokenize(text)


def chunked(tokens: list[str], chunk: int) -> list[list[str]]:
    """Cut one long token list into pieces of at most ``chunk`` words (the last may be shorter)."""
    if chunk < 1:
        raise ValueError(f"chunk must be a positive number of words, got {chunk}")
    return [tokens[i:i + chunk] for i in range(0, len(tokens), chunk)]


def truncate(sentences: list[list[str]], max_tokens: int | None) -> list[list[str]]:
    """The first ``max_tokens`` words of a corpus (all of it for ``None``)."""
    if max_tokens is None:
        return sentences
    out, total = [], 0
    for s in sentences:
        if total >= max_tokens:
            break
        s = s[: max_tokens - total]
        out.append(s)
        total += len(s)
    return out


def count_tokens(sentences) -> int:
    return sum(len(s) for s in sentences)


# ----------------------------------------------------------------------------- readers
def _open_any(path: Path):
    """Open a text file that may be gzip, bz2 or a zip holding one file (text8.zip)."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="ignore")
    if path.suffix == ".bz2":
        return bz2.open(path, "rt", encoding="utf-8", errors="ignore")
    if path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise DataUnavailable(f"{path} holds {len(names)} files; expected one text file (as text8.zip).")
        return io.TextIOWrapper(archive.open(names[0]), encoding="utf-8", errors="ignore")
    return open(path, encoding="utf-8", errors="ignore")


def read_text_file(path, chunk: int = 1000, max_tokens: int | None = None,
                   block_chars: int = 1 << 20) -> list[list[str]]:
    """Tokenise a plain-text file into pieces of at most ``chunk`` words.

    Reads in blocks, so a single-line file such as text8 (100 MB, no newlines) works too.
    """
    path = Path(path)
    if path.is_dir():
        raise DataUnavailable(f"{path} is a folder; pass a plain-text file (e.g. text8 or a .txt).")
    sentences, carry, total = [], "", 0
    with _open_any(path) as f:
        while max_tokens is None or total < max_tokens:
            block = f.read(block_chars)
            text = carry + block
            if block:  # keep a possibly cut last word for the next block
                cut = max(text.rfind(" "), text.rfind("\n"))
                text, carry = (text[:cut], text[cut:]) if cut > 0 else ("", text)
            else:
                carry = ""
            for line in text.split("\n"):
                words = tokenize(line)
                sentences.extend(chunked(words, chunk))
                total += len(words)
            if not block:
                break
    sentences = truncate([s for s in sentences if s], max_tokens)
    if not sentences:
        raise DataUnavailable(f"{path} holds no words; pass a plain-text file in a language with spaces.")
    return sentences


def _write_cache(path: Path, sentences: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + f".partial{os.getpid()}")
    with gzip.open(partial, "wt", encoding="utf-8") as f:
        f.write(f"# {_CACHE_VERSION} {len(sentences)} {count_tokens(sentences)}\n")
        for s in sentences:
            f.write(" ".join(s) + "\n")
    partial.replace(path)  # atomic: a half-written cache is never read


def _read_cache(path: Path) -> list[list[str]] | None:
    """The cached sentences, or ``None`` when the cache is missing, of another version or damaged."""
    if not path.exists():
        return None
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            header = f.readline().split()
            sentences = [line.split() for line in f]
    except (OSError, EOFError, UnicodeDecodeError):
        return None
    if (len(header) != 4 or header[1] != _CACHE_VERSION or int(header[2]) != len(sentences)
            or int(header[3]) != count_tokens(sentences)):
        return None
    return sentences


def parse_wiki_dump(path, chunk: int = 1000, min_words: int = ARTICLE_MIN_WORDS) -> list[list[str]]:
    """Articles of a MediaWiki XML dump (.bz2), markup removed, tokenised, in ``chunk``-word pieces.

    The same steps as gensim's ``WikiCorpus``, in one process (no multiprocessing pool).
    """
    from gensim.corpora.wikicorpus import IGNORED_NAMESPACES, extract_pages, filter_wiki

    sentences = []
    with bz2.BZ2File(path) as f:
        for title, text, _ in extract_pages(f, filter_namespaces=("0",)):
            if any(title.startswith(ns + ":") for ns in IGNORED_NAMESPACES):
                continue
            words = tokenize(filter_wiki(text))
            if len(words) >= min_words:
                sentences.extend(chunked(words, chunk))
    return sentences


def gensim_wiki(chunk: int = 1000, cache_dir: Path | None = None) -> list[list[str]]:
    """gensim's shortened Wikipedia dump, parsed once and cached (tokenised) under ``data/cache/``."""
    from gensim.test.utils import datapath

    cache = Path(cache_dir or CACHE_DIR) / f"enwiki-shortened-chunk{chunk}.txt.gz"
    sentences = _read_cache(cache)
    if sentences is not None:
        print(f"[data] word2vec corpus: read the tokenised dump from the cache {cache}")
        return sentences
    print("[data] word2vec corpus: parsing the Wikipedia dump once (about 10 s), then caching it")
    sentences = parse_wiki_dump(datapath(WIKI_DUMP), chunk=chunk)
    try:
        _write_cache(cache, sentences)
    except OSError as exc:  # a read-only checkout still works, it just parses every time
        print(f"[data] could not write the cache {cache} ({exc}); parsing again next time")
    return sentences


def gensim_lee(chunk: int = 1000) -> list[list[str]]:
    """gensim's Lee background corpus: 300 news articles, one per line (~60k words)."""
    from gensim.test.utils import datapath

    return read_text_file(datapath(LEE), chunk=chunk)


def wikitext_from_hub(max_tokens: int | None, chunk: int = 1000) -> list[list[str]]:
    """The first ``max_tokens`` words of WikiText-103 (raw) from the hub, streamed (no full download)."""
    from utils.data import HubSchemaChanged, load_hub_dataset

    stream = load_hub_dataset(HUB_ID, HUB_CONFIG, split="train", streaming=True)
    sentences, total = [], 0
    for row in stream:
        if "text" not in row:
            raise HubSchemaChanged(f"the hub's {HUB_ID} rows have no 'text' column (they have "
                                   f"{sorted(row)}); use a local corpus ($COURSE_DATA_DIR/text/text8).")
        words = tokenize(row["text"])
        if words:
            sentences.extend(chunked(words, chunk))
            total += len(words)
        if max_tokens is not None and total >= max_tokens:
            break
    if not sentences:
        raise DataUnavailable(f"{HUB_ID} ({HUB_CONFIG}) returned no text")
    return sentences


# ----------------------------------------------------------------------------- the loader
def load_word2vec_corpus(path=None, offline: str = "wiki",
                         max_tokens: int | None = None, chunk: int = 1000,
                         cache_dir: Path | None = None) -> tuple[list[list[str]], Source]:
    """A corpus for word2vec as ``(sentences, Source)``: each sentence a list of lower-case words.

    ``offline`` picks the embedded default: ``"wiki"`` (gensim's shortened Wikipedia dump,
    ~450k words) or ``"lee"`` (the Lee news corpus, ~60k words, for quick runs).
    ``max_tokens`` keeps only the first that many words of whichever source is used.
    """
    if offline not in OFFLINE_CHOICES:
        raise ValueError(f"offline={offline!r}: choose one of {OFFLINE_CHOICES}")
    defaults = {
        "wiki": (f"gensim's shortened English Wikipedia dump ({WIKI_DUMP}, ~450k words)",
                 lambda: gensim_wiki(chunk, cache_dir)),
        "lee": (f"gensim's Lee news corpus ({LEE}, 300 articles, ~60k words)", lambda: gensim_lee(chunk)),
    }

    def local(p: Path):
        return read_text_file(p, chunk=chunk, max_tokens=max_tokens)

    data_file = "text/text8"
    folder = os.environ.get("COURSE_DATA_DIR")
    if path is None and folder and not (Path(folder) / data_file).exists() \
            and (Path(folder) / (data_file + ".zip")).exists():
        data_file += ".zip"
    sentences, source = resolve(
        "word2vec corpus", path=path,
        local=(data_file, local),
        hub=(f"{HUB_ID} ({HUB_CONFIG})", lambda: wikitext_from_hub(max_tokens, chunk)),
        offline=defaults[offline])
    sentences = truncate(sentences, max_tokens)
    print(f"[data] word2vec corpus: {count_tokens(sentences):,} words in {len(sentences):,} pieces "
          f"of at most {chunk} words, from {source.kind}")
    return sentences, source
