import math

import pytest
import torch

from utils.checks import CheckFailed, check_close, check_equal, check_function
from utils.metrics import (
    accuracy,
    bits_per_char,
    bleu,
    exact_match_rate,
    normalize_answer,
    perplexity,
    squad_exact_match,
    squad_f1,
    squad_scores,
)
from utils.text import PairBatches, Vocab, lengths_mask, pad_batch, word_tokenize


def test_accuracy_and_rates():
    assert accuracy(torch.tensor([1, 2, 3]), [1, 0, 3]) == pytest.approx(2 / 3)
    assert exact_match_rate(["a", "b"], ["a", "c"]) == 0.5
    with pytest.raises(ValueError):
        accuracy([1], [1, 2])


def test_perplexity_and_bits():
    assert perplexity(math.log(50)) == pytest.approx(50)
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)


def test_bleu_is_sacrebleu():
    assert bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert bleu(["a dog"], ["the cat sat on the mat"]) < 10


def test_squad_official_normalisation_and_scores():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("an apple, a pear") == "apple pear"
    assert squad_exact_match("the Eiffel tower", "Eiffel Tower.") == 1.0
    assert squad_f1("in Paris France", "Paris") == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))
    assert squad_f1("London", "Paris") == 0.0
    records = [{"id": "1", "answers": {"text": ["Denver Broncos", "Broncos"]}},
               {"id": "2", "answers": {"text": ["1990"]}}]
    scores = squad_scores({"1": "the Broncos", "2": "in 1991"}, records)
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(50.0)
    assert squad_scores({}, records) == {"exact_match": 0.0, "f1": 0.0}


def test_vocab_and_batching():
    vocab = Vocab.build([word_tokenize("The cat. The dog!")], min_count=1)
    ids = vocab.encode(["the", "cat", "zebra"], add_bos=True, add_eos=True)
    assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id and ids[3] == vocab.unk_id
    assert vocab.decode(ids, strip_special=True) == ["the", "cat"]
    batch = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert batch.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert lengths_mask(torch.tensor([3, 1])).tolist() == [[True, True, True], [True, False, False]]
    batches = PairBatches([([1, 2], [3]), ([4], [5, 6])] * 5, batch_size=4, shuffle=True)
    seen = [src.shape[0] for src, _, _ in batches]
    assert len(batches) == 3 and sum(seen) == 10


def test_checks_pass_and_fail(capsys):
    assert check_close(torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    assert not check_close([1.0, 2.5], [1.0, 2.0], hint="look again")
    assert "hint: look again" in capsys.readouterr().out
    assert not check_close(..., 1.0)
    assert check_equal("1998-03-03", "1998-03-03") and not check_equal(3, 4)
    with pytest.raises(CheckFailed):
        check_equal(3, 4, raise_on_fail=True)

    def unfinished(x):
        raise NotImplementedError

    assert check_function(torch.relu, lambda x: x.clamp(min=0), cases=[torch.randn(5)])
    assert not check_function(unfinished, torch.relu, cases=[torch.randn(5)])
    assert not check_function(torch.sigmoid, torch.relu, cases=[torch.randn(5)])
    assert not check_function(lambda x: x[:2], torch.relu, cases=[torch.randn(5)])
