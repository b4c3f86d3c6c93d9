"""Bad input gets a clear error that says what is wrong and what to do, never a raw traceback
from deep inside a library, and nothing is replaced silently. One probe per mistake a learner
makes with the public functions of utils."""
import gzip
import json

import pytest
import torch
import torch.nn as nn

from utils.data import DataUnavailable
from utils.data.generated import adding_problem, dates_dataset, dates_split, memory_qa, narma, templated_squad
from utils.data.mnist import load_mnist
from utils.data.squad import load_squad, read_squad_file
from utils.data.tiny_shakespeare import load_text
from utils.environment import ProfileError, by_profile, torch_threads
from utils.metrics import bits_per_char, bleu, exact_match_rate, squad_scores
from utils.results import Results
from utils.text import PairBatches, Vocab, lengths_mask, pad_batch, word_tokenize
from utils.training import (
    CheckpointError,
    accuracy_of,
    clip_gradients,
    load_checkpoint,
    save_checkpoint,
    train,
)


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("COURSE_ONLINE", "0")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


def squad_json(context="Tokyo is big.", answers=({"text": "Tokyo", "answer_start": 0},)):
    return {"data": [{"title": "T", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "What is big?", "answers": list(answers)}]}]}]}


# ----------------------------------------------------------------------------- files
def test_text_files(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(DataUnavailable, match="is empty"):
        load_text(tmp_path / "empty.txt")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 10)
    with pytest.raises(DataUnavailable, match="not UTF-8 text"):
        load_text(tmp_path / "binary.txt")
    with pytest.raises(DataUnavailable, match="is a folder"):
        load_text(tmp_path)
    with pytest.raises(DataUnavailable, match="does not exist"):
        load_text(tmp_path / "missing.txt")
    (tmp_path / "fake.gz").write_text("not gzip")
    with pytest.raises(DataUnavailable, match="cannot read"):
        load_text(tmp_path / "fake.gz")


def test_squad_files(tmp_path):
    with pytest.raises(DataUnavailable, match="there is no file"):
        read_squad_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"data": [ {"title": ')
    with pytest.raises(DataUnavailable, match="not valid SQuAD JSON"):
        read_squad_file(tmp_path / "bad.json")
    no_answers = squad_json()
    del no_answers["data"][0]["paragraphs"][0]["qas"][0]["answers"]
    (tmp_path / "no_answers.json").write_text(json.dumps(no_answers))
    with pytest.raises(DataUnavailable, match="'q1' lacks .*answers"):
        read_squad_file(tmp_path / "no_answers.json")
    outside = squad_json(answers=({"text": "Tokyo", "answer_start": 40},))
    (tmp_path / "outside.json").write_text(json.dumps(outside))
    with pytest.raises(DataUnavailable, match="does not stand at answer_start 40"):
        read_squad_file(tmp_path / "outside.json")
    with pytest.raises(DataUnavailable, match="is a folder"):
        load_squad(path=tmp_path)


def test_mnist_at_a_wrong_path_stops(tmp_path):
    with pytest.raises(DataUnavailable, match="does not exist"):
        load_mnist(tmp_path / "nope")


def test_checkpoints(tmp_path):
    model = nn.Linear(2, 1)
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt", model)
    (tmp_path / "torn.pt").write_bytes(b"\x80\x04half a pickle")
    with pytest.raises(CheckpointError, match="not a readable checkpoint.*delete it"):
        load_checkpoint(tmp_path / "torn.pt", model)
    torch.save({"weights": 1}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not written by save_checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt", model)
    save_checkpoint(tmp_path / "other.pt", nn.Linear(3, 1))
    with pytest.raises(CheckpointError, match="another model"):
        load_checkpoint(tmp_path / "other.pt", model)
    with gzip.open(tmp_path / "zipped.pt", "wb") as f:
        f.write(b"nothing")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "zipped.pt", model)


# ----------------------------------------------------------------------------- training
def test_training_inputs(tmp_path):
    model = nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no batches"):
        train(model, [], optimizer=optimizer, progress=False)
    with pytest.raises(ValueError, match="epochs must be"):
        train(model, [(torch.randn(2, 2), torch.tensor([0, 1]))], optimizer=optimizer, epochs=0, progress=False)
    with pytest.raises(ValueError, match="needs config="):
        train(model, [(torch.randn(2, 2), torch.tensor([0, 1]))], optimizer=optimizer,
              checkpoint=tmp_path / "c.pt", progress=False)
    with pytest.raises(ValueError, match="evaluation set is empty"):
        accuracy_of(model, [])
    with pytest.raises(ValueError, match="positive"):
        clip_gradients(model.parameters(), 0)


# ----------------------------------------------------------------------------- text
def test_vocabulary_and_batches():
    vocab = Vocab.build([list("abc")])
    with pytest.raises(ValueError, match="id 57 is not in this vocabulary of 7 tokens"):
        vocab.decode([4, 57])
    with pytest.raises(TypeError, match="not one string"):
        Vocab.build("abc")
    with pytest.raises(ValueError, match="min_count"):
        Vocab.build([list("abc")], min_count=0)
    with pytest.raises(ValueError, match="does not fit length=2.*truncate=True"):
        pad_batch([[1, 2, 3]], length=2)
    assert pad_batch([[1, 2, 3]], length=2, truncate=True).tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="non-negative"):
        lengths_mask(torch.tensor([3, -1]))
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        PairBatches([([1], [2])], batch_size=0)
    with pytest.raises(ValueError, match="no pairs"):
        PairBatches([], batch_size=4)
    with pytest.raises(TypeError, match="takes a string"):
        word_tokenize(["a", "list"])


# ----------------------------------------------------------------------------- metrics and results
def test_metrics():
    with pytest.raises(ValueError, match="nothing to score|no hypotheses to score"):
        bleu([], [])
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        bleu(["a b", "c d"], ["a b"])
    with pytest.raises(TypeError, match="not token lists"):
        bleu([["a", "b"]], [["a", "b"]])
    with pytest.raises(ValueError, match="paired"):
        exact_match_rate(["a"], [])
    with pytest.raises(ValueError, match="no predictions to score"):
        exact_match_rate([], [])
    with pytest.raises(ValueError, match="evaluation set is empty"):
        squad_scores({}, [])
    with pytest.raises(ValueError, match="never below 0"):
        bits_per_char(-0.5)


def test_results_refuse_what_is_not_a_finite_number(tmp_path):
    results = Results("00_getting_started", "smoke", path=tmp_path / "r.jsonl")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="diverged"):
            results.record("loss", bad)
    with pytest.raises(TypeError, match="must be a number"):
        results.record("accuracy", "high")
    assert not (tmp_path / "r.jsonl").exists(), "nothing is written for a refused figure"


# ----------------------------------------------------------------------------- generated tasks
@pytest.mark.parametrize("call", [
    lambda: dates_dataset(-5), lambda: dates_dataset(2.5), lambda: dates_dataset(3, formats=[99]),
    lambda: dates_split(10, -1), lambda: dates_split(300_000, 200_000), lambda: adding_problem(4, 1),
    lambda: templated_squad(-1), lambda: memory_qa(3, n_sentences=0), lambda: narma(5),
], ids=["dates_negative", "dates_fraction", "dates_format", "split_negative", "split_too_large",
        "adding_too_short", "squad_negative", "memory_empty_story", "narma_too_short"])
def test_generated_tasks_refuse_impossible_sizes(call):
    with pytest.raises(ValueError, match="must be|needs|at least|cannot be drawn|more than"):
        call()


def test_environment_inputs():
    with pytest.raises(ProfileError, match="smoke"):
        by_profile("quick", smoke=1, study=2, full=3)
    with pytest.raises(ValueError, match="threads"):
        with torch_threads(0):
            pass
