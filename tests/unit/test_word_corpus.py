"""utils.data.word_corpus: word2vec's corpora (text8 / WikiText-103 / gensim's bundled corpora)."""
import bz2
import gzip
import zipfile

import pytest

from utils.data import DataUnavailable
from utils.data import word_corpus as corpora

TEXT =  ("The cat sat on the mat. The dog sat on the log!\n"
        "A cat and a dog are animals; 42 numbers and x y are dropped.\n")


def test_tokenize_lowercases_and_keeps_alphabetic_words_of_2_to_15_letters():
    words = corpora.tokenize("The Cat, 42 cats; a verylongwordindeedyes x-ray")
    assert words == ["the", "cat", "cats", "ray"]


def test_chunked_and_truncate():
    tokens = [str(i) for i in range(25)]
    pieces = corpora.chunked(tokens, 10)
    assert [len(p) for p in pieces] == [10, 10, 5] and sum(pieces, []) == tokens
    assert corpora.count_tokens(corpora.truncate(pieces, 12)) == 12
    assert corpora.truncate(pieces, None) is pieces
    with pytest.raises(ValueError):
        corpora.chunked(tokens, 0)


@pytest.mark.parametrize("suffix", [".txt", ".gz", ".bz2", ".zip"])
def test_read_text_file_in_every_container(tmp_path, suffix):
    path = tmp_path / f"corpus{suffix}"
    if suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(TEXT)
    elif suffix == ".bz2":
        path.write_bytes(bz2.compress(TEXT.encode()))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("text8", TEXT)
    else:
        path.write_text(TEXT, encoding="utf-8")
    sentences = corpora.read_text_file(path, chunk=5)
    words = sum(sentences, [])
    assert words[:4] == ["the", "cat", "sat", "on"] and "42" not in words and "x" not in words
    assert all(len(s) <= 5 for s in sentences)


def test_read_text_file_single_line_across_blocks_keeps_words_whole(tmp_path):
    # text8 has no newlines: reading in small blocks must not cut words in two
    words = [f"word{'abcdefghij'[i % 10]}{'klmnopqrst'[i // 10 % 10]}" for i in range(500)]
    path = tmp_path / "text8"
    path.write_text(" ".join(words), encoding="utf-8")
    sentences = corpora.read_text_file(path, chunk=100, block_chars=37)
    assert sum(sentences, []) == words
    assert corpora.count_tokens(corpora.read_text_file(path, chunk=100, max_tokens=123, block_chars=64)) == 123


def test_read_text_file_errors_say_what_to_do(tmp_path):
    with pytest.raises(DataUnavailable, match="folder"):
        corpora.read_text_file(tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_text("1 2 3 ...", encoding="utf-8")
    with pytest.raises(DataUnavailable, match="no words"):
        corpora.read_text_file(empty)


WIKI_XML = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="en">
  <siteinfo><sitename>Wikipedia</sitename></siteinfo>
  <page><title>Anarchism</title><ns>0</ns><id>12</id><revision><id>1</id>
    <text xml:space="preserve">'''Anarchism''' is a [[political philosophy]] {{Infobox|x=1}} that {0}</text></revision></page>
  <page><title>Talk:Anarchism</title><ns>1</ns><id>13</id><revision><id>2</id>
    <text xml:space="preserve">talk page words {0}</text></revision></page>
  <page><title>Stub</title><ns>0</ns><id>14</id><revision><id>3</id>
    <text xml:space="preserve">too short</text></revision></page>
</mediawiki>
"""



def test_parse_wiki_dump_strips_markup_and_skips_other_namespaces_and_stubs(tmp_path):
    filler = " ".join(["rejects", "rulers"] * 40)
    path = tmp_path / "dump.xml.bz2"
    path.write_bytes(bz2.compress(WIKI_XML.replace("{0}", filler).encode()))
    sentences = corpora.parse_wiki_dump(path, chunk=50)
    words = sum(sentences, [])
    assert words[:5] == ["anarchism", "is", "political", "philosophy", "that"]
    assert "infobox" not in words and "talk" not in words and "short" not in words
    assert all(len(s) <= 50 for s in sentences) and len(words) == 5 + 80


def test_cache_round_trip_and_damaged_cache_is_rejected(tmp_path):
    sentences = [["a", "b"], ["c"]]
    path = tmp_path / "c.txt.gz"
    corpora._write_cache(path, sentences)
    assert corpora._read_cache(path) == sentences
    with gzip.open(path, "wt", encoding="utf-8") as f:          # header promises more than is there
        f.write("# v1 5 9\nab cd\n")
    assert corpora._read_cache(path) is None
    path.write_bytes(b"not gzip at all")
    assert corpora._read_cache(path) is None
    assert corpora._read_cache(tmp_path / "missing.gz") is None


def test_gensim_wiki_uses_the_cache(tmp_path, monkeypatch):
    cached = [["cached", "words"]]
    corpora._write_cache(tmp_path / "enwiki-shortened-chunk1000.txt.gz", cached)
    monkeypatch.setattr(corpora, "parse_wiki_dump", lambda *a, **k: pytest.fail("must not parse again"))
    assert corpora.gensim_wiki(cache_dir=tmp_path) == cached


def test_gensim_wiki_parses_and_writes_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "parse_wiki_dump", lambda path, chunk: [["parsed", "once"]])
    assert corpora.gensim_wiki(cache_dir=tmp_path) == [["parsed", "once"]]
    assert corpora._read_cache(tmp_path / "enwiki-shortened-chunk1000.txt.gz") == [["parsed", "once"]]


def test_loader_explicit_path(tmp_path, capsys):
    path = tmp_path / "mine.txt"
    path.write_text(TEXT, encoding="utf-8")
    sentences, source = corpora.load_word2vec_corpus(path)
    assert source.kind == "path" and sentences[0][:2] == ["the", "cat"]
    assert "explicit path" in capsys.readouterr().out
    with pytest.raises(DataUnavailable, match="does not exist"):
        corpora.load_word2vec_corpus(tmp_path / "nope.txt")


@pytest.mark.parametrize("name", ["text8", "text8.zip"])
def test_loader_data_folder(tmp_path, monkeypatch, name):
    (tmp_path / "text").mkdir()
    if name.endswith(".zip"):
        with zipfile.ZipFile(tmp_path / "text" / name, "w") as archive:
            archive.writestr("text8", " anarchism originated as a term of abuse " * 10)
    else:
        (tmp_path / "text" / name).write_text(" anarchism originated as a term of abuse " * 10)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    sentences, source = corpora.load_word2vec_corpus(max_tokens=15)
    assert source.kind == "data_dir" and source.detail.endswith(name)
    assert corpora.count_tokens(sentences) == 15 and sentences[0][0] == "anarchism"


def test_loader_offline_default_is_lee_and_says_so(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "0")
    sentences, source = corpora.load_word2vec_corpus(offline="lee")
    out = capsys.readouterr().out
    assert source.kind == "offline" and "Lee" in source.detail
    assert "skipped (offline)" in out and "offline default" in out
    assert 50_000 < corpora.count_tokens(sentences) < 70_000 and max(map(len, sentences)) <= 1000


def test_loader_offline_never_asks_the_hub(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "0")
    monkeypatch.setattr(corpora, "wikitext_from_hub", lambda *a: pytest.fail("offline must not ask the hub"))
    corpora.load_word2vec_corpus(offline="lee", max_tokens=1000)
    assert "skipped (offline)" in capsys.readouterr().out


def test_wikitext_from_hub_streams_only_what_it_needs(monkeypatch):
    import datasets

    served = []

    def fake_stream():
        for i in range(1000):
            served.append(i)
            yield {"text": " = Heading = \n" if i % 3 == 0 else " the cat sat on the mat again \n"}

    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: fake_stream())
    sentences = corpora.wikitext_from_hub(max_tokens=40, chunk=4)
    assert corpora.count_tokens(sentences) >= 40 and len(served) < 20, "stops reading once it has enough"
    assert sentences[0] == ["heading"] and all(len(s) <= 4 for s in sentences)


def test_loader_uses_the_hub_when_online(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(corpora, "wikitext_from_hub", lambda max_tokens, chunk: [["from", "the", "hub"]] * 5)
    sentences, source = corpora.load_word2vec_corpus(max_tokens=7)
    assert source.kind == "hub" and corpora.count_tokens(sentences) == 7
    assert "hub Salesforce/wikitext" in capsys.readouterr().out


def test_loader_reports_a_failing_hub_and_falls_back(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def broken(max_tokens, chunk):
        raise ConnectionError("no route")

    monkeypatch.setattr(corpora, "wikitext_from_hub", broken)
    _, source = corpora.load_word2vec_corpus(offline="lee")
    assert source.kind == "offline" and "failed (ConnectionError: no route)" in capsys.readouterr().out


def test_loader_rejects_unknown_offline_choice():
    with pytest.raises(ValueError, match="offline"):
        corpora.load_word2vec_corpus(offline="shakespeare")
