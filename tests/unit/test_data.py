"""utils.data: the source chain, and the loaders of MNIST, Tiny Shakespeare, Multi30k, SQuAD and the generated tasks."""
import gzip
import json

import numpy as np
import pytest

from utils import data as data_module
from utils.data import DataUnavailable, resolve
from utils.data.generated import (
    adding_problem,
    dates_dataset,
    dates_split,
    memory_qa,
    narma,
    templated_squad,
)
from utils.data.mnist import load_digits, load_mnist, read_idx
from utils.data.multi30k import load_multi30k
from utils.data.squad import load_squad, read_squad_file, split_by_article
from utils.data.tiny_shakespeare import load_text


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("COURSE_ONLINE", "0")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


def test_resolve_order_and_messages(tmp_path, monkeypatch, capsys):
    (tmp_path / "x.txt").write_text("from folder")
    local = ("x.txt", lambda p: p.read_text())
    offline = ("built in", lambda: "offline")
    explicit = tmp_path / "mine.txt"
    explicit.write_text("explicit")
    assert resolve("t", path=explicit, local=local, offline=offline)[0] == "explicit"
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    value, source = resolve("t", local=local, offline=offline)
    assert value == "from folder" and source.kind == "data_dir"
    monkeypatch.delenv("COURSE_DATA_DIR")
    value, source = resolve("t", local=local, hub=("some/id", lambda: "hub"), offline=offline)
    assert value == "offline" and source.kind == "offline"
    out = capsys.readouterr().out
    assert "hub some/id skipped (offline)" in out and "offline default: built in" in out


def test_resolve_online_hub_failure_is_reported(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_ONLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def broken():
        raise ConnectionError("no route")

    value, source = resolve("t", hub=("x/y", broken), offline=("fallback", lambda: 1))
    assert value == 1 and "failed (ConnectionError: no route)" in capsys.readouterr().out


def test_missing_path_and_no_source_give_clear_errors(tmp_path):
    with pytest.raises(DataUnavailable, match="does not exist"):
        resolve("t", path=tmp_path / "nope", local=("a", str))
    with pytest.raises(DataUnavailable, match="COURSE_DATA_DIR"):
        resolve("t", local=("a", str))


def test_bad_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(DataUnavailable, match="not a folder"):
        data_module.data_dir()


def test_digits_offline():
    digits = load_digits()
    assert digits.train_images.shape[1:] == (1, 8, 8)
    assert len(digits.train_images) + len(digits.test_images) == 1797
    assert 0 <= digits.train_images.min() and digits.train_images.max() <= 1
    assert load_mnist().name == "digits"                      # no path given: the offline default


def test_mnist_at_a_missing_path_stops_instead_of_training_on_digits(tmp_path):
    with pytest.raises(DataUnavailable, match="does not exist"):
        load_mnist(tmp_path / "nope")
    with pytest.raises(DataUnavailable, match="No MNIST IDX files"):
        load_mnist(tmp_path)


def test_idx_reader_roundtrip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + b"".join(int(n).to_bytes(4, "big") for n in images.shape)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + images.tobytes())
    assert np.array_equal(read_idx(tmp_path / "t10k-images-idx3-ubyte.gz"), images)


def test_text_offline_default():
    text, source = load_text()
    assert source.kind == "offline" and len(text) > 100_000


def test_multi30k_files_that_are_not_parallel_are_refused(tmp_path):
    import gzip

    for lang, lines in (("en", "a dog\na cat\n"), ("de", "ein Hund\n")):
        with gzip.open(tmp_path / f"multi30k.train.{lang}.gz", "wt", encoding="utf-8") as f:
            f.write(lines)
    with pytest.raises(DataUnavailable, match="must be parallel"):
        load_multi30k("en", "de", path=tmp_path)


def test_multi30k_without_source_raises():
    with pytest.raises(DataUnavailable):
        load_multi30k()


def test_squad_formats(tmp_path):
    official = {"data": [{"title": "T", "paragraphs": [{"context": "Tokyo is big.", "qas": [
        {"id": "q1", "question": "What is big?", "answers": [{"text": "Tokyo", "answer_start": 0}]}]}]}]}
    (tmp_path / "dev.json").write_text(json.dumps(official))
    records = read_squad_file(tmp_path / "dev.json")
    assert records[0]["answers"] == {"text": ["Tokyo"], "answer_start": [0]} and records[0]["title"] == "T"
    (tmp_path / "dev.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    assert read_squad_file(tmp_path / "dev.jsonl") == records
    (tmp_path / "bad.jsonl").write_text(json.dumps({"id": 1}))
    with pytest.raises(DataUnavailable, match="question 1 lacks"):
        read_squad_file(tmp_path / "bad.jsonl")


def test_split_by_article_has_no_overlap():
    records = [{"title": f"a{i % 7}", "id": str(i)} for i in range(70)]
    train, val = split_by_article(records, 0.3)
    assert {r["title"] for r in train}.isdisjoint({r["title"] for r in val})
    assert len(train) + len(val) == 70


def test_squad_offline_generated(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    splits, source = load_squad(n_generated=100, offline="generated")
    assert source.kind == "offline" and len(splits["train"]) == 100
    for r in splits["train"] + splits["validation"]:
        start, text = r["answers"]["answer_start"][0], r["answers"]["text"][0]
        assert r["context"][start:start + len(text)] == text


def test_squad_offline_default_is_the_shipped_slice_of_real_questions(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    splits, source = load_squad(seed=0)
    assert source.kind == "offline" and "SQuAD v1.1" in source.detail
    titles = [{r["title"] for r in splits[s]} for s in ("train", "validation")]
    assert titles[0].isdisjoint(titles[1]), "split by article"
    assert len(titles[0]) + len(titles[1]) == 14 and len(titles[1]) == 4
    assert len(splits["train"]) + len(splits["validation"]) == 4120
    assert len({r["id"] for r in splits["train"] + splits["validation"]}) == 4120
    assert not any(r["id"].startswith("gen-") for r in splits["train"])
    dev_questions = [r for r in splits["validation"] if len(r["answers"]["text"]) >= 2]
    assert len(dev_questions) > 0.9 * len(splits["validation"]), "development questions carry several answers"
    other_seed, _ = load_squad(seed=1)
    assert {r["title"] for r in other_seed["validation"]} != titles[1]


def test_squad_shipped_slice_is_small_and_official_json():
    from utils.data.squad import SHIPPED_SLICE

    assert SHIPPED_SLICE.stat().st_size < 500_000, "keep the repository light"
    official = json.loads(gzip.decompress(SHIPPED_SLICE.read_bytes()))
    assert official["version"] == "1.1" and len(official["data"]) == 14
    assert all(para["qas"] for article in official["data"] for para in article["paragraphs"])


def test_squad_shipped_slice_missing_or_damaged_says_what_to_do(tmp_path, monkeypatch):
    import utils.data.squad as squad

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(squad, "SHIPPED_SLICE", tmp_path / "gone.json.gz")
    with pytest.raises(DataUnavailable, match="missing.*git checkout -- data/squad"):
        load_squad()
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip at all")
    monkeypatch.setattr(squad, "SHIPPED_SLICE", broken)
    with pytest.raises(DataUnavailable, match="damaged.*git checkout -- data/squad"):
        load_squad()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(gzip.compress(b'{"version": "1.1", "data": [{"title": "A", "paragraphs": [{"context": '
                                  b'"Tokyo is big.", "qas": [{"id": "q", "question": "What?", "answers": '
                                  b'[{"text": "Tokyo", "answer_start": 0}]}]}]}]}'))
    monkeypatch.setattr(squad, "SHIPPED_SLICE", cut)
    with pytest.raises(DataUnavailable, match="1 questions on 1 articles, not 4,120"):
        load_squad()


def test_squad_offline_choice_is_checked():
    with pytest.raises(ValueError, match="slice.*generated"):
        load_squad(offline="templated")


def test_real_data_from_the_data_folder(monkeypatch, shared_data):
    monkeypatch.setenv("COURSE_DATA_DIR", str(shared_data))
    text, source = load_text()
    assert source.kind == "data_dir" and text.startswith("First Citizen")
    pairs, _ = load_multi30k("en", "de")
    assert len(pairs["train"]) == 29000 and len(pairs["test"]) == 1000
    squad, _ = load_squad()
    titles = [{r["title"] for r in squad[s]} for s in ("train", "validation")]
    assert titles[0].isdisjoint(titles[1]) and len(squad["train"]) + len(squad["validation"]) == 8625
    mnist = load_mnist()
    assert mnist.name == "mnist" and mnist.train_images.shape[1:] == (1, 28, 28)
    assert len(mnist.train_images) == 8000 and len(mnist.test_images) == 2000


def test_generated_dates_are_valid_and_split_is_disjoint():
    import datetime

    for human, iso in dates_dataset(300, seed=1):
        datetime.date.fromisoformat(iso)
        year = iso[:4]
        assert year in human or year[2:] in human
    train, test = dates_split(500, 100)
    assert not {h for h, _ in train} & {h for h, _ in test} and len(test) == 100


def test_generated_sequence_tasks():
    x, y = adding_problem(64, 30)
    assert x.shape == (64, 30, 2) and (x[..., 1].sum(1) == 2).all()
    assert ((x[..., 0] * x[..., 1]).sum(1) - y).abs().max() < 1e-6
    story, question, answer, support = memory_qa(5, seed=2)[0]
    assert answer in story[support] and question.split()[-1] in story[support]
    u, target = narma(500)
    assert u.shape == target.shape == (500,) and np.isfinite(target).all()


def test_templated_squad_answers_are_spans():
    for r in templated_squad(200, seed=3):
        start, text = r["answers"]["answer_start"][0], r["answers"]["text"][0]
        assert start >= 0 and r["context"][start:start + len(text)] == text
