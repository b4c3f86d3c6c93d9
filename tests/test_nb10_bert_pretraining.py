"""Notebook 10 (BERT pretraining): utils.models' source resolution, the masked-LM data rules,
and the exercise self-checks (each passes the reference solution and fails a wrong answer)."""
import os

import pytest
from utils.models import MODEL_DIR_VARIABLE, ModelUnavailable, minilm_path, resolve_model


# ----------------------------------------------------------------------------- utils.models
def test_explicit_path_wins(tmp_path, capsys):
    location, source = resolve_model("bert-base-uncased", path=tmp_path, offline="x", online=True)
    assert location == str(tmp_path) and source.kind == "path"
    assert "explicit path" in capsys.readouterr().out


def test_missing_explicit_path_says_what_to_do(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        resolve_model("bert-base-uncased", path=tmp_path / "nope", online=True)


def test_model_dir_then_hub_then_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(MODEL_DIR_VARIABLE, str(tmp_path))
    # not in the model folder, online: the hub, and the skipped folder is reported
    location, source = resolve_model("google/bert_uncased", offline="fallback", online=True, profile="study")
    out = capsys.readouterr().out
    assert (location, source.kind) == ("google/bert_uncased", "hub")
    assert "not in the model folder" in out
    # now present in the model folder (hub id with / as --)
    (tmp_path / "google--bert_uncased").mkdir()
    location, source = resolve_model("google/bert_uncased", offline="fallback", online=True)
    assert source.kind == "model_dir" and location.endswith("google--bert_uncased")


def test_offline_and_smoke_use_the_offline_default(monkeypatch, capsys):
    monkeypatch.delenv(MODEL_DIR_VARIABLE, raising=False)
    _, source = resolve_model("gpt2", offline="here", online=False)
    assert source.kind == "offline" and "hub skipped (offline)" in capsys.readouterr().out
    _, source = resolve_model("gpt2", offline="here", online=True, profile="smoke")
    assert source.kind == "offline" and "smoke" in capsys.readouterr().out


def test_no_offline_default_raises_a_clear_error(monkeypatch):
    monkeypatch.delenv(MODEL_DIR_VARIABLE, raising=False)
    with pytest.raises(ModelUnavailable, match="Connect to the internet"):
        resolve_model("bert-base-uncased", online=False)


def test_minilm_path_holds_an_uncased_wordpiece_tokenizer():
    folder = minilm_path()
    assert os.path.exists(os.path.join(folder, "vocab.txt"))
    assert os.path.exists(os.path.join(folder, "config.json"))


def test_load_pretrained_offline_minilm():
    from transformers import AutoModel
    from utils.models import load_pretrained

    model, tokenizer, source = load_pretrained("bert-base-uncased", model_class=AutoModel,
                                               offline=minilm_path(), online=False)
    assert source.kind == "offline" and not model.training
    assert tokenizer("Hello world")["input_ids"] == [101, 7592, 2088, 102]


# ----------------------------------------------------------------------------- BERT's input format
def test_bert_tokenizer_segment_layout_matches_the_reference_solution():
    from transformers import AutoTokenizer

    from solutions import nb10

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    a, b = "The fire crossed the highway.", "Residents were evacuated overnight."
    encoded = tokenizer(a, b)
    assert encoded["token_type_ids"] == nb10.segment_ids(len(tokenizer.tokenize(a)), len(tokenizer.tokenize(b)))
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    words = [[tokens[i] for i in group] for group in nb10.word_groups(tokens)]
    assert ["residents"] in words and all(not w[0].startswith("##") for w in words)


# ----------------------------------------------------------------------------- exercise self-checks
def test_exercise_1_fractions():
    from solutions import nb10
    from utils.checks import check_close

    assert check_close(0.12, nb10.FRACTION_MASKED)
    assert check_close(0.015, nb10.FRACTION_SELECTED_UNCHANGED)
    assert not check_close(0.8, nb10.FRACTION_MASKED)
    assert not check_close(0.1, nb10.FRACTION_SELECTED_UNCHANGED)
    assert not check_close(..., nb10.FRACTION_MASKED)


def test_exercise_2_segment_ids():
    from solutions import nb10
    from utils.checks import check_function

    cases = [(3, 2), (0, 4), (5, 0), (1, 1)]
    assert nb10.segment_ids(2, 1) == [0, 0, 0, 0, 1, 1]
    assert check_function(nb10.segment_ids, nb10.segment_ids, cases)
    off_by_one = lambda a, b: [0] * (a + 1) + [1] * (b + 2)  # the first [SEP] counted as segment B
    assert not check_function(off_by_one, nb10.segment_ids, cases)

    def unanswered(a, b):
        raise NotImplementedError

    assert not check_function(unanswered, nb10.segment_ids, cases)


def test_exercise_3_word_groups():
    from solutions import nb10
    from utils.checks import check_function

    cases = [(["[CLS]", "bush", "##fires", "spread", "[SEP]"],),
             (["[CLS]", "un", "##aff", "##able", "men", "[SEP]", "go", "##ul", "[SEP]", "[PAD]"],),
             (["a", "##b", "##c", "d"],)]
    assert nb10.word_groups(cases[0][0]) == [[1, 2], [3]]
    assert nb10.word_groups(cases[1][0]) == [[1, 2, 3], [4], [6, 7]]
    assert check_function(nb10.word_groups, nb10.word_groups, cases)
    one_per_token = lambda tokens: [[i] for i, t in enumerate(tokens) if not t.startswith("[")]
    assert not check_function(one_per_token, nb10.word_groups, cases)


def test_exercise_4_mean_reciprocal_rank():
    from solutions import nb10
    from utils.checks import check_function

    assert nb10.mean_reciprocal_rank([["a", "b", "c"], ["c", "b", "a"], ["b"]], ["c", "c", "b"]) == \
        pytest.approx((1 / 3 + 1 + 1) / 3)
    cases = [([["paris", "lyon"], ["rome", "milan"]], ["lyon", "turin"]),
             ([["a", "b", "c"], ["c", "b", "a"], ["b"]], ["c", "c", "b"])]
    assert check_function(nb10.mean_reciprocal_rank, nb10.mean_reciprocal_rank, cases)
    precision_at_1 = lambda rankings, answers: sum(r[0] == a for r, a in zip(rankings, answers, strict=True)) / len(answers)
    assert not check_function(precision_at_1, nb10.mean_reciprocal_rank, cases)
