"""Recorded results: each notebook's headline figures, shown beside reference numbers and,
when ``$COURSE_RESULTS`` names a file, appended there as JSON lines.

The runner (``python course.py run``, in ``tools/runner.py``) sets ``$COURSE_RESULTS`` for every
notebook it executes and turns the file into ``results/<profile>.jsonl`` and the README table.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from utils.environment import elapsed_seconds


class Results:
    """Collect a notebook's headline figures.

    >>> results = Results("01_cnn_review", PROFILE)
    >>> results.record("test_accuracy", 0.981, reference="99.2% (LeNet-5 on MNIST)")
    >>> results.finish()   # records wall_seconds and shows the table
    """

    def __init__(self, notebook: str, profile: str, path: str | os.PathLike | None = None):
        self.notebook = notebook
        self.profile = profile
        self.path = path if path is not None else os.environ.get("COURSE_RESULTS") or None
        self.rows: list[dict] = []

    def record(self, name: str, value: float, reference: str | None = None, **extra) -> dict:
        """Record one figure (a finite number); ``reference`` is the published or expected value,
        as text; ``data=`` names the data source it was measured on."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise TypeError(f"Result {name!r} must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"Result {name!r} is {value}: a training diverged or a metric divided by "
                             "zero. Fix the cause rather than recording it.")
        row = {"notebook": self.notebook, "profile": self.profile, "name": name,
               "value": float(value)}
        if reference is not None:
            row["reference"] = str(reference)
        row.update(extra)
        self.rows = [r for r in self.rows if r["name"] != name] + [row]
        if self.path:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        return row

    def record_table(self, name: str, header: list[str], rows: list[list], note: str | None = None) -> dict:
        """Record a small table (e.g. size, latency and accuracy per model); the runner's summary
        shows it below the figures. Cells are kept as text, numbers formatted by the caller."""
        if any(len(r) != len(header) for r in rows):
            raise ValueError(f"Table {name!r}: every row needs {len(header)} cells, like the header {header}")
        return self.record(name, len(rows), reference=note or "table below",
                           table={"header": [str(h) for h in header],
                                  "rows": [[str(c) for c in r] for r in rows]})

    def finish(self) -> None:
        """Record the wall time since the setup cell and print the results table."""
        self.record("wall_seconds", round(elapsed_seconds(), 1))
        print(self.table())

    def table(self) -> str:
        lines = [f"Results of {self.notebook} (profile {self.profile})",
                 f"{'figure':32s} {'this run':>12s}   reference"]
        for r in self.rows:
            if "table" not in r:
                lines.append(f"{r['name']:32s} {format_value(r['value']):>12s}   {r.get('reference', '')}")
        for r in self.rows:
            if "table" in r:
                lines += ["", r["name"], "  ".join(r["table"]["header"])]
                lines += ["  ".join(row) for row in r["table"]["rows"]]
        return "\n".join(lines)


def format_value(value: float) -> str:
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.4g}"


RECORDED_DIR = Path(__file__).resolve().parent.parent / "results"


def read_results(path: str | os.PathLike) -> list[dict]:
    """Read a results file; for a figure recorded twice, the last value counts."""
    latest: dict[tuple, dict] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            latest[(row["notebook"], row["profile"], row["name"])] = row
    return list(latest.values())


def recorded(notebook: str, name: str, profile: str) -> dict | None:
    """Another notebook's recorded figure, for a notebook that compares itself with it: its row
    (``value``, ``reference``, ``data`` when recorded, and ``recorded_in``) from this run's
    ``$COURSE_RESULTS`` file when that notebook ran in it, else from the course's recorded run
    ``results/<profile>.jsonl``; None when neither has it (for example when the notebook was
    never run under this profile)."""
    run_file = os.environ.get("COURSE_RESULTS")
    for path, where in ((Path(run_file) if run_file else None, "this run"),
                        (RECORDED_DIR / f"{profile}.jsonl", f"the course's recorded {profile} run")):
        if path is None or not path.is_file():
            continue
        wanted = (notebook, name, profile)
        rows = [r for r in read_results(path) if (r["notebook"], r["name"], r["profile"]) == wanted]
        if rows:
            return {**rows[0], "recorded_in": where}
    return None


TRIALS_DIR = RECORDED_DIR / "trials"


def recorded_trials(notebook: str) -> list[dict]:
    """The recipe trials recorded for a notebook (``python course.py trials NN`` writes them to
    ``results/trials/<notebook>.jsonl``), the latest line of each trial, in the order first run;
    an empty list when none were recorded."""
    path = TRIALS_DIR / f"{notebook}.jsonl"
    if not path.is_file():
        return []
    latest: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            latest[row["trial"]] = row
    return list(latest.values())


def show_trials(notebook: str, recipe: dict, figures: list[tuple[str, str, str]]) -> dict | None:
    """Print a notebook's recorded trials as a table: for each its ``figures`` (``(label, name,
    format)`` triples), its speed as a ratio to the first trial of its session, its wall minutes
    and what it changes; the trial whose parameters are ``recipe`` is marked ``*`` and returned
    (None when no recorded trial has this run's recipe)."""
    trials = recorded_trials(notebook)
    width = max([len(t["trial"]) for t in trials] + [5]) + 1
    print(f"{'trial':{width}s}" + "".join(f" {label:>9s}" for label, _, _ in figures)
          + f" {'speed':>6s} {'minutes':>7s}  what changes")
    for t in trials:
        mark = "*" if t["parameters"] == recipe else " "
        values = "".join(f" {format(t[name], fmt):>9s}" for _, name, fmt in figures)
        print(f"{mark}{t['trial']:{width - 1}s}{values} {t['speed_ratio']:5.2f}x "
              f"{t['wall_seconds'] / 60:7.1f}  {t['what']}")
    same = next((t for t in trials if t["parameters"] == recipe), None)
    if same is not None:
        print(f"* this run's recipe (measured {same['session']} on {same['machine']})")
    else:
        print("this run's recipe is none of the recorded trials (a changed parameter, or none recorded)")
    return same
