"""The hub *models* the notebooks name, tested offline: a Hugging Face cache holding tiny stand-ins
with the real ids (``bert-base-uncased``, ``gpt2``), architectures and tokenizer types, so that
``load_pretrained``'s hub branch and what the notebooks do right after it (tokenize, forward,
``generate``, offsets for SQuAD) run in CI. A broken download must be reported, never replaced
silently. Each check runs in a fresh interpreter: ``huggingface_hub`` reads its cache folder and
offline switch once, at import."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from utils.data.pretrained import minilm_path
from utils.lessons import load_lesson

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def snapshot(cache: Path, hub_id: str) -> Path:
    """The folder ``from_pretrained(hub_id)`` reads inside a hub cache (models--org--name layout)."""
    repo = cache / ("models--" + hub_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    folder = repo / "snapshots" / COMMIT
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def bert_standin(folder: Path) -> None:
    """bert-base-uncased's architecture (BertForMaskedLM, its 30,522-entry uncased WordPiece
    vocabulary: the MiniLM package ships the same one), at a tiny width."""
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertForMaskedLM(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(folder)


def gpt2_standin(folder: Path) -> None:
    """gpt2's architecture (GPT2LMHeadModel, a byte-level BPE tokenizer with <|endoftext|>), tiny."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    text = ["First Citizen: Before we proceed any further, hear me speak.", "All: Speak, speak."] * 20
    bpe.train_from_iterator(text, trainers.BpeTrainer(vocab_size=400, special_tokens=["<|endoftext|>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = GPT2TokenizerFast(tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                  unk_token="<|endoftext|>")
    tokenizer.save_pretrained(folder)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(folder)


@pytest.fixture(scope="module")
def hub_ids():
    """The ids as the notebooks' parameters cells name them (not re-typed here)."""
    return {"probe": load_lesson("10_bert_pretraining", profile="smoke").PROBE_MODEL,
            "squad_full": load_lesson("11_bert_squad", profile="full").MODEL_NAME,
            "gpt2": load_lesson("12_gpt2_generation", profile="smoke").HUB_MODEL}


@pytest.fixture(scope="module")
def cache(tmp_path_factory, hub_ids):
    folder = tmp_path_factory.mktemp("hub-cache")
    bert_standin(snapshot(folder, hub_ids["probe"]))
    if hub_ids["squad_full"] != hub_ids["probe"]:
        bert_standin(snapshot(folder, hub_ids["squad_full"]))
    gpt2_standin(snapshot(folder, hub_ids["gpt2"]))
    return folder


def run_online_from_cache(cache: Path, script: str) -> dict:
    """Run ``script`` with the course online and huggingface_hub serving only ``cache``: the hub
    library is imported offline (so nothing is fetched), then the course is told it is online."""
    prelude = textwrap.dedent("""
        import json, os, sys
        os.environ["HF_HUB_OFFLINE"] = "1"
        import huggingface_hub, transformers            # both read the offline switch at import
        del os.environ["HF_HUB_OFFLINE"]
        os.environ["COURSE_ONLINE"] = "1"
        from utils.data.pretrained import ModelUnavailable, load_pretrained
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "COURSE_DATA_DIR")}
    env.update(HF_HUB_CACHE=str(cache), HF_HOME=str(cache.parent / "hf-home"), PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(script)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bert_from_the_hub_as_notebooks_10_and_11_use_it(cache, hub_ids):
    out = run_online_from_cache(cache, f"""
        import torch
        from transformers import AutoModelForQuestionAnswering, BertForMaskedLM
        mlm, tok, source = load_pretrained({hub_ids['probe']!r}, model_class=BertForMaskedLM)
        batch = tok("Paris is the capital of " + tok.mask_token + ".", return_tensors="pt")
        with torch.no_grad():
            logits = mlm(**batch).logits
        qa, qa_tok, qa_source = load_pretrained({hub_ids['squad_full']!r}, model_class=AutoModelForQuestionAnswering,
                                                attention_probs_dropout_prob=0.0)
        pair = qa_tok("Where is it?", "It is in Paris.", truncation="only_second", max_length=64,
                      return_offsets_mapping=True, return_tensors="pt")
        offsets = pair.pop("offset_mapping")
        with torch.no_grad():
            spans = qa(**pair)
        print(json.dumps({{"kinds": [source.kind, qa_source.kind], "vocab": len(tok.get_vocab()),
                          "logits": list(logits.shape), "fast": qa_tok.is_fast, "offsets": offsets.shape[-1],
                          "start": list(spans.start_logits.shape), "dropout": qa.config.attention_probs_dropout_prob}}))
    """)
    assert out["kinds"] == ["hub", "hub"]
    assert out["vocab"] == 30522 and out["logits"][-1] == 30522       # notebook 10 asserts the 30,522
    assert out["fast"] and out["offsets"] == 2 and out["start"][0] == 1 and out["dropout"] == 0.0


def test_gpt2_from_the_hub_as_notebook_12_uses_it(cache, hub_ids):
    out = run_online_from_cache(cache, f"""
        import math, torch
        from transformers import GPT2LMHeadModel
        gpt2, tok, source = load_pretrained({hub_ids['gpt2']!r}, model_class=GPT2LMHeadModel)
        ids = torch.tensor(tok("Before we proceed any further, hear me speak. " * 4)["input_ids"])
        with torch.no_grad():
            loss = float(gpt2(ids[None], labels=ids[None]).loss)
        prompt = tok("First Citizen:", return_tensors="pt")
        lengths = []
        for setting in (dict(do_sample=False), dict(do_sample=False, num_beams=3),
                        dict(do_sample=True, top_p=0.9, top_k=0), dict(do_sample=False, repetition_penalty=1.3)):
            out = gpt2.generate(**prompt, max_new_tokens=4, pad_token_id=tok.eos_token_id, **setting)
            lengths.append(out.shape[1] - prompt["input_ids"].shape[1])
        print(json.dumps({{"kind": source.kind, "loss": loss, "new": lengths, "text": tok.decode(ids[:5])}}))
    """)
    assert out["kind"] == "hub" and out["text"].startswith("Before we")
    assert 0 < out["loss"] < 20 and all(0 < n <= 4 for n in out["new"])


def test_a_broken_download_is_reported_not_replaced(tmp_path, hub_ids):
    folder = snapshot(tmp_path / "cache", hub_ids["gpt2"])
    gpt2_standin(folder)
    (folder / "model.safetensors").unlink()                # the weights never arrived
    out = run_online_from_cache(tmp_path / "cache", f"""
        from transformers import GPT2LMHeadModel
        try:
            load_pretrained({hub_ids['gpt2']!r}, model_class=GPT2LMHeadModel)
        except ModelUnavailable as error:
            print(json.dumps({{"error": str(error)}}))
        else:
            print(json.dumps({{"error": None}}))
    """)
    assert out["error"] and hub_ids["gpt2"] in out["error"], "a hub model that cannot load must stop with a reason"
