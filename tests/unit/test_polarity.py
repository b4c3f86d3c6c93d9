"""utils.data.polarity: the sentence-polarity loader."""
import pytest

from utils.data import DataUnavailable
from utils.data.polarity import (
    UCI_FILES,
    load_polarity,
    read_gensim_polarity,
    read_uci_sentences,
    split_labelled,
)


def test_gensim_polarity_offline_default(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    data, source = load_polarity(seed=0)
    assert source.kind == "offline"
    assert len(data["train"]) == 150 and len(data["test"]) == 50
    assert sum(y for _, y in data["test"]) == 25, "stratified: half of each class in test"
    texts = {t for t, _ in data["train"]}
    assert not texts & {t for t, _ in data["test"]}
    assert all(isinstance(t, str) and t and y in (0, 1) for t, y in data["train"])
    assert not any(t.startswith("__label__") for t, _ in data["train"])


def test_gensim_file_format(tmp_path):
    f = tmp_path / "mini.cor"
    f.write_bytes("__label__pos a caf\xe9 film . \n__label__neg dull . \n".encode("latin-1"))
    assert read_gensim_polarity(f) == [("a caf\xe9 film .", 1), ("dull .", 0)]
    f.write_text("__label__meh what\n")
    with pytest.raises(ValueError):
        read_gensim_polarity(f)


def test_split_is_seeded_and_stratified():
    pairs = [(f"s{i}", i % 2) for i in range(100)]
    a, b, c = split_labelled(pairs, 0.2, 0), split_labelled(pairs, 0.2, 0), split_labelled(pairs, 0.2, 1)
    assert a == b and a != c
    assert len(a["test"]) == 20 and sum(y for _, y in a["test"]) == 10


def test_explicit_folder_path_latin1(tmp_path):
    (tmp_path / "rt-polarity.pos").write_bytes("great caf\xe9 .\nfine .\n".encode("latin-1"))
    (tmp_path / "rt-polarity.neg").write_bytes(b"bad .\nawful .\n")
    data, source = load_polarity(tmp_path, seed=0, test_fraction=0.5)
    assert source.kind == "path"
    everything = sorted(data["train"] + data["test"])
    assert everything == sorted([("great caf\xe9 .", 1), ("fine .", 1), ("bad .", 0), ("awful .", 0)])


def test_explicit_path_missing_file_says_what_to_do(tmp_path):
    (tmp_path / "rt-polarity.pos").write_text("good .\n")
    with pytest.raises(DataUnavailable, match="rt-polarity.neg"):
        load_polarity(tmp_path)


def test_data_folder_path(monkeypatch, shared_data):
    monkeypatch.setenv("COURSE_DATA_DIR", str(shared_data))
    data, source = load_polarity(seed=0)
    assert source.kind == "data_dir"
    assert len(data["train"]) + len(data["test"]) == 10_662
    assert len(data["test"]) == 1066
    assert abs(sum(y for _, y in data["test"]) - 533) <= 1


def test_uci_sentences_offline(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    data, source = load_polarity(seed=0, offline="uci")
    assert source.kind == "offline" and "Sentiment Labelled Sentences" in source.detail
    assert len(data["train"]) + len(data["test"]) == 2982, "3,000 sentences, each repeated one kept once"
    assert len(data["test"]) == 596 and abs(sum(y for _, y in data["test"]) - 298) <= 1, "stratified 80/20"
    assert not {t for t, _ in data["train"]} & {t for t, _ in data["test"]}
    assert all(isinstance(t, str) and t == t.strip() and y in (0, 1) for t, y in data["train"] + data["test"])
    again, _ = load_polarity(seed=0, offline="uci")
    assert again == data


def test_uci_files_are_the_published_ones():
    pairs = read_uci_sentences()
    texts = [t for t, _ in pairs]
    assert sum(y for _, y in pairs) == 1490 and len(pairs) == 2982
    assert "A very, very, very slow-moving, aimless movie about a distressed, drifting young man." in texts
    assert ("So there is no way for me to plug it in here in the US unless I go by a converter.", 0) in pairs
    # Windows-1252 punctuation came through as the characters it stands for
    assert any("\u2026" in t for t in texts) and not any("\x85" in t or "\x96" in t for t in texts)


def test_uci_missing_or_broken_file_says_what_to_do(tmp_path):
    import gzip

    from utils.data.polarity import UCI_DIR

    for name in UCI_FILES[1:]:
        (tmp_path / name).write_bytes((UCI_DIR / name).read_bytes())
    with pytest.raises(DataUnavailable, match="amazon_cells_labelled.txt.gz is missing.*git checkout -- data/sentiment"):
        read_uci_sentences(tmp_path)
    (tmp_path / UCI_FILES[0]).write_bytes(b"not gzip")
    with pytest.raises(DataUnavailable, match="damaged"):
        read_uci_sentences(tmp_path)
    (tmp_path / UCI_FILES[0]).write_bytes(gzip.compress(b"Great phone!\t1\nno label here\n"))
    with pytest.raises(DataUnavailable, match="line 2: expected 'sentence<TAB>0 or 1'"):
        read_uci_sentences(tmp_path)
    (tmp_path / UCI_FILES[0]).write_bytes(gzip.compress(b"Great phone!\t1\nBad.\t0\n"))
    with pytest.raises(DataUnavailable, match="has 2 lines, not 1,000"):
        read_uci_sentences(tmp_path)


def test_offline_choice_is_checked():
    with pytest.raises(ValueError, match="gensim.*uci"):
        load_polarity(offline="imdb")
