"""utils.data.pretrained: the source chain for hub models (path, data folder, hub, offline default)."""
import os

import pytest
import torch

from utils.data.pretrained import (
    SMOLLM2_GGUF,
    ModelUnavailable,
    load_pretrained,
    locate_pretrained,
    minilm_path,
    smollm2_path,
)


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "1")


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "0")


def test_explicit_path_wins(tmp_path, online, capsys):
    location, source = locate_pretrained("bert-base-uncased", path=tmp_path, offline="x")
    assert location == str(tmp_path) and source.kind == "path"
    assert "explicit path" in capsys.readouterr().out


def test_missing_explicit_path_says_what_to_do(tmp_path, online):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        locate_pretrained("bert-base-uncased", path=tmp_path / "nope")


def test_data_folder_then_hub_then_offline(tmp_path, online, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    # not in the data folder, online: the hub, and the skipped folder is reported
    location, source = locate_pretrained("google/bert_uncased", offline="fallback")
    out = capsys.readouterr().out
    assert (location, source.kind) == ("google/bert_uncased", "hub")
    assert "not in the data folder" in out and "models/google--bert_uncased" in out
    # now present in the data folder (hub id with / as --)
    (tmp_path / "models" / "google--bert_uncased").mkdir(parents=True)
    location, source = locate_pretrained("google/bert_uncased", offline="fallback")
    assert source.kind == "data_dir" and location.endswith("google--bert_uncased")


def test_offline_uses_the_offline_default(offline, capsys):
    location, source = locate_pretrained("gpt2", offline="here")
    assert (location, source.kind) == ("here", "offline")
    assert "hub gpt2 skipped (offline)" in capsys.readouterr().out


def test_no_offline_default_raises_a_clear_error(offline):
    with pytest.raises(ModelUnavailable, match="connect to the internet"):
        locate_pretrained("bert-base-uncased")


def test_a_failing_hub_load_is_reported_and_the_offline_default_used(online, capsys):
    from transformers import AutoModel

    calls = []

    class Flaky(AutoModel):
        @classmethod
        def from_pretrained(cls, where, **kwargs):
            calls.append(where)
            if where == "no-such/model":
                raise OSError("repository not found")
            return AutoModel.from_pretrained(where, **kwargs)

    model, tokenizer, source = load_pretrained("no-such/model", model_class=Flaky, offline=minilm_path())
    assert source.kind == "offline" and calls == ["no-such/model", minilm_path()]
    assert "failed (OSError: repository not found)" in capsys.readouterr().out


def test_minilm_path_holds_an_uncased_wordpiece_tokenizer():
    folder = minilm_path()
    assert os.path.exists(os.path.join(folder, "vocab.txt"))
    assert os.path.exists(os.path.join(folder, "config.json"))


def test_load_pretrained_offline_minilm(offline):
    from transformers import AutoModel

    model, tokenizer, source = load_pretrained("bert-base-uncased", model_class=AutoModel,
                                               offline=minilm_path())
    assert source.kind == "offline" and not model.training
    assert tokenizer("Hello world")["input_ids"] == [101, 7592, 2088, 102]


def test_offline_kwargs_go_to_the_offline_default_only(offline):
    calls = []

    class Recorder:
        @classmethod
        def from_pretrained(cls, where, **kwargs):
            calls.append((where, kwargs))
            if where != "the-offline-folder":
                raise OSError("not here")
            return torch.nn.Linear(1, 1)

    model, tokenizer, source = load_pretrained("gpt2", model_class=Recorder, offline="the-offline-folder",
                                               tokenizer=False, offline_kwargs={"gguf_file": "model.gguf"},
                                               torch_dtype="float32")
    assert source.kind == "offline" and tokenizer is None and not model.training
    assert calls == [("the-offline-folder", {"torch_dtype": "float32", "gguf_file": "model.gguf"})]
    assert "model.gguf" in str(source)


def test_smollm2_path_holds_its_gguf_file():
    folder = smollm2_path()
    assert os.path.isfile(os.path.join(folder, SMOLLM2_GGUF))
    assert os.path.getsize(os.path.join(folder, SMOLLM2_GGUF)) > 50e6, "the 135M weights, 4-bit"
