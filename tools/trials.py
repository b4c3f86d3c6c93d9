"""Measured recipe trials (``python course.py trials 11 [--data-dir DIR] [--only NAME ...]``).

A notebook's study recipe is chosen by trials: the same notebook, the study profile, a few
parameters overridden (``course.py run -p NAME VALUE``), one trial after another on one machine.
Each trial's figures and speed go to ``results/trials/<notebook>.jsonl``, which the notebook
reads and shows as a table next to the recipe it uses. Speeds are ratios to the first trial of
the same session (steps per second), because absolute times on a shared machine are noise.

    python course.py trials 11 --data-dir ../shared/data          every trial of 11 (about an hour)
    python course.py trials 11 --data-dir ../shared/data --only bf16-384-3k
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from tools.notebooks import list_notebooks
from tools.runner import machine_description
from utils.results import TRIALS_DIR, read_results

ROOT = Path(__file__).resolve().parent.parent


def _recipe(base: dict, **changed) -> dict:
    """A trial's recipe: every parameter of ``base`` explicit (the notebook matches its own run
    against them), with ``changed`` in place."""
    unknown = set(changed) - set(base)
    assert not unknown, f"not recipe parameters: {unknown}"
    return {**base, **changed}


SQUAD_BEFORE = {"MIXED_PRECISION": "no", "TRAIN_WINDOWS": 3000, "MAX_LENGTH": 256, "DOC_STRIDE": 64,
                "LEARNING_RATE": 1.5e-4, "EPOCHS": 1}                       # 11's study recipe before
CHAR_LSTM_BEFORE = {"HIDDEN_SIZE": 384, "BATCH_SIZE": 32, "SEQ_LEN": 128, "LEARNING_RATE": 4e-3,
                    "MAX_STEPS": 1000, "TIME_BUDGET_S": 270}               # 05's study recipe before


# notebook -> (figures to keep, the speed figure, trials); a trial is (name, what it changes,
# parameters). The first trial is the reference of the speed ratios; the study recipe is one of them.
# A trial explores, so it runs with the notebook's target lowered (RELAXED): a recipe that misses
# the target is still measured to the end, and the notebook's other checks all run.
RELAXED = {"05_char_rnn": {"TARGET_BITS": 4.0}, "11_bert_squad": {"F1_BAR": 0}}
TRIALS: dict[str, tuple[tuple[str, ...], str, list[tuple[str, str, dict]]]] = {
    "05_char_rnn": (("val_bits_per_char",), "train_chars_per_second", [
        ("h384-b32", "before: 1x384, batch 32, lr 4e-3, 1,000 steps", _recipe(CHAR_LSTM_BEFORE)),
        ("h384-b64", "batch 64, lr 6e-3, 900 steps",
         _recipe(CHAR_LSTM_BEFORE, BATCH_SIZE=64, LEARNING_RATE=6e-3, MAX_STEPS=900)),
        ("h384-b64-lr1e-2", "batch 64, lr 1e-2, 900 steps",
         _recipe(CHAR_LSTM_BEFORE, BATCH_SIZE=64, LEARNING_RATE=1e-2, MAX_STEPS=900)),
        ("h384-b128", "batch 128, lr 1e-2, 500 steps",
         _recipe(CHAR_LSTM_BEFORE, BATCH_SIZE=128, LEARNING_RATE=1e-2, MAX_STEPS=500)),
        ("h384-b32-1900", "batch 32, lr 4e-3, 1,900 steps (the time of 900 steps of 64)",
         _recipe(CHAR_LSTM_BEFORE, MAX_STEPS=1900)),
    ]),
    "11_bert_squad": (("f1", "exact_match"), "train_steps_per_second", [
        ("fp32-256-3k", "before: fp32, 256 tokens, 3,000 windows, lr 1.5e-4, 1 epoch", _recipe(SQUAD_BEFORE)),
        ("bf16-256-3k", "bf16 autocast, otherwise as before", _recipe(SQUAD_BEFORE, MIXED_PRECISION="bf16")),
        ("bf16-384-3k", "bf16, 384 tokens (stride 128)",
         _recipe(SQUAD_BEFORE, MIXED_PRECISION="bf16", MAX_LENGTH=384, DOC_STRIDE=128)),
        ("bf16-256-3k-2ep", "bf16, the same 3,000 windows twice (2 epochs)",
         _recipe(SQUAD_BEFORE, MIXED_PRECISION="bf16", EPOCHS=2)),
        ("bf16-256-all", "bf16, every training window once (6,748)",
         _recipe(SQUAD_BEFORE, MIXED_PRECISION="bf16", TRAIN_WINDOWS=None)),
        ("bf16-256-all-lr3e-4", "bf16, every window, lr 3e-4",
         _recipe(SQUAD_BEFORE, MIXED_PRECISION="bf16", TRAIN_WINDOWS=None, LEARNING_RATE=3e-4)),
    ]),
}


def run_trial(notebook: str, name: str, parameters: dict, data_dir: str | None, out: Path) -> dict:
    """The figures a study run of ``notebook`` with ``parameters`` recorded, by name."""
    command = [sys.executable, "-m", "tools.runner", notebook[:2], "--profile", "study", "--fresh",
               "--out", str(out)]
    if data_dir:
        command += ["--data-dir", data_dir]
    for key, value in parameters.items():
        command += ["-p", key, json.dumps(value) if value is not None else "None"]
    code = subprocess.call(command, cwd=ROOT)
    if code != 0:
        raise RuntimeError(f"trial {name} failed (exit {code}); its executed notebook is in {out}")
    return {r["name"]: r for r in read_results(out / "results.jsonl") if r["notebook"] == notebook}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="the notebook's number, e.g. 11")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--only", nargs="*", default=None, help="run only these trials (by name)")
    args = parser.parse_args(argv)
    matches = [nb.stem for nb in list_notebooks() if nb.stem.startswith(args.notebook)]
    if len(matches) != 1 or matches[0] not in TRIALS:
        known = ", ".join(TRIALS)
        print(f"no trials for {args.notebook!r}: trials exist for {known}", file=sys.stderr)
        return 2
    notebook = matches[0]
    figures, speed_name, trials = TRIALS[notebook]
    unknown = set(args.only or ()) - {name for name, _, _ in trials}
    if unknown:
        print(f"unknown trial(s) {sorted(unknown)}; known: {[n for n, _, _ in trials]}", file=sys.stderr)
        return 2
    session = time.strftime("%Y-%m-%d %H:%M")
    machine = machine_description()
    reference_speed = None
    TRIALS_DIR.mkdir(parents=True, exist_ok=True)
    for k, (name, what, parameters) in enumerate(trials):
        if args.only and name not in args.only and k != 0:
            continue                      # the first trial always runs: it is the speed reference
        print(f"\n=== trial {name}: {what}", flush=True)
        try:
            rows = run_trial(notebook, name, {**parameters, **RELAXED.get(notebook, {})}, args.data_dir,
                             ROOT / "runs" / "trials" / name)
        except RuntimeError as error:     # a failed trial is reported and not recorded; the others go on
            print(error, file=sys.stderr)
            if reference_speed is None:
                return 1                  # without the first trial there is no speed reference
            continue
        speed = rows[speed_name]["value"]
        reference_speed = speed if reference_speed is None else reference_speed
        line = {"trial": name, "what": what, "parameters": parameters,
                **{f: rows[f]["value"] for f in figures},
                "evaluated_on": rows[figures[0]].get("evaluated_on"),
                "speed_ratio": round(speed / reference_speed, 3),
                "wall_seconds": rows["wall_seconds"]["value"], "session": session, "machine": machine,
                "data": rows[figures[0]].get("data_source") or rows[figures[0]].get("data")}
        with (TRIALS_DIR / f"{notebook}.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
        print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
