"""The results runner (``python course.py run``): execute notebooks under a profile into
``runs/<profile>/``, then turn what they recorded into ``results/<profile>.jsonl`` and the
README's results table.

    python course.py run                                  every notebook, profile study
    python course.py run 05 06 --profile smoke            a selection
    python course.py run 11 -p EVAL_FILE my.json -p EPOCHS 2
                                                          parameters, injected after the parameters cell
    python course.py run --fresh --data-dir ../shared/data --update-readme
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

from tools.execute import ParameterError, execute_notebook, parse_parameter
from tools.notebooks import list_notebooks
from utils.results import format_value, read_results

ROOT = Path(__file__).resolve().parent.parent
README_BEGIN = "<!-- results:begin -->"
README_END = "<!-- results:end -->"


def results_markdown(rows: list[dict], machine: str, command: str, data_dir: str | None = None) -> str:
    """Markdown: one line per figure (with its reference and data source), the wall time on each
    notebook's first line, then any tables the notebooks recorded. Paths under ``data_dir`` are
    shown as ``DATA/...``, as in the command."""
    def source(r: dict) -> str:
        text = str(r.get("data") or r.get("data_source") or "")
        return text.replace(str(typed_path(data_dir)), "DATA") if data_dir else text

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


def expected_seconds(profile: str) -> dict[str, float]:
    """Wall time of each notebook in the last recorded run of ``profile`` (for the estimate)."""
    recorded = ROOT / "results" / f"{profile}.jsonl"
    if not recorded.exists():
        return {}
    return {r["notebook"]: r["value"] for r in read_results(recorded) if r["name"] == "wall_seconds"}


def typed_path(path: str | os.PathLike) -> Path:
    """A path from the command line, absolute: a relative one starts where the command was typed
    (``$COURSE_CWD``), not in the course folder or in ``notebooks/``, where the kernels run."""
    return (Path(os.environ.get("COURSE_CWD") or os.getcwd()) / Path(path).expanduser()).resolve()


def parse_parameters(pairs) -> dict:
    """``-p NAME VALUE`` pairs as Python values. A value naming an existing file or folder relative
    to where the command was typed (``$COURSE_CWD``, set by course.py) becomes an absolute path,
    since the notebook runs in ``notebooks/``."""
    values = {}
    for name, text in pairs or []:
        value = parse_parameter(text)
        if isinstance(value, str) and not Path(value).is_absolute() and typed_path(value).exists():
            value = str(typed_path(value))
        values[name] = value
    return values


def main(argv: list[str] | None = None) -> int:
    from utils.environment import get_profile, is_online

    parser = argparse.ArgumentParser(
        prog="python course.py run",
        description="Execute the course notebooks under a profile into executed copies, and "
                    "summarise the figures they record.")
    parser.add_argument("notebooks", nargs="*",
                        help="notebook names or numbers (default: all), e.g. 01 05_char_rnn")
    parser.add_argument("--profile", default=os.environ.get("COURSE_PROFILE", "study"),
                        help="smoke | study | full (default: $COURSE_PROFILE or study)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                        help="set a parameter of the notebook(s), injected after the parameters cell "
                             "(papermill); the value is read as a Python literal, else as text")
    parser.add_argument("--out", default=None, help="folder for executed copies (default runs/<profile>)")
    parser.add_argument("--data-dir", default=None,
                        help="a local data folder (sets COURSE_DATA_DIR), e.g. ../shared/data")
    parser.add_argument("--update-readme", action="store_true",
                        help="write the results table into README.md and results/<profile>.jsonl")
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

    profile = get_profile(args.profile)
    parameters = parse_parameters(args.parameter)
    if "PROFILE" in parameters:
        raise SystemExit("Choose the profile with --profile, not -p PROFILE (the sizes are set from it "
                         "inside the parameters cell).")
    out = typed_path(args.out) if args.out else ROOT / "runs" / profile
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.jsonl"
    if results_file.exists():
        results_file.unlink()
    env = {"COURSE_PROFILE": profile, "COURSE_RESULTS": str(results_file),
           "COURSE_ONLINE": "1" if profile != "smoke" and is_online() else "0"}
    if args.data_dir:
        env["COURSE_DATA_DIR"] = str(typed_path(args.data_dir))
    env["COURSE_CHECKPOINT_DIR"] = str(run_checkpoint_dir(out, fresh=args.fresh))
    chosen = list_notebooks(args.notebooks)
    expected = expected_seconds(profile)
    print(f"Running {len(chosen)} notebook(s) under profile {profile!r} into {out} "
          f"({'online' if env['COURSE_ONLINE'] == '1' else 'offline'})"
          + (f" with {', '.join(f'{k}={v!r}' for k, v in parameters.items())}" if parameters else ""))
    failures, run_started = [], time.time()
    for k, nb in enumerate(chosen, 1):
        started = time.time()
        try:
            execution = execute_notebook(nb, out / nb.name, env=env, parameters=parameters,
                                         timeout=args.timeout)
            status = f"ok, {execution.summary()}"
        except ParameterError as exc:
            raise SystemExit(str(exc)) from None
        except Exception as exc:  # keep going: one broken notebook must not hide the others
            failures.append(nb.name)
            status = f"FAILED: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}"
        left = sum(expected.get(p.stem, 0.0) for p in chosen[k:])
        estimate = f", about {left / 60:.0f} min left" if left and k < len(chosen) else ""
        print(f"[{k}/{len(chosen)}] {nb.stem:36s} {time.time() - started:6.1f} s  {status}  "
              f"(elapsed {(time.time() - run_started) / 60:.1f} min{estimate})", flush=True)
    rows = read_results(results_file) if results_file.exists() else []
    command = ("python course.py run --profile " + profile + (" --fresh" if args.fresh else "")
               + (" --data-dir DATA" if args.data_dir else "")
               + "".join(f" -p {name} {value}" for name, value in (args.parameter or [])))
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
    by_notebook: dict[str, list[dict]] = {}   # a later file replaces all of a notebook's figures
    for path in args.collect:
        found: dict[str, list[dict]] = {}
        for row in read_results(path):
            if row["profile"] == profile:
                found.setdefault(row["notebook"], []).append(row)
        by_notebook.update(found)
    if not by_notebook:
        raise SystemExit(f"No {profile!r} results in {args.collect}")
    merged = {(r["notebook"], r["name"]): r for rows in by_notebook.values() for r in rows}
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
