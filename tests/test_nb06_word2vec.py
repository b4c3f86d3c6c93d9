"""Notebook 06 (word2vec): the corpus loader (utils.corpora), the teaching claims that hold
outside the notebook, and the exercise self-checks (pass the reference, fail wrong answers)."""
import bz2
import collections
import gzip
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from solutions import nb06
from utils import corpora
from utils.checks import CheckFailed, check_function
from utils.data import DataUnavailable

TEXT = ("The cat sat on the mat. The dog sat on the log!\n"
        "A cat and a dog are animals; 42 numbers and x y are dropped.\n")


# ----------------------------------------------------------------------------- tokenising
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


# ----------------------------------------------------------------------------- plain-text files
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


# ----------------------------------------------------------------------------- Wikipedia dumps
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


# ----------------------------------------------------------------------------- source resolution
def test_loader_explicit_path(tmp_path, capsys):
    path = tmp_path / "mine.txt"
    path.write_text(TEXT, encoding="utf-8")
    sentences, source = corpora.load_word2vec_corpus(path, profile="smoke")
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
    sentences, source = corpora.load_word2vec_corpus(profile="study", max_tokens=15)
    assert source.kind == "data_dir" and source.detail.endswith(name)
    assert corpora.count_tokens(sentences) == 15 and sentences[0][0] == "anarchism"


def test_loader_offline_default_is_lee_and_says_so(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "0")
    sentences, source = corpora.load_word2vec_corpus(profile="study", offline="lee")
    out = capsys.readouterr().out
    assert source.kind == "offline" and "Lee" in source.detail
    assert "skipped (offline)" in out and "offline default" in out
    assert 50_000 < corpora.count_tokens(sentences) < 70_000 and max(map(len, sentences)) <= 1000


def test_loader_smoke_never_asks_the_hub(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(corpora, "wikitext_from_hub", lambda *a: pytest.fail("smoke must stay offline"))
    corpora.load_word2vec_corpus(profile="smoke", offline="lee", max_tokens=1000)
    assert "smoke profile uses offline data only" in capsys.readouterr().out


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
    sentences, source = corpora.load_word2vec_corpus(profile="study", max_tokens=7)
    assert source.kind == "hub" and corpora.count_tokens(sentences) == 7
    assert "hub Salesforce/wikitext" in capsys.readouterr().out


def test_loader_reports_a_failing_hub_and_falls_back(monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def broken(max_tokens, chunk):
        raise ConnectionError("no route")

    monkeypatch.setattr(corpora, "wikitext_from_hub", broken)
    _, source = corpora.load_word2vec_corpus(profile="study", offline="lee")
    assert source.kind == "offline" and "failed (ConnectionError: no route)" in capsys.readouterr().out


def test_loader_rejects_unknown_offline_choice():
    with pytest.raises(ValueError, match="offline"):
        corpora.load_word2vec_corpus(offline="shakespeare")


# ----------------------------------------------------------------------------- teaching claims
@pytest.fixture(scope="module")
def lee_counts():
    sentences = corpora.gensim_lee()
    counts = collections.Counter(w for s in sentences for w in s)
    return np.array(sorted(counts.values(), reverse=True), dtype=np.float64)


def test_noise_distribution_sums_to_one_and_flattens(lee_counts):
    unigram = lee_counts / lee_counts.sum()
    noise = lee_counts ** 0.75 / (lee_counts ** 0.75).sum()
    entropy = lambda p: -(p * np.log(p)).sum()
    assert np.isclose(noise.sum(), 1.0)
    assert entropy(noise) > entropy(unigram)
    assert noise[0] < unigram[0] and noise[-1] > unigram[-1]


def test_subsampling_keeps_rare_words(lee_counts):
    t = 1e-3
    z = lee_counts / lee_counts.sum()
    keep = np.minimum(1.0, (np.sqrt(z / t) + 1) * t / z)      # gensim's / word2vec.c's rule
    assert np.all(keep[z <= 2 * t] == 1.0) and keep[0] < 0.5
    paper = nb06.paper_keep_probability(lee_counts, t)
    assert np.all(paper[z <= t] == 1.0) and np.all(paper <= keep + 1e-12), "the C code keeps more than the paper"


# ----------------------------------------------------------------------------- exercise self-checks
def test_exercise_1_check(lee_counts):
    cases = [(lee_counts, 1e-5), (np.array([1, 10, 100, 10_000]), 1e-3)]
    assert check_function(nb06.paper_keep_probability, nb06.paper_keep_probability, cases, raise_on_fail=True)

    def discard_probability(counts, threshold):       # the complement: a classic mix-up
        return 1 - nb06.paper_keep_probability(counts, threshold)

    def unclipped(counts, threshold):
        counts = np.asarray(counts, dtype=float)
        return np.sqrt(threshold / (counts / counts.sum()))

    for wrong in (discard_probability, unclipped):
        with pytest.raises(CheckFailed):
            check_function(wrong, nb06.paper_keep_probability, cases, raise_on_fail=True)


def test_exercise_2_check_and_cbow_loss_is_the_sgns_loss_of_the_mean():
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randn(4, 8, generator=g), torch.randn(8, generator=g), torch.randn(5, 8, generator=g))]
    assert check_function(nb06.cbow_negative_sampling_loss, nb06.cbow_negative_sampling_loss, cases,
                          raise_on_fail=True)
    context, target, negatives = cases[0]
    h = context.mean(0)
    bce = F.binary_cross_entropy_with_logits(torch.cat([(target @ h)[None], negatives @ h]),
                                             torch.tensor([1.0] + [0.0] * 5), reduction="sum")
    assert torch.allclose(nb06.cbow_negative_sampling_loss(*cases[0]), bce)

    def summed_context(c, t, n):
        return nb06.cbow_negative_sampling_loss(c * len(c), t, n)

    def positive_only(c, t, n):
        return -F.logsigmoid(t @ c.mean(0))

    for wrong in (summed_context, positive_only):
        with pytest.raises(CheckFailed):
            check_function(wrong, nb06.cbow_negative_sampling_loss, cases, raise_on_fail=True)


def test_exercise_3_check():
    g = torch.Generator().manual_seed(0)
    words = [f"w{i}" for i in range(30)]
    vectors = torch.randn(30, 10, generator=g)
    planted = vectors.clone()
    planted[7] = F.normalize(planted[1], dim=0) - F.normalize(planted[0], dim=0) + F.normalize(planted[2], dim=0)
    assert nb06.analogy(planted, words, "w0", "w1", "w2") == "w7"
    cases = [(vectors, words, "w0", "w1", "w2"), (vectors, words, "w5", "w3", "w9"), (planted, words, "w0", "w1", "w2")]
    assert check_function(nb06.analogy, nb06.analogy, cases, raise_on_fail=True)

    def not_excluding(vectors, words, a, b, c):
        unit = F.normalize(torch.as_tensor(vectors), dim=1)
        i = {w: k for k, w in enumerate(words)}
        return words[int((unit @ (unit[i[b]] - unit[i[a]] + unit[i[c]])).argmax())]

    def wrong_direction(vectors, words, a, b, c):
        return nb06.analogy(vectors, words, b, a, c)

    for wrong in (not_excluding, wrong_direction):
        with pytest.raises(CheckFailed):
            check_function(wrong, nb06.analogy, cases, raise_on_fail=True)
