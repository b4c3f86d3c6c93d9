"""Recorded results: each notebook's headline figures, shown beside reference numbers and,
when ``$COURSE_RESULTS`` names a file, appended there as JSON lines.

Also the results runner (``python -m utils.results``): execute notebooks under a profile, then
turn what they recorded into ``results/<profile>.jsonl`` and the README's results table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_BEGIN = "<!-- results:begin -->"
README_END = "<!-- results:end -->"
_CLOCK_START = time.time()


def restart_clock() -> None:
    """Called by the setup cell: wall time is measured from here."""
    global _CLOCK_START
    _CLOCK_START = time.time()


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
        """Record one figure (a number); ``reference`` is the published or expected value, as text."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise TypeError(f"Result {name!r} must be a number, got {value!r}") from None
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

    def finish(self) -> list[dict]:
        """Record the wall time since the setup cell and print the results table."""
        self.record("wall_seconds", round(time.time() - _CLOCK_START, 1))
        print(self.table())
        return self.rows

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

    def __getitem__(self, name: str) -> float:
        for r in self.rows:
            if r["name"] == name:
                return r["value"]
        raise KeyError(name)


def format_value(value: float) -> str:
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.4g}"


def read_results(path: str | os.PathLike) -> list[dict]:
    """Read a results file; for a figure recorded twice, the last value counts."""
    latest: dict[tuple, dict] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            latest[(row["notebook"], row["profile"], row["name"])] = row
    return list(latest.values())


def results_markdown(rows: list[dict], machine: str, command: str, data_dir: str | None = None) -> str:
    """Markdown: one line per figure (with its reference and data source), the wall time on each
    notebook's first line, then any tables the notebooks recorded. Paths under ``data_dir`` are
    shown as ``DATA/...``, as in the command."""
    def source(r: dict) -> str:
        text = str(r.get("data") or r.get("data_source") or "")
        return text.replace(str(Path(data_dir).resolve()), "DATA") if data_dir else text

    by_notebook: dict[str, list[dict]] = {}
    for row in rows:
        by_notebook.setdefault(row["notebook"], []).append(row)
    profiles = sorted({r["profile"] for r in rows}) or ["none recorded"]
    out = [f"Measured with `{command}` (profile {', '.join(profiles)}) on {machine}.", "",
           "| notebook | figure | this run | reference | data | wall time |", "|---|---|---|---|---|---|"]
    tables = []
    for notebook in sorted(by_notebook):
        figures = [r for r in by_notebook[notebook] if r["name"] != "wall_seconds" and "table" not in r]
        tables += [r for r in by_notebook[notebook] if "table" in r]
        wall = next((r["value"] for r in by_notebook[notebook] if r["name"] == "wall_seconds"), None)
        wall_text = f"{wall / 60:.1f} min" if wall is not None else "not finished"
        for k, r in enumerate(figures or [{"name": "(none recorded)", "value": float("nan")}]):
            value = format_value(r["value"]) if r["value"] == r["value"] else ""
            out.append(f"| {notebook if k == 0 else ''} | `{r['name']}` | {value} | {r.get('reference', '')} "
                       f"| {source(r)} | {wall_text if k == 0 else ''} |")
    for r in tables:
        header, body = r["table"]["header"], r["table"]["rows"]
        out += ["", f"**{r['notebook']}: {r['name'].replace('_', ' ')}**" + (
                f" ({r['reference']})" if r.get("reference") not in (None, "table below") else ""), "",
                "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(out)


def update_readme(table: str, readme: Path = ROOT / "README.md") -> None:
    text = readme.read_text(encoding="utf-8")
    if README_BEGIN not in text or README_END not in text:
        raise RuntimeError(f"{readme} has no {README_BEGIN} ... {README_END} block to fill.")
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_BEGIN}\n{table}\n{README_END}{tail}", encoding="utf-8")


def machine_description() -> str:
    cores = os.cpu_count()
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:
        gpu = "no GPU"
    return f"{platform.system()} {platform.machine()}, {cores} CPU cores, {gpu}"


def run_checkpoint_dir(out: Path, fresh: bool) -> Path:
    """Where a run keeps its checkpoints: always ``<out>/checkpoints``, apart from the notebooks'
    interactive ones (``checkpoints/`` or ``$COURSE_CHECKPOINT_DIR``, which a run never touches).
    An interrupted run resumes from them; ``fresh`` deletes them first, so that every training
    starts from zero and the recorded times are real."""
    checkpoints = Path(out) / "checkpoints"
    if fresh and checkpoints.exists():
        shutil.rmtree(checkpoints)
    return checkpoints


def main(argv: list[str] | None = None) -> int:
    from utils.notebooks import execute_notebook, list_notebooks

    parser = argparse.ArgumentParser(
        prog="python -m utils.results",
        description="Execute the course notebooks under a profile into executed copies, and "
                    "summarise the figures they record.")
    parser.add_argument("notebooks", nargs="*",
                        help="notebook names or numbers (default: all), e.g. 01 05_char_rnn")
    parser.add_argument("--profile", default=os.environ.get("COURSE_PROFILE", "study"),
                        help="smoke | study | full (default: $COURSE_PROFILE or study)")
    parser.add_argument("--out", default=None, help="folder for executed copies (default runs/<profile>)")
    parser.add_argument("--data-dir", default=None,
                        help="a local data folder (sets COURSE_DATA_DIR), e.g. ../shared/data")
    parser.add_argument("--update-readme", action="store_true",
                        help="write the results table into README.md")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--collect", nargs="+", metavar="RESULTS_JSONL",
                        help="execute nothing: merge results files of earlier runs (e.g. one run per "
                             "notebook) into results/<profile>.jsonl and the summary table")
    parser.add_argument("--machine", default=None, help="how to describe the machine in the table")
    parser.add_argument("--fresh", action="store_true",
                        help="train everything from scratch: delete this run's checkpoints "
                             "(<out>/checkpoints) first, so recorded times are real")
    args = parser.parse_args(argv)
    if args.collect:
        return collect(args)

    from utils.environment import get_profile, is_online

    profile = get_profile(args.profile)
    out = Path(args.out or ROOT / "runs" / profile)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.jsonl"
    if results_file.exists():
        results_file.unlink()
    env = {"COURSE_PROFILE": profile, "COURSE_RESULTS": str(results_file),
           "COURSE_ONLINE": "1" if is_online() else "0"}
    if args.data_dir:
        env["COURSE_DATA_DIR"] = str(Path(args.data_dir).resolve())
    env["COURSE_CHECKPOINT_DIR"] = str(run_checkpoint_dir(out, fresh=args.fresh))
    chosen = list_notebooks(args.notebooks)
    print(f"Running {len(chosen)} notebook(s) under profile {profile!r} into {out} "
          f"({'online' if env['COURSE_ONLINE'] == '1' else 'offline'})")
    failures = []
    for nb in chosen:
        started = time.time()
        try:
            execute_notebook(nb, out / nb.name, env=env, timeout=args.timeout)
            status = "ok"
        except Exception as exc:  # keep going: one broken notebook must not hide the others
            failures.append(nb.name)
            status = f"FAILED: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}"
        print(f"  {nb.name:40s} {time.time() - started:7.1f} s  {status}", flush=True)
    rows = read_results(results_file) if results_file.exists() else []
    command = ("python course.py run --profile " + profile + (" --fresh" if args.fresh else "")
               + (" --data-dir DATA" if args.data_dir else ""))
    table = results_markdown(rows, args.machine or machine_description(), command, args.data_dir)
    (out / "results.md").write_text(table + "\n", encoding="utf-8")
    print(f"\nExecuted copies and results.md/results.jsonl in {out}\n")
    print(table)
    if args.update_readme:
        update_readme(table)
        kept = ROOT / "results" / f"{profile}.jsonl"       # the machine-readable copy that is committed
        kept.parent.mkdir(exist_ok=True)
        if results_file.exists():
            shutil.copyfile(results_file, kept)
        kept.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
        print(f"README.md results table and {kept.relative_to(ROOT)} (.md) updated.")
    if failures:
        print(f"\n{len(failures)} notebook(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def collect(args) -> int:
    from utils.environment import get_profile

    profile = get_profile(args.profile)
    rows = [r for path in args.collect for r in read_results(path) if r["profile"] == profile]
    if not rows:
        raise SystemExit(f"No {profile!r} results in {args.collect}")
    merged = {(r["notebook"], r["name"]): r for r in rows}
    out = ROOT / "results" / f"{profile}.jsonl"
    out.parent.mkdir(exist_ok=True)
    out.write_text("".join(json.dumps(r) + "\n" for r in sorted(merged.values(),
                   key=lambda r: (r["notebook"], r["name"] == "wall_seconds"))), encoding="utf-8")
    command = f"python course.py run NN --profile {profile}" + (" --data-dir DATA" if args.data_dir else "")
    table = results_markdown(list(merged.values()), args.machine or machine_description(), command,
                             args.data_dir)
    (out.with_suffix(".md")).write_text(table + "\n", encoding="utf-8")
    print(table)
    if args.update_readme:
        update_readme(table)
        print("README.md results table updated.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
