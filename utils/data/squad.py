"""SQuAD v1.1: the hub's rajpurkar/squad, a local file (official JSON or JSON lines), or offline
the slice of real SQuAD questions that the course ships in data/squad/ (or, for a smoke-size
check, generated questions in the same format)."""
from __future__ import annotations

import json
import random
from pathlib import Path

from utils.data import (
    SHIPPED_DATA,
    DataUnavailable,
    expect_schema,
    load_hub_dataset,
    read_shipped,
    read_text,
    resolve,
)


def read_squad_file(path: Path) -> list[dict]:
    """Read SQuAD-format questions into flat records
    ``{id, title, context, question, answers: {text: [...], answer_start: [...]}}``.

    Takes the official nested JSON (``{"data": [{"title", "paragraphs": [...]}]}``) or JSON
    lines in the hub's flat schema, optionally gzipped. Every answer must be a span of its
    context (``context[answer_start:answer_start + len(text)] == text``); a file that breaks the
    format stops with an error naming the question.
    """
    path = Path(path)
    text = read_text(path, "SQuAD file")
    try:
        if text.lstrip().startswith("{") and '"data"' in text[:2000] and '"paragraphs"' in text:
            records = []
            for article in json.loads(text)["data"]:
                for para in article["paragraphs"]:
                    for qa in para["qas"]:
                        answers = qa.get("answers")
                        records.append({
                            "id": qa["id"], "title": article.get("title", ""), "context": para["context"],
                            "question": qa["question"],
                            "answers": None if answers is None else {
                                "text": [a["text"] for a in answers],
                                "answer_start": [a["answer_start"] for a in answers]}})
        else:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise DataUnavailable(f"{path} is not valid SQuAD JSON (line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg}). Expected the official nested JSON or one JSON record per "
                              "line.") from None
    except (KeyError, TypeError) as exc:
        raise DataUnavailable(f"{path}: the official format needs data[].paragraphs[].qas[] with id, "
                              f"question and answers; missing {exc}.") from None
    for r in records:
        check_squad_record(r, path)
        r.setdefault("title", "")
    return records


def check_squad_record(record: dict, where) -> None:
    """Raise ``DataUnavailable`` if ``record`` is not a flat SQuAD record with answers in its context."""
    missing = {"id", "context", "question", "answers"} - set(record)
    if missing or record.get("answers") is None:
        raise DataUnavailable(f"{where}: question {record.get('id', '?')!r} lacks "
                              f"{sorted(missing) or ['answers']}; every SQuAD record needs id, context, "
                              "question and answers {text: [...], answer_start: [...]}.")
    answers, context = record["answers"], record["context"]
    if not answers.get("text") or len(answers["text"]) != len(answers.get("answer_start", [])):
        raise DataUnavailable(f"{where}: question {record['id']!r} needs at least one answer, with one "
                              "answer_start per answer text.")
    for answer, start in zip(answers["text"], answers["answer_start"], strict=True):
        if context[start:start + len(answer)] != answer:
            raise DataUnavailable(f"{where}: question {record['id']!r}: the answer {answer!r} does not stand "
                                  f"at answer_start {start} of its context (the context has {len(context)} "
                                  "characters there: "
                                  f"{context[start:start + len(answer)]!r}). Fix answer_start.")


HUB_ID = "rajpurkar/squad"

# Shipped with the course (CC BY-SA 4.0; data/README.md gives the attribution): 14 articles of
# the SQuAD v1.1 development set, 4,120 questions, in the official nested JSON.
SHIPPED_SLICE = SHIPPED_DATA / "squad" / "squad-v1.1-dev-14articles.json.gz"
SHIPPED_ARTICLES, SHIPPED_QUESTIONS = 14, 4120


def read_shipped_slice(path=None) -> list[dict]:
    """The course's own slice of SQuAD v1.1 (``SHIPPED_SLICE`` unless ``path``) as flat records.
    A missing or damaged file (every question is checked) stops with an error that says how to
    get it back."""
    path = Path(SHIPPED_SLICE if path is None else path)
    restore = ("It is part of the course repository: restore it with `git checkout -- data/squad` "
               "(or clone the course again), or pass another SQuAD file as SQUAD_PATH.")
    records = read_shipped(path, "squad", read_squad_file, restore)
    titles = {r["title"] for r in records}
    if len(records) != SHIPPED_QUESTIONS or len(titles) != SHIPPED_ARTICLES:
        raise DataUnavailable(f"squad: the shipped slice {path} holds {len(records):,} questions on "
                              f"{len(titles)} articles, not {SHIPPED_QUESTIONS:,} on {SHIPPED_ARTICLES}. "
                              f"{restore}")
    return records


def squad_from_hub(dataset=None) -> dict[str, list[dict]]:
    """The hub's SQuAD v1.1 (``dataset``: its DatasetDict, downloaded when None) as flat records,
    each checked like a local file's."""
    dataset = load_hub_dataset(HUB_ID) if dataset is None else dataset
    expect_schema(dataset, HUB_ID, ("train", "validation"), ("id", "title", "context", "question", "answers"))
    out = {}
    for split in ("train", "validation"):
        out[split] = [dict(r) for r in dataset[split]]
        for record in out[split]:
            check_squad_record(record, f"the hub's {HUB_ID}")
    return out


def split_by_article(records: list[dict], validation_fraction: float = 0.25, seed: int = 0):
    """Split questions into train/validation so that no article appears in both."""
    titles = sorted({r["title"] for r in records})
    random.Random(seed).shuffle(titles)
    n_val = max(1, int(round(len(titles) * validation_fraction)))
    val_titles = set(titles[:n_val])
    return ([r for r in records if r["title"] not in val_titles],
            [r for r in records if r["title"] in val_titles])


def load_squad(path=None, seed: int = 0, validation_fraction: float = 0.25, n_generated: int = 2000,
               offline: str = "slice"):
    """SQuAD v1.1 as ``({"train": [...], "validation": [...]}, Source)`` of flat records.

    Hub ``rajpurkar/squad`` online; a local file by path or in the data folder
    (``squad/squad-v1.1-dev-38articles.jsonl.gz``), split by article; offline, with
    ``offline="slice"``, the real SQuAD questions that the course ships (``SHIPPED_SLICE``: 14
    development-set articles), split by article in the same way; with ``offline="generated"``
    a generated SQuAD-format set (``utils.data.generated.templated_squad``, ``n_generated``
    training questions), easy enough to learn in a few steps: a smoke-size sanity check.
    """
    if offline not in ("slice", "generated"):
        raise ValueError(f"offline must be 'slice' (the shipped SQuAD questions) or 'generated', "
                         f"not {offline!r}")

    def split(records):
        train, validation = split_by_article(records, validation_fraction, seed)
        return {"train": train, "validation": validation}

    def local(p):
        if Path(p).is_dir():
            raise DataUnavailable(f"squad: {p} is a folder; pass a SQuAD file (official JSON or JSON lines).")
        return split(read_squad_file(p))

    def generated():
        from utils.data.generated import templated_squad

        return {"train": templated_squad(n_generated, seed=seed),
                "validation": templated_squad(max(50, n_generated // 5), seed=seed + 1)}

    if offline == "slice":
        default = (f"the course's slice of SQuAD v1.1 ({SHIPPED_ARTICLES} dev articles, "
                   f"{SHIPPED_QUESTIONS:,} questions, data/squad/{SHIPPED_SLICE.name})",
                   lambda: split(read_shipped_slice()))
    else:
        default = ("generated SQuAD-format questions (utils.data.generated.templated_squad)", generated)
    return resolve("squad", path=path,
                   local=("squad/squad-v1.1-dev-38articles.jsonl.gz", local),
                   hub=(HUB_ID, squad_from_hub), offline=default)
