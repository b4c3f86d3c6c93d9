"""Lesson code is imported from its notebook: one mechanism for tests and for later notebooks.

A notebook's *definitions* are what it builds for the learner to read: its functions, classes
and constants. ``load_lesson("07_seq2seq")`` runs exactly these, and nothing else, as a module:

1. the parameters cell (tagged ``parameters``), whole, under the profile asked for, then any
   ``parameters`` given as overrides (as papermill injects them after that cell);
2. from every later code cell, in order, the top-level statements that define something:
   ``import`` and ``from ... import``, ``def``, ``class``, assignments to UPPER_CASE names
   (constants) whose right-hand side reads only names defined so far, and the definitions a
   notebook takes from an earlier one (``Encoder, Seq2Seq = from_notebook("07_seq2seq", ...)``).

Everything else (loading data, training, plots, checks, exercises' checks) is skipped. So the
module holds the very code the learner runs, and a test or a later notebook that calls
``lesson.Encoder`` exercises the notebook's own lines. A definition must therefore take what it
needs as arguments, or read constants: :func:`unbound_globals` finds one that reads a name the
notebook computes in a skipped statement (a test checks every notebook for it).

Later notebooks say what they reuse::

    Encoder, Seq2Seq = from_notebook("07_seq2seq", "Encoder", "Seq2Seq", profile=PROFILE)
    # prints: from 07_seq2seq: Encoder, Seq2Seq

Tracebacks and ``inspect.getsource`` show the notebook's lines (file name
``notebooks/07_seq2seq.ipynb, cell 9``). ``$COURSE_NOTEBOOK_DIR`` points the loader at another
folder of notebooks (the mutation tests use it on altered copies).
"""
from __future__ import annotations

import ast
import builtins
import dis
import json
import linecache
import os
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR_VARIABLE = "COURSE_NOTEBOOK_DIR"
SETUP_MARKER = "# Setup: the same cell in every notebook"
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")
_CACHE: dict[tuple, types.ModuleType] = {}


class LessonError(RuntimeError):
    """A notebook's definitions could not be loaded; the message names the cell and what to do."""


def notebook_dir() -> Path:
    return Path(os.environ.get(NOTEBOOK_DIR_VARIABLE) or ROOT / "notebooks")


def notebook_path(notebook: str | os.PathLike) -> Path:
    """``"07"``, ``"07_seq2seq"`` or a path -> the notebook file."""
    given = Path(notebook)
    if given.suffix == ".ipynb":
        if not given.exists():
            raise LessonError(f"No notebook at {given}.")
        return given
    folder = notebook_dir()
    key = given.name
    matches = sorted(p for p in folder.glob("*.ipynb")
                     if p.stem == key or (key.isdigit() and p.stem.split("_")[0] == key.zfill(2)))
    if len(matches) != 1:
        known = ", ".join(sorted(p.stem for p in folder.glob("[0-9][0-9]_*.ipynb")))
        raise LessonError(f"No single notebook matches {notebook!r} in {folder}. Known: {known}")
    return matches[0]


@dataclass
class Cell:
    index: int
    source: str
    tags: tuple

    @property
    def is_parameters(self) -> bool:
        return "parameters" in self.tags


def code_cells(path: Path) -> list[Cell]:
    """The notebook's code cells after the setup cell, with their indices and tags."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LessonError(f"Cannot read {path} as a notebook: {exc}") from None
    cells = []
    for i, c in enumerate(nb.get("cells", [])):
        source = "".join(c.get("source", ""))
        if c.get("cell_type") == "code" and not source.startswith(SETUP_MARKER):
            cells.append(Cell(i, source, tuple(c.get("metadata", {}).get("tags", []))))
    return cells


def _target_names(target) -> list[str] | None:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        names = [_target_names(t) for t in target.elts]
        return None if any(n is None for n in names) else [x for n in names for x in n]
    return None


def _constant_names(statement) -> list[str] | None:
    """Names an UPPER_CASE assignment defines, or None if it is not one."""
    if isinstance(statement, ast.Assign):
        names = [_target_names(t) for t in statement.targets]
        if any(n is None for n in names):
            return None
        flat = [x for n in names for x in n]
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        flat = _target_names(statement.target)
    else:
        return None
    return flat if flat and all(CONSTANT.match(n) for n in flat) else None


def _names_read(node) -> set[str]:
    """Free names an expression reads (comprehension variables and lambda arguments excluded)."""
    read, bound = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (read if isinstance(sub.ctx, ast.Load) else bound).add(sub.id)
        elif isinstance(sub, ast.arg):
            bound.add(sub.arg)
    return read - bound


def _reuse_names(statement) -> list[str] | None:
    """Names an assignment ``a, b = from_notebook(...)`` defines, or None if it is not one."""
    if not (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call)):
        return None
    func = statement.value.func
    if getattr(func, "id", getattr(func, "attr", None)) != "from_notebook":
        return None
    names = [_target_names(t) for t in statement.targets]
    return None if any(n is None for n in names) else [x for n in names for x in n]


def _defined_names(statement) -> list[str]:
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in statement.names if a.name != "*"]
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [statement.name]
    return _constant_names(statement) or _reuse_names(statement) or []


def lesson_statements(path: Path):
    """Yield ``(cell, statement)`` for every statement the loader runs, in order (see the module
    docstring for the rule). The parameters cell comes whole, as one statement block."""
    known = set(dir(builtins)) | {"ENV", "by_profile", "setup_notebook", "__name__"}
    for cell in code_cells(path):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            raise LessonError(f"{Path(path).name}, cell {cell.index}: syntax error: {exc}") from None
        for statement in tree.body:
            keep = cell.is_parameters or isinstance(
                statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if not keep and _constant_names(statement) is not None:
                keep = _names_read(statement.value) <= known
            if not keep and _reuse_names(statement) is not None:
                keep = _names_read(statement.value) <= known
            if keep:
                if cell.is_parameters:
                    for sub in ast.walk(statement):
                        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                            known.add(sub.id)
                known.update(_defined_names(statement))
                yield cell, statement


def _module_name(path: Path, profile: str) -> str:
    return f"_lesson_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}_{profile}"


def load_lesson(notebook: str | os.PathLike, profile: str | None = None,
                parameters: dict | None = None) -> types.ModuleType:
    """The definitions of ``notebook`` as a module (cached until the notebook file changes).

    ``profile`` defaults to ``$COURSE_PROFILE`` (else ``study``); ``parameters`` override values
    of the parameters cell, as ``python course.py run NN -p NAME VALUE`` does.
    """
    from utils.environment import by_profile, current_environment, get_profile, setup_notebook

    path = notebook_path(notebook).resolve()
    profile = get_profile(profile)
    overrides = dict(parameters or {})
    key = (str(path), path.stat().st_mtime_ns, profile, repr(sorted(overrides.items())))
    if key in _CACHE:
        return _CACHE[key]
    name = _module_name(path, profile) + (f"_{len(_CACHE)}" if overrides else "")
    module = types.ModuleType(name, f"Definitions of {path.name} (profile {profile})")
    module.__file__ = str(path)
    module.__dict__.update(ENV=current_environment(profile), by_profile=by_profile,
                           setup_notebook=setup_notebook)
    sys.modules[name] = module           # dataclasses and pickling look classes up by module
    shown = f"{path.parent.name}/{path.name}"
    blocks: dict[int, list] = {}
    order: list[Cell] = []
    for cell, statement in lesson_statements(path):
        if cell.index not in blocks:
            blocks[cell.index] = []
            order.append(cell)
        blocks[cell.index].append(statement)
    for cell in order:
        filename = f"{shown}, cell {cell.index}"
        linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
        code = compile(ast.Module(body=blocks[cell.index], type_ignores=[]), filename, "exec")
        try:
            exec(code, module.__dict__)
        except Exception as exc:
            del sys.modules[name]
            raise LessonError(f"{path.name}, cell {cell.index}: loading its definitions raised "
                              f"{type(exc).__name__}: {exc}") from exc
        if cell.is_parameters and overrides:
            unknown = sorted(set(overrides) - set(module.__dict__))
            if unknown:
                raise LessonError(f"{path.name} has no parameter {', '.join(unknown)}; its parameters "
                                  f"cell sets: {', '.join(parameter_names(path))}")
            module.__dict__.update(overrides)
    _CACHE[key] = module
    return module


def from_notebook(notebook: str, *names: str, profile: str | None = None, quiet: bool = False):
    """Definitions of an earlier notebook, by name: one object, or a tuple for several names.
    Prints where they came from, so a reader of the later notebook knows."""
    lesson = load_lesson(notebook, profile)
    missing = [n for n in names if n not in lesson.__dict__]
    if missing:
        defined = sorted(k for k, v in lesson.__dict__.items()
                         if isinstance(v, (type, types.FunctionType)) and not k.startswith("_"))
        raise LessonError(f"{Path(lesson.__file__).stem} defines no {', '.join(missing)}. "
                          f"Its definitions: {', '.join(defined)}")
    if not quiet:
        print(f"from {Path(lesson.__file__).stem}: {', '.join(names)}")
    values = tuple(lesson.__dict__[n] for n in names)
    return values[0] if len(values) == 1 else values


def parameter_names(notebook) -> list[str]:
    """Names the parameters cell assigns (what ``-p NAME VALUE`` may override)."""
    for cell in code_cells(notebook_path(notebook)):
        if cell.is_parameters:
            names = []
            for statement in ast.parse(cell.source).body:
                targets = (statement.targets if isinstance(statement, ast.Assign)
                           else [statement.target] if isinstance(statement, ast.AnnAssign) else [])
                for target in targets:
                    names += [n for n in (_target_names(target) or []) if n not in names]
            return names
    raise LessonError(f"{notebook}: no cell is tagged 'parameters'.")


def _globals_read(code: types.CodeType) -> set[str]:
    names = set()
    stored = set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            names.add(instruction.argval)
        elif instruction.opname == "STORE_NAME":      # a class body's own names
            stored.add(instruction.argval)
    names -= stored
    names = {n for n in names if not (n.startswith("__") and n.endswith("__"))}   # __annotations__ ...
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _globals_read(constant)
    return names


def unbound_globals(notebook, profile: str = "smoke") -> dict[str, list[str]]:
    """``{definition: [names]}`` for every function or class of the lesson that reads a global
    name the lesson does not define (a value the notebook computes while it runs)."""
    lesson = load_lesson(notebook, profile)
    defined = set(lesson.__dict__) | set(dir(builtins))
    problems = {}
    for _, statement in lesson_statements(notebook_path(notebook)):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            code = compile(ast.Module(body=[statement], type_ignores=[]), "<lesson>", "exec")
            inner = [c for c in code.co_consts if isinstance(c, types.CodeType)]
            missing = set().union(*(_globals_read(c) for c in inner)) - defined if inner else set()
            if missing:
                problems[statement.name] = sorted(missing)
    return problems
