"""Execute a notebook top to bottom in a fresh kernel, with parameters, and say what was checked.

- ``parameters`` are injected after the tagged parameters cell by papermill
  (``papermill.parameterize``), as ``python course.py run 11 -p EVAL_FILE my.json`` asks.
- ``env`` is added to the kernel's environment only (never to this process's).
- Every ``assert`` the notebook's cells run is counted (an IPython AST transformer in the kernel
  marks each assert statement as it runs), so a run reports which claims were checked.
- ``check_exercises`` runs each exercise self-check cell a second time, after the exercise
  stubs have been replaced by the reference solutions (``from solutions.nbNN import ...``):
  with the stubs every check must print NOT YET, with the solutions every check PASS.

The saved notebook holds the notebook's own cells (and papermill's injected parameters), never
the instrumentation.
"""
from __future__ import annotations

import ast
import copy
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.notebooks import CHECK_TAG, assert_sites, cell_key, cells_tagged, exercise_names, read, tags

_INSTRUMENT = '''\
def __course_instrument(report):
    import ast, hashlib, json
    ran = set()

    class CountAsserts(ast.NodeTransformer):
        def visit_Module(self, node):
            self.key = hashlib.sha1(ast.unparse(node).encode()).hexdigest()[:16]
            return self.generic_visit(node)

        def visit_Assert(self, node):
            self.generic_visit(node)
            mark = ast.parse(f"__course_assert_ran__({self.key!r}, {node.lineno})").body[0]
            return [ast.fix_missing_locations(ast.copy_location(mark, node)), node]

    shell = get_ipython()
    shell.user_ns["__course_assert_ran__"] = lambda key, line: ran.add((key, line))
    shell.user_ns["__course_save_report__"] = lambda: open(report, "w").write(json.dumps(sorted(ran)))
    shell.ast_transformers.append(CountAsserts())


__course_instrument({report!r})
del __course_instrument'''


class ParameterError(ValueError):
    """A ``-p NAME VALUE`` that the notebook's parameters cell does not define."""


@dataclass
class Execution:
    """What one execution did: the executed notebook, and the checks that ran."""

    path: Path
    notebook: object
    seconds: float
    assert_sites: list = field(default_factory=list)   # (cell index, line, text)
    asserts_ran: set = field(default_factory=set)      # (cell index, line)
    exercise_output: dict = field(default_factory=dict)  # {"stubs": [...], "solutions": [...]}

    @property
    def asserts_not_run(self) -> list:
        return [s for s in self.assert_sites if (s[0], s[1]) not in self.asserts_ran]

    def summary(self) -> str:
        return f"{len(self.asserts_ran)} of {len(self.assert_sites)} asserts ran"


def check_lines(text: str) -> list[str]:
    """The PASS / NOT YET lines a check cell printed."""
    return [line for line in text.splitlines() if line.startswith(("PASS", "NOT YET"))]


def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif o.get("output_type") in ("execute_result", "display_data"):
            out.append(o.get("data", {}).get("text/plain", ""))
    return "".join(out)


def inject_parameters(nb, path: Path, parameters: dict):
    """papermill's injection of ``parameters`` after the parameters cell, after checking that
    the parameters cell defines every name."""
    from papermill.parameterize import parameterize_notebook

    from utils.lessons import parameter_names

    known = parameter_names(path)
    unknown = [name for name in parameters if name not in known]
    if unknown:
        raise ParameterError(f"{path.stem} has no parameter {', '.join(unknown)}. Its parameters cell "
                             f"sets: {', '.join(known)}")
    for cell in nb.cells:                     # papermill reads every cell's tags
        cell.metadata.setdefault("tags", [])
    nb.metadata.setdefault("papermill", {})   # where papermill notes the parameters it injected
    nb = parameterize_notebook(nb, parameters, comment="Parameters given on the command line")
    for cell in nb.cells:
        if not cell.metadata.get("tags"):
            cell.metadata.pop("tags", None)
    return nb


def parse_parameter(text: str):
    """A command-line value as Python: numbers, True/False/None, lists and quoted strings as
    literals; anything else as the string itself (``-p EVAL_FILE my.json``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def execute_notebook(path: Path, out_path: Path | None = None, *, env: dict | None = None,
                     parameters: dict | None = None, timeout: int = 1800, count_asserts: bool = True,
                     check_exercises: bool = False) -> Execution:
    """Execute ``path``; write the executed notebook to ``out_path`` (also when a cell fails, then
    re-raise nbclient's CellExecutionError, which names the cell and the error)."""
    from nbclient import NotebookClient

    path = Path(path)
    nb = read(path)
    if parameters:
        nb = inject_parameters(nb, path, parameters)
    run = copy.deepcopy(nb)
    report = Path(tempfile.mkstemp(suffix=".json", prefix="asserts-")[1])
    prefix = []
    if count_asserts:
        prefix.append(_cell(_INSTRUMENT.replace("{report!r}", repr(str(report)))))
    suffix, check_copies = [], []
    if check_exercises:
        names = exercise_names(nb)
        number = path.name[:2]
        if names:
            suffix.append(_cell(f"from solutions.nb{number} import {', '.join(names)}"))
        for i in cells_tagged(nb, CHECK_TAG):
            check_copies.append(len(prefix) + len(nb.cells) + len(suffix))
            suffix.append(_cell(nb.cells[i].source))
    if count_asserts:
        suffix.append(_cell("__course_save_report__()"))
    run.cells = prefix + run.cells + suffix
    kernel_env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {})}
    sockets = tempfile.TemporaryDirectory(prefix="course-kernel-")
    kernel = _kernel_manager(sockets.name)
    client = NotebookClient(run, timeout=timeout, kernel_name="python3", km=kernel,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.time()
    try:
        client.execute(env=kernel_env)
    finally:
        if kernel.has_kernel:   # nbclient leaves a kernel it was handed running: stop it (and its memory)
            kernel.shutdown_kernel(now=False)
        sockets.cleanup()
        for k, cell in enumerate(nb.cells):
            ran = run.cells[len(prefix) + k]
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = ran.get("outputs", []), ran.get("execution_count")
                if "execution" in ran.get("metadata", {}):      # nbclient's timestamps of the cell
                    cell.metadata["execution"] = ran.metadata["execution"]
        if out_path is not None:
            import nbformat

            Path(out_path).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, out_path)
    execution = Execution(path, nb, time.time() - started)
    if count_asserts:
        execution.assert_sites = assert_sites(nb)
        keys = {}
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and "injected-parameters" not in tags(cell):
                keys.setdefault(cell_key(cell.source), []).append(i)
        marks = json.loads(report.read_text() or "[]")
        execution.asserts_ran = {(i, line) for key, line in marks for i in keys.get(key, [])}
        report.unlink(missing_ok=True)
    if check_exercises:
        execution.exercise_output = {
            "stubs": [line for i in cells_tagged(nb, CHECK_TAG) for line in check_lines(_text(nb.cells[i]))],
            "solutions": [line for i in check_copies for line in check_lines(_text(run.cells[i]))]}
    return execution


def _kernel_manager(folder: str):
    """A kernel on local sockets (IPC) where the system has them: no open TCP ports, and no
    warning about unencrypted TCP in the run's log. Windows has no IPC transport: TCP there."""
    from jupyter_client import KernelManager

    if os.name == "nt":
        return KernelManager(kernel_name="python3")
    return KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(folder, "kernel"))


def _cell(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source)
