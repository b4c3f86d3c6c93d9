"""utils.metrics: exact match, bits per character, BLEU (sacreBLEU) and the official SQuAD v1.1 EM/F1."""
import math

import pytest

from utils.metrics import (
    bits_per_char,
    bleu,
    exact_match_rate,
    normalize_answer,
    squad_exact_match,
    squad_f1,
    squad_scores,
)


def test_exact_match_rate():
    assert exact_match_rate(["a", "b"], ["a", "c"]) == 0.5
    with pytest.raises(ValueError):
        exact_match_rate(["a"], ["a", "b"])


def test_bits_per_char():
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


@pytest.mark.parametrize("text, expected", [
    ("The Denver Broncos", "denver broncos"),            # lower case, article removed
    ("an apple a day", "apple day"),                      # a / an / the anywhere
    ("  Santa   Clara,\tCalifornia. ", "santa clara california"),  # punctuation, whitespace
    ("Levi's Stadium", "levis stadium"),                  # apostrophe is punctuation
    ("theatre", "theatre"),                               # only whole-word articles
    ("A", ""),
    ("24–10", "24–10"),                                   # the en dash is not ASCII punctuation
])
def test_normalize_answer_follows_the_official_script(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_after_normalisation():
    assert squad_exact_match("the Broncos!", "Broncos") == 1.0
    assert squad_exact_match("Denver Broncos", "Broncos") == 0.0


@pytest.mark.parametrize("prediction, gold, expected", [
    ("Denver Broncos", "Denver Broncos", 1.0),
    ("Broncos", "Denver Broncos", 2 / 3),                 # P = 1, R = 1/2
    ("Denver Broncos defeated", "the Broncos", 0.5),      # P = 1/3, R = 1
    ("Carolina Panthers", "Denver Broncos", 0.0),
    ("", "Denver Broncos", 0.0),
    ("1964 1964", "1964", 2 / 3),                         # bag of tokens: P = 1/2, R = 1
    ("w x y z", "y z u v", 0.5),
    ("a b c d", "c d e f", 4 / 7),                        # "a" is an article: P = 2/3, R = 2/4
])
def test_token_f1_values(prediction, gold, expected):
    assert squad_f1(prediction, gold) == pytest.approx(expected)


def test_scores_take_the_best_gold_answer_and_count_missing_predictions_as_wrong():
    records = [
        {"id": "1", "answers": {"text": ["Denver Broncos", "the Broncos", "Broncos"]}},
        {"id": "2", "answers": {"text": ["February 7, 2016", "February 7"]}},
        {"id": "3", "answers": {"text": ["Santa Clara"]}},
    ]
    predictions = {"1": "Broncos", "2": "7 February"}  # 3 is missing
    scores = squad_scores(predictions, records)
    assert scores["exact_match"] == pytest.approx(100 / 3)                 # only question 1
    assert scores["f1"] == pytest.approx(100 * (1 + 1 + 0) / 3)            # "7 February" vs "February 7": F1 1
    gold = {r["id"]: r["answers"]["text"][-1] for r in records}
    assert squad_scores(gold, records) == {"exact_match": 100.0, "f1": 100.0}

