"""Teaching claims of notebook 11 (BERT on SQuAD) tested outside the notebook: the official
SQuAD v1.1 EM/F1 on known cases, the window/label/span plumbing of utils.qa, and the
exercise self-checks (each passes the reference solution and fails a wrong answer)."""
import json
import math
import os

import pytest
import torch

import solutions.nb11 as reference
from utils.checks import CheckFailed, check_function
from utils.metrics import normalize_answer, squad_exact_match, squad_f1, squad_scores


# ----------------------------------------------------------------------------- official metric
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


# ----------------------------------------------------------------------------- utils.qa
@pytest.fixture(scope="module")
def tokenizer():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer
    from utils.models import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path())


def _records(n=40, seed=0):
    from utils.generated import templated_squad

    return templated_squad(n, seed=seed)


def test_window_labels_recover_the_answer_and_point_at_cls_outside(tokenizer):
    from utils.qa import prepare_train_features, tokenize_windows, window_labels

    records = _records()
    # a short window forces contexts into several overlapping windows
    encoded = tokenize_windows(tokenizer, [r["question"] for r in records],
                               [r["context"] for r in records], max_length=48, stride=16)
    assert len(encoded["input_ids"]) > len(records)
    positives = negatives = 0
    for i, offsets in enumerate(encoded["offset_mapping"]):
        record = records[encoded["overflow_to_sample_mapping"][i]]
        start_char = record["answers"]["answer_start"][0]
        end_char = start_char + len(record["answers"]["text"][0])
        sequence_ids = encoded.sequence_ids(i)
        start, end = window_labels(offsets, sequence_ids, start_char, end_char)
        if (start, end) == (0, 0):
            negatives += 1
            context = [k for k, s in enumerate(sequence_ids) if s == 1]
            inside = offsets[context[0]][0] <= start_char and end_char <= offsets[context[-1]][1]
            assert not inside
        else:
            positives += 1
            assert record["context"][offsets[start][0]:offsets[end][1]] == record["answers"]["text"][0]
    assert positives >= len(records) and negatives > 0
    features = prepare_train_features(records, tokenizer, 48, 16, negative_fraction=0.0)
    assert len(features) == positives and min(features["start_positions"]) > 0


def test_best_spans_respect_order_length_and_context():
    from utils.qa import best_spans

    offsets = [None, None, (0, 3), (4, 8), (9, 12), (13, 20), None]
    start = torch.tensor([9.0, 0, 1, 0, 0, 4, 9]).numpy()
    end = torch.tensor([9.0, 0, 4, 0, 3, 0, 9]).numpy()
    spans = best_spans(start, end, offsets, n_best=10, max_answer_length=3)
    assert spans[0] == (5.0, 2, 2)           # (5, 2) would be end before start; [CLS]/[SEP] never
    assert all(s <= e < s + 3 and offsets[s] and offsets[e] for _, s, e in spans)
    assert [round(x[0], 6) for x in spans] == sorted((round(x[0], 6) for x in spans), reverse=True)


def test_postprocess_cuts_answers_from_their_context(tokenizer):
    import numpy as np

    from utils.qa import postprocess_predictions, prepare_eval_features

    records = _records(12, seed=3)
    features = prepare_eval_features(records, tokenizer, max_length=40, stride=12)
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=len(ids)) for ids in features["input_ids"]]
    ends = [rng.normal(size=len(ids)) for ids in features["input_ids"]]
    predictions = postprocess_predictions(records, features, starts, ends, n_best=5, max_answer_length=4)
    assert set(predictions) == {r["id"] for r in records}
    for r in records:
        p = predictions[r["id"]]
        assert 0 <= p["start"] < p["end"] <= len(r["context"])
        assert p["text"] == r["context"][p["start"]:p["end"]]


def test_read_squad_file_takes_official_json(tmp_path):
    from utils.data import read_squad_file

    official = {"version": "1.1", "data": [{"title": "T", "paragraphs": [{
        "context": "Tokyo is in Japan.",
        "qas": [{"id": "q1", "question": "Where is Tokyo?",
                 "answers": [{"text": "Japan", "answer_start": 12}]}]}]}]}
    path = tmp_path / "own.json"
    path.write_text(json.dumps(official), encoding="utf-8")
    (record,) = read_squad_file(path)
    assert record["context"][12:17] == "Japan" and record["answers"]["text"] == ["Japan"]


# ----------------------------------------------------------------------------- exercises
def test_exercise_token_f1_check():
    assert check_function(reference.token_f1, reference.token_f1, reference.TOKEN_F1_CASES)
    for case in reference.TOKEN_F1_CASES:
        assert reference.token_f1(*case) == pytest.approx(squad_f1(*case))

    def without_normalisation(prediction, gold):
        p, g = prediction.split(), gold.split()
        common = len(set(p) & set(g))
        return 0.0 if common == 0 else 2 * common / (len(p) + len(g))

    with pytest.raises(CheckFailed):
        check_function(without_normalisation, reference.token_f1, reference.TOKEN_F1_CASES,
                       raise_on_fail=True)


def test_exercise_count_windows_matches_the_tokenizer(tokenizer):
    for n, q, length, stride in reference.WINDOW_CASES + [(150, 5, 64, 16), (1, 3, 40, 20)]:
        encoded = tokenizer(" ".join(["dog"] * q), " ".join(["cat"] * n), truncation="only_second",
                            max_length=length, stride=stride, return_overflowing_tokens=True)
        assert len(encoded["input_ids"]) == reference.count_windows(n, q, length, stride)
    assert check_function(reference.count_windows, reference.count_windows, reference.WINDOW_CASES)

    def without_overlap(n, q, length, stride):
        return math.ceil(n / (length - q - 3))

    assert not check_function(without_overlap, reference.count_windows, reference.WINDOW_CASES)


def test_exercise_best_span_check():
    assert check_function(reference.best_span, reference.best_span, reference.SPAN_CASES)

    def independent_argmax(start, end, max_answer_length):
        return int(start.argmax()), int(end.argmax())

    def no_length_limit(start, end, max_answer_length):
        return reference.best_span(start, end, 10_000)

    assert not check_function(independent_argmax, reference.best_span, reference.SPAN_CASES)
    assert not check_function(no_length_limit, reference.best_span, reference.SPAN_CASES)

    def stub(start, end, max_answer_length):
        raise NotImplementedError

    assert not check_function(stub, reference.best_span, reference.SPAN_CASES)
