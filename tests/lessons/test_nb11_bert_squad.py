"""Notebook 11 (BERT on SQuAD): its own windows, labels, features, batched logits, n-best spans,
best span across windows and answers, tested on the notebook's definitions; its resumable run
folder; its EVAL_FILE parameter; and the exercise self-checks' power to reject wrong answers."""
import ast
import types

import numpy as np
import pytest
import torch
import torch.nn as nn

from utils.checks import Exercises
from utils.data.generated import templated_squad
from utils.lessons import code_cells, load_lesson, notebook_path
from utils.metrics import squad_f1

NOTEBOOK = "11_bert_squad"

MUTATIONS = [
    ("i <= j < i + max_answer_length", "j < i + max_answer_length",
     "the n-best spans of a window may end before they start"),
    ('if spans and spans[0][0] > best["score"]:', "if spans:",
     "the last window of a question wins instead of the highest-scoring one"),
    ("start = min(i for i in context if offsets[i][1] > answer_start)",
     "start = min(i for i in context if offsets[i][1] >= answer_start)",
     "the start label takes a token that ends where the answer begins"),
]


@pytest.fixture(scope="module")
def tiny_model(tiny_bert_config):
    """A small random BERT with a span head, on the MiniLM tokenizer's vocabulary."""
    from transformers import BertForQuestionAnswering

    torch.manual_seed(0)
    return BertForQuestionAnswering(tiny_bert_config).eval()


class Pointer(nn.Module):
    """A stand-in QA model whose start logit is high on one token id and end logit on another."""

    def __init__(self, start_id, end_id):
        super().__init__()
        self.start_id, self.end_id = start_id, end_id
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        return types.SimpleNamespace(start_logits=10.0 * (input_ids == self.start_id).float(),
                                     end_logits=10.0 * (input_ids == self.end_id).float())


PARAGRAPH = ("The Tokaido Shinkansen, the first high-speed railway line in Japan, opened on 1 October 1964, "
             "nine days before the Tokyo Olympic Games began. It links Tokyo with Shin-Osaka, a distance of "
             "about 515 kilometres. The first trains ran at up to 210 kilometres per hour.")


# ----------------------------------------------------------------------------- labels
def test_window_labels_on_known_offsets(nb):
    # [CLS] q [SEP] c0 c1 c2 c3 [SEP]; context tokens cover characters [0,3) [3,5) [6,9) [10,14)
    sequence_ids = [None, 0, None, 1, 1, 1, 1, None]
    offsets = [(0, 0), (0, 5), (0, 0), (0, 3), (3, 5), (6, 9), (10, 14), (0, 0)]
    assert nb.window_labels(offsets, sequence_ids, 3, 5) == (4, 4)     # a token that starts mid-word
    assert nb.window_labels(offsets, sequence_ids, 0, 9) == (3, 5)
    assert nb.window_labels(offsets, sequence_ids, 6, 14) == (5, 6)
    assert nb.window_labels(offsets, sequence_ids, 7, 8) == (5, 5)     # inside one token: round out
    assert nb.window_labels(offsets, sequence_ids, 10, 20) == (0, 0)   # runs past the window: [CLS]
    shifted = [(0, 0), (0, 5), (0, 0), (30, 33), (33, 35), (36, 39), (40, 44), (0, 0)]
    assert nb.window_labels(shifted, sequence_ids, 10, 14) == (0, 0)   # before the window: [CLS]


def test_window_labels_recover_the_answer_and_point_at_cls_outside(nb, tokenizer):
    records = templated_squad(40, seed=0)
    # short windows cut every context into several overlapping ones
    encoded = nb.tokenize_windows(tokenizer, [r["question"] for r in records], [r["context"] for r in records],
                                  max_length=48, stride=16)
    assert len(encoded["input_ids"]) > len(records)
    positives = negatives = 0
    for i, offsets in enumerate(encoded["offset_mapping"]):
        record = records[encoded["overflow_to_sample_mapping"][i]]
        a = record["answers"]["answer_start"][0]
        b = a + len(record["answers"]["text"][0])
        sequence_ids = encoded.sequence_ids(i)
        assert len(encoded["input_ids"][i]) <= 48
        start, end = nb.window_labels(offsets, sequence_ids, a, b)
        context = [k for k, s in enumerate(sequence_ids) if s == 1]
        inside = offsets[context[0]][0] <= a and b <= offsets[context[-1]][1]
        if (start, end) == (0, 0):
            negatives += 1
            assert not inside, "a window that holds the whole answer must not be labelled [CLS]"
        else:
            positives += 1
            assert start in context and end in context and start <= end
            assert record["context"][offsets[start][0]:offsets[end][1]] == record["answers"]["text"][0]
    assert positives >= len(records) and negatives > 0    # every short answer lies wholly in some window


def test_window_labels_on_the_shipped_real_questions(nb, tokenizer):
    # the offline study source: real SQuAD paragraphs, long enough to need several windows
    import random

    from utils.data.squad import read_shipped_slice

    records = random.Random(0).sample(read_shipped_slice(), 150)
    features = nb.prepare_train_features(records, tokenizer, 128, 32, negative_fraction=0.0)
    windows = nb.tokenize_windows(tokenizer, [r["question"] for r in records], [r["context"] for r in records], 128, 32)
    assert len(windows["input_ids"]) > 1.5 * len(records), "real paragraphs need several 128-token windows"
    assert len(features) >= len(records), "every answer lies wholly inside at least one window"
    exact = 0
    for i, offsets in enumerate(windows["offset_mapping"]):
        record = records[windows["overflow_to_sample_mapping"][i]]
        a = record["answers"]["answer_start"][0]
        answer = record["answers"]["text"][0]
        start, end = nb.window_labels(offsets, windows.sequence_ids(i), a, a + len(answer))
        if (start, end) != (0, 0):
            cut = record["context"][offsets[start][0]:offsets[end][1]]
            assert answer in cut and len(cut) <= len(answer) + 12, (answer, cut)   # at most rounded out to whole tokens
            exact += cut == answer
    assert exact >= 0.95 * len(features)


def test_train_features_keep_the_requested_share_of_answerless_windows(nb, tokenizer):
    records = templated_squad(30, seed=1)
    every = nb.prepare_train_features(records, tokenizer, 48, 16, negative_fraction=1.0)
    positives = nb.prepare_train_features(records, tokenizer, 48, 16, negative_fraction=0.0)
    windows = nb.tokenize_windows(tokenizer, [r["question"] for r in records], [r["context"] for r in records], 48, 16)
    assert len(every) == len(windows["input_ids"])
    assert 0 < len(positives) < len(every) and min(positives["start_positions"]) > 0
    assert sum(1 for s in every["start_positions"] if s > 0) == len(positives)
    assert set(every.column_names) == {"input_ids", "token_type_ids", "attention_mask",
                                       "start_positions", "end_positions"}


def test_eval_features_keep_offsets_of_context_tokens_only(nb, tokenizer):
    records = templated_squad(10, seed=2)
    features = nb.prepare_eval_features(records, tokenizer, 40, 12)
    windows = nb.tokenize_windows(tokenizer, [r["question"] for r in records], [r["context"] for r in records], 40, 12)
    assert len(features) == len(windows["input_ids"])
    for i in range(len(features)):
        record = records[windows["overflow_to_sample_mapping"][i]]
        assert features[i]["example_id"] == record["id"]
        kept = [o is not None for o in features[i]["offset_mapping"]]
        assert kept == [s == 1 for s in windows.sequence_ids(i)]


# ----------------------------------------------------------------------------- logits
def test_predict_logits_in_padded_batches_equal_one_window_at_a_time(nb, tokenizer, tiny_model):
    records = templated_squad(8, seed=3)
    features = nb.prepare_eval_features(records, tokenizer, 40, 12)
    lengths = [len(ids) for ids in features["input_ids"]]
    assert len(set(lengths)) > 1, "windows of different lengths, so batches need padding"
    tiny_model.train()
    starts, ends = nb.predict_logits(tiny_model, features, batch_size=5)
    assert tiny_model.training, "predict_logits must leave the model's mode as it found it"
    tiny_model.eval()
    assert [len(s) for s in starts] == lengths and [len(e) for e in ends] == lengths
    for i in range(len(features)):
        (alone_s,), (alone_e,) = nb.predict_logits(tiny_model, features.select([i]), batch_size=1)
        np.testing.assert_allclose(starts[i], alone_s, atol=1e-5)
        np.testing.assert_allclose(ends[i], alone_e, atol=1e-5)


# ----------------------------------------------------------------------------- spans
def test_top_spans_on_a_known_window(nb):
    offsets = [None, None, (0, 3), (4, 8), (9, 12), (13, 20), None]
    start = np.array([9.0, 0, 1, 0, 0, 4, 9])
    end = np.array([9.0, 0, 4, 0, 3, 0, 9])
    spans = nb.top_spans(start, end, offsets, 10, 3)
    assert spans[0] == (5.0, 2, 2)      # not (5, 2): it ends before it starts; [CLS]/[SEP] never
    assert (8.0, 5, 2) not in spans and all(offsets[s] and offsets[e] for _, s, e in spans)
    assert nb.top_spans(start, end, offsets, 10, 1) == [(5.0, 2, 2), (4.0, 5, 5), (3.0, 4, 4), (0.0, 3, 3)]


def test_top_spans_lie_inside_the_context_in_order_and_within_the_length(nb):
    rng = np.random.default_rng(0)
    for _trial in range(20):
        n = int(rng.integers(12, 60))
        offsets = [None] * 4 + [(k, k + 1) for k in range(n - 5)] + [None]
        start, end = rng.normal(size=n), rng.normal(size=n)
        max_len = int(rng.integers(1, 8))
        spans = nb.top_spans(start, end, offsets, 20, max_len)
        assert 0 < len(spans) <= 20
        for score, s, e in spans:
            assert offsets[s] is not None and offsets[e] is not None
            assert s <= e < s + max_len
            assert score == pytest.approx(start[s] + end[e])
        assert [x[0] for x in spans] == sorted((x[0] for x in spans), reverse=True)
        # with every token a candidate, the first span is the best valid pair, by brute force
        brute = max((start[s] + end[e], s, e) for s in range(n) for e in range(s, min(n, s + max_len))
                    if offsets[s] is not None and offsets[e] is not None)
        assert nb.top_spans(start, end, offsets, n, max_len)[0][1:] == brute[1:]


def _long_record():
    return {"id": "long", "title": "t", "question": "When did the line open?", "context": PARAGRAPH,
            "answers": {"text": ["1 October 1964"], "answer_start": [PARAGRAPH.index("1 October 1964")]}}


def test_the_best_span_across_windows_is_the_highest_scoring_one(nb, tokenizer):
    record = _long_record()
    features = nb.prepare_eval_features([record], tokenizer, 32, 8)
    n = len(features)
    assert n >= 3
    rng = np.random.default_rng(1)
    for _trial in range(10):
        starts = [rng.normal(size=len(ids)) for ids in features["input_ids"]]
        ends = [rng.normal(size=len(ids)) for ids in features["input_ids"]]
        chosen = int(rng.integers(0, n - 1))          # never the last window
        offsets = features[chosen]["offset_mapping"]
        token = next(k for k, o in enumerate(offsets) if o is not None)
        starts[chosen][token] += 20.0
        ends[chosen][token] += 20.0
        p = nb.postprocess_predictions([record], features, starts, ends, 5, 4)["long"]
        best = max((spans[0], w) for w in range(n)
                   for spans in [nb.top_spans(starts[w], ends[w], features[w]["offset_mapping"], 5, 4)] if spans)
        (score, s, e), w = best
        assert w == chosen and p["score"] == pytest.approx(score)
        assert (p["start"], p["end"]) == (features[w]["offset_mapping"][s][0], features[w]["offset_mapping"][e][1])


def test_postprocessing_cuts_the_answer_text_from_the_context(nb, tokenizer):
    records = templated_squad(12, seed=3)
    features = nb.prepare_eval_features(records, tokenizer, max_length=40, stride=12)
    rng = np.random.default_rng(0)
    starts = [rng.normal(size=len(ids)) for ids in features["input_ids"]]
    ends = [rng.normal(size=len(ids)) for ids in features["input_ids"]]
    unseen = {"id": "no windows", "context": "nothing", "question": "?"}
    predictions = nb.postprocess_predictions(records + [unseen], features, starts, ends, 5, 4)
    assert set(predictions) == {r["id"] for r in records} | {"no windows"}
    assert predictions["no windows"]["text"] == ""
    for r in records:
        p = predictions[r["id"]]
        assert 0 <= p["start"] < p["end"] <= len(r["context"])
        assert p["text"] == r["context"][p["start"]:p["end"]]


def test_answer_question_end_to_end_on_the_real_tokenizer(nb, tokenizer):
    start_id, end_id = tokenizer.convert_tokens_to_ids(["october", "1964"])
    model = Pointer(start_id, end_id)
    windows = nb.prepare_eval_features([_long_record()], tokenizer, 32, 8)
    assert len(windows) >= 3, "the answer must be found in one of several windows"
    answer = nb.answer_question(model, tokenizer, "When did the line open?", PARAGRAPH, 32, 8, 20, 30)
    assert answer["text"] == "October 1964" == PARAGRAPH[answer["start"]:answer["end"]]
    # the question's own tokens never make an answer, even where they score highest
    question = "Was it October 1964?"
    answer = nb.answer_question(model, tokenizer, question, PARAGRAPH, 64, 16, 20, 30)
    assert answer["text"] == "October 1964"


def test_answer_question_with_the_notebooks_model(nb):
    model, tokenizer, source = nb.load_model()
    answer = nb.answer_question(model, tokenizer, "How long is the line?", PARAGRAPH, nb.MAX_LENGTH,
                                nb.DOC_STRIDE, nb.N_BEST, nb.MAX_ANSWER_LENGTH)
    assert answer["text"] and answer["text"] == PARAGRAPH[answer["start"]:answer["end"]]
    assert len(tokenizer.tokenize(answer["text"])) <= nb.MAX_ANSWER_LENGTH


# ----------------------------------------------------------------------------- Trainer plumbing
def test_length_grouping_and_mixed_precision_make_valid_training_arguments(nb, tmp_path):
    from transformers import TrainingArguments

    cpu = torch.device("cpu")
    assert nb.mixed_precision("auto", cpu) == {"bf16": False, "fp16": False}
    assert nb.mixed_precision("bf16", cpu) == {"bf16": True, "fp16": False}
    assert nb.mixed_precision("fp16", cpu) == {"bf16": False, "fp16": True}
    with pytest.raises(ValueError):
        nb.mixed_precision("int8", cpu)
    arguments = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none",
                                  **nb.length_grouping(), **nb.mixed_precision("no", cpu))
    grouped = getattr(arguments, "train_sampling_strategy", None) == "group_by_length" or \
        getattr(arguments, "group_by_length", False) is True
    assert grouped


def test_auto_precision_on_a_cpu_follows_the_measured_speedup(nb):
    cpu, apple = torch.device("cpu"), torch.device("mps")   # "mps": no timing there, so no bf16
    assert nb.mixed_precision("auto", cpu, cpu_bf16_speedup=1.5) == {"bf16": True, "fp16": False}
    assert nb.mixed_precision("auto", cpu, cpu_bf16_speedup=1.1) == {"bf16": False, "fp16": False}
    assert nb.mixed_precision("auto", cpu, cpu_bf16_speedup=None) == {"bf16": False, "fp16": False}
    assert nb.mixed_precision("auto", apple, cpu_bf16_speedup=3.0) == {"bf16": False, "fp16": False}
    assert nb.mixed_precision("no", cpu, cpu_bf16_speedup=3.0) == {"bf16": False, "fp16": False}


def test_timing_a_training_step_changes_no_weight(nb, tokenizer, tiny_model):
    from transformers import DataCollatorWithPadding

    record = {"question": "When did the line open?", "context": PARAGRAPH,
              "answers": {"text": ["1 October 1964"], "answer_start": [PARAGRAPH.index("1 October 1964")]}}
    features = nb.prepare_train_features([record] * 4, tokenizer, 64, 16)
    batch = DataCollatorWithPadding(tokenizer)([features[i] for i in range(len(features))])
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    for bf16 in (False, True):
        seconds = nb.seconds_per_training_step(tiny_model, batch, bf16, repeats=2)
        assert 0 < seconds < 60
    assert all(torch.equal(before[k], v) for k, v in tiny_model.state_dict().items())
    assert all(p.grad is None for p in tiny_model.parameters()), "the timing's gradients must be thrown away"


def test_logits_during_training_keeps_the_chosen_steps_without_the_scoring_time(nb, tokenizer, tiny_model):
    import time

    records = [{"id": "q0", "question": "When did the line open?", "context": PARAGRAPH,
                "answers": {"text": ["1 October 1964"], "answer_start": [0]}}]
    features = nb.prepare_eval_features(records, tokenizer, 64, 16)
    callback = nb.LogitsDuringTraining(features, steps=[2, 4], bf16=False)
    state = types.SimpleNamespace(global_step=0)
    callback.on_train_begin(None, state, None)
    for step in range(1, 5):
        time.sleep(0.05)                       # a "training step"
        state.global_step = step
        callback.on_step_end(None, state, None, model=tiny_model)
    assert [step for step, _, _ in callback.points] == [2, 4]
    starts, ends = callback.points[-1][2]
    assert len(starts) == len(features) and len(starts[0]) == len(features[0]["input_ids"])
    assert 0.2 <= callback.train_seconds < 0.2 + 0.15 and callback.points[0][1] < callback.points[1][1]


def test_a_changed_training_parameter_starts_a_new_run(nb, tmp_path):
    config = {"learning_rate": 1.5e-4, "epochs": 1, "train_windows": 3000, "model": "m"}
    run_dir = nb.open_run_dir(tmp_path / "run", config, start_fresh=True)
    (run_dir / "checkpoint-4").mkdir()
    # the same configuration, not fresh: the checkpoint stays, to be resumed
    assert (nb.open_run_dir(tmp_path / "run", dict(config), start_fresh=False) / "checkpoint-4").exists()
    for name, value in [("learning_rate", 3e-5), ("epochs", 2), ("train_windows", 64), ("model", "other")]:
        (run_dir / "checkpoint-4").mkdir(exist_ok=True)
        changed = {**config, name: value}
        again = nb.open_run_dir(tmp_path / "run", changed, start_fresh=False)
        assert not (again / "checkpoint-4").exists(), f"a checkpoint made with another {name} must not be resumed"
        nb.open_run_dir(tmp_path / "run", config, start_fresh=True)
    (run_dir / "checkpoint-4").mkdir()
    assert not (nb.open_run_dir(tmp_path / "run", config, start_fresh=True) / "checkpoint-4").exists()


# ----------------------------------------------------------------------------- EVAL_FILE
def test_eval_file_is_set_in_the_parameters_cell_only():
    assigned = []
    for cell in code_cells(notebook_path(NOTEBOOK)):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Name) and node.id == "EVAL_FILE" and isinstance(node.ctx, ast.Store):
                assigned.append(cell.index)
    parameters = [c.index for c in code_cells(notebook_path(NOTEBOOK)) if c.is_parameters]
    assert assigned == parameters, "only the parameters cell may set EVAL_FILE, so -p EVAL_FILE ... holds"
    given = load_lesson(NOTEBOOK, profile="smoke", parameters={"EVAL_FILE": "my.json"})
    assert given.EVAL_FILE == "my.json"
    reads = [c.index for c in code_cells(notebook_path(NOTEBOOK)) if not c.is_parameters
             and any(isinstance(n, ast.Name) and n.id == "EVAL_FILE" and isinstance(n.ctx, ast.Load)
                     for n in ast.walk(ast.parse(c.source)))]
    assert reads, "the evaluation must read the file EVAL_FILE names"


# ----------------------------------------------------------------------------- exercises
@pytest.fixture(scope="module")
def exercises():
    return Exercises(NOTEBOOK)


def test_exercise_token_f1_check_rejects_a_wrong_answer(exercises):
    import solutions.nb11 as reference

    cases = exercises.cases("token_f1_cases")
    for case in cases:
        assert reference.token_f1(*case) == pytest.approx(squad_f1(*case))
    assert exercises.check_function(reference.token_f1, cases)

    def without_normalisation(prediction, gold):
        p, g = prediction.split(), gold.split()
        common = len(set(p) & set(g))
        return 0.0 if common == 0 else 2 * common / (len(p) + len(g))

    assert not exercises.check_function(without_normalisation, cases, name="token_f1")


def test_exercise_count_windows_matches_the_notebooks_windows(nb, tokenizer, exercises):
    import solutions.nb11 as reference

    for n, q, length, stride in exercises.cases("window_cases") + [(150, 5, 64, 16), (1, 3, 40, 20)]:
        windows = nb.tokenize_windows(tokenizer, [" ".join(["dog"] * q)], [" ".join(["cat"] * n)], length, stride)
        assert len(windows["input_ids"]) == reference.count_windows(n, q, length, stride)

    def without_overlap(n, q, length, stride):
        return -(-n // (length - q - 3))

    assert not exercises.check_function(without_overlap, exercises.cases("window_cases"), name="count_windows")


def test_exercise_best_span_check_rejects_wrong_answers(nb, exercises):
    import solutions.nb11 as reference

    cases = exercises.cases("span_cases")
    for start, end, max_len in cases:          # the reference agrees with the notebook's n-best
        offsets = [(k, k + 1) for k in range(len(start))]
        (_, s, e), = nb.top_spans(start.numpy(), end.numpy(), offsets, len(start), max_len)[:1]
        assert reference.best_span(start, end, max_len) == (s, e)

    def independent_argmax(start, end, max_answer_length):
        return int(start.argmax()), int(end.argmax())

    def no_length_limit(start, end, max_answer_length):
        return reference.best_span(start, end, 10_000)

    def stub(start, end, max_answer_length):
        raise NotImplementedError

    for wrong in (independent_argmax, no_length_limit, stub):
        assert not exercises.check_function(wrong, cases, name="best_span")
