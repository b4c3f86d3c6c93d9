"""utils.data.polarity: the sentence-polarity loader."""
import pytest

from utils.data import DataUnavailable
from utils.data.polarity import load_polarity, read_gensim_polarity, split_labelled


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
