"""Extractive question answering (SQuAD v1.1) infrastructure shared by notebooks 11 and 13.

The lesson itself (what a window is, how a label is found, how a span is scored) is taught in
``notebooks/11_bert_squad.ipynb``, which checks that its own cells agree with these functions.
Here is the plumbing that turns records into model inputs and logits back into answers (the
model itself comes from ``utils.models.load_pretrained`` with ``AutoModelForQuestionAnswering``):

- :func:`prepare_train_features` / :func:`prepare_eval_features`: question + context into
  windows of ``max_length`` tokens that overlap by ``stride`` tokens, with offset mappings;
- :func:`window_labels`: the start/end token of the answer in a window, or ``(0, 0)`` ([CLS])
  when the answer is not wholly inside it;
- :func:`predict_logits`: start/end logits of every window (batched, padded per batch);
- :func:`best_spans` / :func:`postprocess_predictions`: the n-best spans of every window of a
  question, the best one over all its windows, as text cut from the context;
- :func:`answer_question`: all of it for one question about one paragraph;
- :func:`length_grouping` / :func:`mixed_precision`: ``TrainingArguments`` keywords that work on
  transformers 4.46+ and 5.x.
"""
from __future__ import annotations

import collections
import random

import numpy as np


# ----------------------------------------------------------------------------- features
def tokenize_windows(tokenizer, questions, contexts, max_length: int, stride: int):
    """Question + context pairs into windows of at most ``max_length`` tokens.

    Only the context is cut (``truncation="only_second"``); consecutive windows of one context
    share ``stride`` tokens. ``overflow_to_sample_mapping`` says which pair a window came from,
    ``offset_mapping`` which characters each token covers.
    """
    return tokenizer(
        [q.lstrip() for q in questions], list(contexts), truncation="only_second",
        max_length=max_length, stride=stride, return_overflowing_tokens=True,
        return_offsets_mapping=True, padding=False)


def window_labels(offsets, sequence_ids, answer_start: int, answer_end: int) -> tuple[int, int]:
    """Token indices (start, end) of the answer characters ``[answer_start, answer_end)`` in one
    window, or ``(0, 0)`` (the [CLS] token) when the answer is not wholly inside the window."""
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    first, last = context[0], context[-1]
    if offsets[first][0] > answer_start or offsets[last][1] < answer_end:
        return 0, 0
    start = first
    while start <= last and offsets[start][1] <= answer_start:
        start += 1
    end = last
    while end >= first and offsets[end][0] >= answer_end:
        end -= 1
    return start, end


def prepare_train_features(records, tokenizer, max_length: int = 384, stride: int = 128,
                           negative_fraction: float = 1.0, seed: int = 0):
    """Training windows with ``start_positions``/``end_positions`` (a ``datasets.Dataset``).

    Windows that do not hold the answer are labelled [CLS] (0, 0); only ``negative_fraction`` of
    them is kept (1.0: all, as in BERT; less spends the compute on windows with an answer).
    """
    from datasets import Dataset

    encoded = tokenize_windows(tokenizer, [r["question"] for r in records],
                               [r["context"] for r in records], max_length, stride)
    rng = random.Random(seed)
    keep = collections.defaultdict(list)
    for i, offsets in enumerate(encoded["offset_mapping"]):
        record = records[encoded["overflow_to_sample_mapping"][i]]
        answer_start = record["answers"]["answer_start"][0]
        answer_end = answer_start + len(record["answers"]["text"][0])
        start, end = window_labels(offsets, encoded.sequence_ids(i), answer_start, answer_end)
        if start == 0 and end == 0 and rng.random() >= negative_fraction:
            continue
        for key in encoded.keys():
            if key not in ("offset_mapping", "overflow_to_sample_mapping"):
                keep[key].append(encoded[key][i])
        keep["start_positions"].append(start)
        keep["end_positions"].append(end)
    return Dataset.from_dict(dict(keep))


def prepare_eval_features(records, tokenizer, max_length: int = 384, stride: int = 128):
    """Every window of every question, with ``example_id`` and offsets of context tokens only
    (``None`` for question and special tokens, so no answer can be cut from them)."""
    from datasets import Dataset

    encoded = tokenize_windows(tokenizer, [r["question"] for r in records],
                               [r["context"] for r in records], max_length, stride)
    columns = collections.defaultdict(list)
    for i, offsets in enumerate(encoded["offset_mapping"]):
        sequence_ids = encoded.sequence_ids(i)
        for key in encoded.keys():
            if key not in ("offset_mapping", "overflow_to_sample_mapping"):
                columns[key].append(encoded[key][i])
        columns["example_id"].append(records[encoded["overflow_to_sample_mapping"][i]]["id"])
        columns["offset_mapping"].append([tuple(o) if s == 1 else None
                                          for o, s in zip(offsets, sequence_ids, strict=True)])
    return Dataset.from_dict(dict(columns))


MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def predict_logits(model, features, batch_size: int = 64, device=None):
    """Start and end logits of every window: two lists of 1-D NumPy arrays, one per feature,
    each as long as that window (windows are batched by length and padded per batch)."""
    import torch

    device = device or next(model.parameters()).device
    names = [k for k in MODEL_INPUTS if k in features.column_names]
    columns = {k: features[k] for k in names}
    lengths = [len(ids) for ids in columns["input_ids"]]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    starts, ends = [None] * len(order), [None] * len(order)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            chunk = order[b:b + batch_size]
            width = max(lengths[i] for i in chunk)
            batch = {k: torch.tensor([columns[k][i] + [0] * (width - lengths[i]) for i in chunk],
                                     device=device) for k in names}
            out = model(**batch)
            s, e = out.start_logits.float().cpu().numpy(), out.end_logits.float().cpu().numpy()
            for row, i in enumerate(chunk):
                starts[i], ends[i] = s[row, :lengths[i]], e[row, :lengths[i]]
    model.train(was_training)
    return starts, ends


# ----------------------------------------------------------------------------- answers
def best_spans(start_logits, end_logits, offsets, n_best: int = 20, max_answer_length: int = 30):
    """The ``n_best`` highest-scoring valid spans of one window as ``(score, start, end)``.

    score = start_logit[start] + end_logit[end] for context tokens start <= end < start +
    max_answer_length. Only the ``n_best`` best starts and ends are combined (as in BERT's code).
    """
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)
    top_starts = np.argsort(start_logits)[::-1][:n_best]
    top_ends = np.argsort(end_logits)[::-1][:n_best]
    spans = []
    for s in top_starts:
        for e in top_ends:
            if s >= len(offsets) or e >= len(offsets) or offsets[s] is None or offsets[e] is None:
                continue
            if e < s or e - s + 1 > max_answer_length:
                continue
            spans.append((float(start_logits[s] + end_logits[e]), int(s), int(e)))
    spans.sort(key=lambda span: -span[0])
    return spans[:n_best]


def postprocess_predictions(records, features, start_logits, end_logits, n_best: int = 20,
                            max_answer_length: int = 30):
    """The best answer of every question over all its windows.

    Returns ``{id: {"text", "start", "end", "score"}}`` where ``text == context[start:end]``
    (character offsets into the question's context). A question none of whose windows has a
    valid span gets the empty answer.
    """
    windows = collections.defaultdict(list)
    for i, example_id in enumerate(features["example_id"]):
        windows[example_id].append(i)
    offsets_of = features["offset_mapping"]
    predictions = {}
    for record in records:
        best = {"text": "", "start": 0, "end": 0, "score": float("-inf")}
        for i in windows.get(record["id"], []):
            offsets = offsets_of[i]
            for score, s, e in best_spans(start_logits[i], end_logits[i], offsets, n_best,
                                          max_answer_length)[:1]:
                if score > best["score"]:
                    start, end = offsets[s][0], offsets[e][1]
                    best = {"text": record["context"][start:end], "start": start, "end": end,
                            "score": score}
        predictions[record["id"]] = best
    return predictions


def answer_question(model, tokenizer, question: str, context: str, max_length: int = 384,
                    stride: int = 128, n_best: int = 20, max_answer_length: int = 30) -> dict:
    """Answer one question about one context: ``{"text", "start", "end", "score"}``."""
    record = {"id": "q", "question": question, "context": context}
    features = prepare_eval_features([record], tokenizer, max_length, stride)
    starts, ends = predict_logits(model, features)
    return postprocess_predictions([record], features, starts, ends, n_best, max_answer_length)["q"]


# ----------------------------------------------------------------------------- Trainer
def length_grouping() -> dict:
    """``TrainingArguments`` keywords that put windows of similar length in one batch (less
    padding): ``train_sampling_strategy="group_by_length"`` on transformers 5.x,
    ``group_by_length=True`` on 4.x."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    if "train_sampling_strategy" in names:
        return {"train_sampling_strategy": "group_by_length"}
    return {"group_by_length": True}


def mixed_precision(choice: str, device) -> dict:
    """``{"bf16": ..., "fp16": ...}`` for ``TrainingArguments`` from ``"no"``, ``"bf16"``,
    ``"fp16"`` or ``"auto"`` (bf16 on a GPU that has it, else fp16 on a GPU, else none)."""
    import torch

    if choice not in ("no", "bf16", "fp16", "auto"):
        raise ValueError(f"mixed precision {choice!r}: use 'no', 'bf16', 'fp16' or 'auto'")
    if choice == "auto":
        if getattr(device, "type", str(device)) == "cuda":
            choice = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            choice = "no"
    return {"bf16": choice == "bf16", "fp16": choice == "fp16"}
