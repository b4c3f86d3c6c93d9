"""SQuAD v1.1: the hub's rajpurkar/squad, a local file (official JSON or JSON lines), or offline
generated questions in the same format."""
from __future__ import annotations

import json
import random
from pathlib import Path

from utils.data import open_text, resolve


def read_squad_file(path: Path) -> list[dict]:
    """Read SQuAD-format questions into flat records
    ``{id, title, context, question, answers: {text: [...], answer_start: [...]}}``.

    Takes the official nested JSON (``{"data": [{"title", "paragraphs": [...]}]}``) or JSON
    lines in the hub's flat schema, optionally gzipped.
    """
    path = Path(path)
    with open_text(path) as f:
        text = f.read()
    if text.lstrip().startswith("{") and '"data"' in text[:2000] and '"paragraphs"' in text:
        records = []
        for article in json.loads(text)["data"]:
            for para in article["paragraphs"]:
                for qa in para["qas"]:
                    records.append({
                        "id": qa["id"], "title": article.get("title", ""), "context": para["context"],
                        "question": qa["question"],
                        "answers": {"text": [a["text"] for a in qa["answers"]],
                                    "answer_start": [a["answer_start"] for a in qa["answers"]]}})
        return records
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    for r in records:
        missing = {"id", "context", "question", "answers"} - set(r)
        if missing:
            raise ValueError(f"{path}: a record lacks {sorted(missing)}; expected SQuAD fields")
        r.setdefault("title", "")
    return records


def split_by_article(records: list[dict], validation_fraction: float = 0.25, seed: int = 0):
    """Split questions into train/validation so that no article appears in both."""
    titles = sorted({r["title"] for r in records})
    random.Random(seed).shuffle(titles)
    n_val = max(1, int(round(len(titles) * validation_fraction)))
    val_titles = set(titles[:n_val])
    return ([r for r in records if r["title"] not in val_titles],
            [r for r in records if r["title"] in val_titles])


def load_squad(path=None, seed: int = 0,
               validation_fraction: float = 0.25, n_generated: int = 2000):
    """SQuAD v1.1 as ``({"train": [...], "validation": [...]}, Source)`` of flat records.

    Hub ``rajpurkar/squad`` online; a local file by path or in the data folder
    (``squad/squad-v1.1-dev-38articles.jsonl.gz``), split by article; offline a generated
    SQuAD-format set (``utils.data.generated.templated_squad``).
    """
    def local(p):
        train, validation = split_by_article(read_squad_file(p), validation_fraction, seed)
        return {"train": train, "validation": validation}

    def from_hub():
        from datasets import load_dataset

        ds = load_dataset("rajpurkar/squad")
        return {split: [dict(r) for r in ds[split]] for split in ("train", "validation")}

    def generated():
        from utils.data.generated import templated_squad

        return {"train": templated_squad(n_generated, seed=seed),
                "validation": templated_squad(max(50, n_generated // 5), seed=seed + 1)}

    return resolve("squad", path=path,
                   local=("squad/squad-v1.1-dev-38articles.jsonl.gz", local),
                   hub=("rajpurkar/squad", from_hub),
                   offline=("generated SQuAD-format questions (utils.data.generated.templated_squad)",
                            generated))
