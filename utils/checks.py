"""Self-checks for exercises: the learner gets PASS or NOT YET and a hint, never the answer.

Each notebook's reference solutions live in ``solutions/nbNN.py``, which names them after the
learner's stubs and lists them by exercise (``EXERCISES = {1: ["step_jacobian"], ...}``). A
notebook's check cell goes through :class:`Exercises`, so the reference module never enters the
learner's namespace::

    exercises = Exercises("02_rnn_bptt")
    exercises.check_function(step_jacobian, cases=..., hint="differentiate tanh")
    exercises.check_equal("steps_back", steps_back, hint="solve with logarithms")
    exercises.show_solution(1)        # only when the learner asks: prints the reference

The course's tests run every check cell twice, with the stubs (each check must print NOT YET)
and with the reference solutions in their place (each must print PASS).
"""
from __future__ import annotations

import ast
import importlib
import inspect
import math

import numpy as np


class CheckFailed(AssertionError):
    pass


NO_HINT_YET = "; its hint shows once you have tried"   # a hint shown before any attempt gives the idea away


def _report(ok: bool, name: str, hint: str, detail: str = "", raise_on_fail: bool = False) -> bool:
    if ok:
        print(f"PASS  {name}")
    else:
        message = (f"NOT YET  {name}" + (f": {detail}" if detail else "")
                   + (f"\n  hint: {hint}" if hint else ""))
        print(message)
        if raise_on_fail:
            raise CheckFailed(message)
    return ok


def _as_array(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _largest_difference(a, b) -> float:
    """max |a - b|, counting equal entries (also equal infinities) as 0 and a NaN as a difference."""
    if not a.size:
        return 0.0
    with np.errstate(invalid="ignore"):
        gap = np.where(a == b, 0.0, np.abs(a - b))
    return float(np.nan_to_num(gap, nan=np.inf).max())


def check_close(answer, expected, name: str = "answer", hint: str = "", atol: float = 1e-5,
                rtol: float = 1e-4, raise_on_fail: bool = False) -> bool:
    """Pass when ``answer`` equals ``expected`` (numbers, arrays or tensors) within tolerance."""
    if answer is None or answer is Ellipsis:
        return _report(False, name, "", "no answer yet (replace the ... )" + (NO_HINT_YET if hint else ""),
                       raise_on_fail)
    try:
        a, e = _as_array(answer), _as_array(expected)
    except (TypeError, ValueError):
        return _report(False, name, hint, f"could not read {answer!r} as numbers", raise_on_fail)
    if a.shape != e.shape:
        return _report(False, name, hint, f"shape {a.shape}, expected {e.shape}", raise_on_fail)
    ok = bool(np.allclose(a, e, atol=atol, rtol=rtol, equal_nan=False))
    detail = "" if ok else f"largest difference {_largest_difference(a, e):.3g}"
    return _report(ok, name, hint, detail, raise_on_fail)


def check_equal(answer, expected, name: str = "answer", hint: str = "", raise_on_fail: bool = False) -> bool:
    """Pass when ``answer == expected`` exactly (strings, integers, lists)."""
    if answer is Ellipsis:
        return _report(False, name, "", "no answer yet (replace the ... )" + (NO_HINT_YET if hint else ""),
                       raise_on_fail)
    ok = answer == expected
    if isinstance(ok, float) and math.isnan(ok):
        ok = False
    return _report(bool(ok), name, hint, "" if ok else f"got {answer!r}", raise_on_fail)


def check_function(candidate, reference, cases, name: str | None = None, hint: str = "",
                   atol: float = 1e-5, rtol: float = 1e-4, raise_on_fail: bool = False) -> bool:
    """Pass when ``candidate(*case)`` matches ``reference(*case)`` on every case."""
    name = name or getattr(candidate, "__name__", "function")
    for k, case in enumerate(cases):
        case = case if isinstance(case, tuple) else (case,)
        try:
            got = candidate(*case)
        except NotImplementedError:
            return _report(False, name, "", "not written yet" + (NO_HINT_YET if hint else ""), raise_on_fail)
        except Exception as exc:  # the learner's code may fail in any way
            return _report(False, name, hint, f"case {k} raised {type(exc).__name__}: {exc}", raise_on_fail)
        want = reference(*case)
        gots = got if isinstance(got, tuple) else (got,)
        wants = want if isinstance(want, tuple) else (want,)
        if len(gots) != len(wants):
            return _report(False, name, hint, f"returned {len(gots)} values, expected {len(wants)}",
                           raise_on_fail)
        for g, w in zip(gots, wants, strict=True):
            try:
                ga, wa = _as_array(g), _as_array(w)
            except (TypeError, ValueError):
                same, detail = g == w, f"case {k}: got {g!r}"
            else:
                if ga.shape != wa.shape:
                    return _report(False, name, hint, f"case {k}: shape {ga.shape}, expected {wa.shape}",
                                   raise_on_fail)
                same = bool(np.allclose(ga, wa, atol=atol, rtol=rtol))
                detail = f"case {k}: largest difference {_largest_difference(ga, wa):.3g}"
            if not same:
                return _report(False, name, hint, detail, raise_on_fail)
    return _report(True, name, hint)


class Exercises:
    """The self-checks of one notebook's exercises, against references kept out of sight."""

    def __init__(self, notebook: str):
        self.notebook = notebook
        self._module_name = f"solutions.nb{str(notebook)[:2]}"
        self._solutions = importlib.import_module(self._module_name)
        self._numbers = {name: number for number, names in getattr(self._solutions, "EXERCISES", {}).items()
                         for name in names}

    def __repr__(self):
        return f"Exercises({self.notebook!r}): self-checks; show_solution(n) prints exercise n's answer"

    def _reference(self, name: str):
        if name not in self._numbers or not hasattr(self._solutions, name):
            raise LookupError(f"{self._module_name} has no exercise answer named {name!r}; "
                              f"it has {sorted(self._numbers)}")
        return getattr(self._solutions, name)

    def _label(self, name: str) -> str:
        return f"exercise {self._numbers.get(name, '?')}: {name}"

    def cases(self, maker: str, *args, **kwargs):
        """Inputs for a check, made by a helper of the solutions module (inputs, not answers)."""
        return getattr(self._solutions, maker)(*args, **kwargs)

    def check_function(self, candidate, cases, hint: str = "", name: str | None = None, **tolerance) -> bool:
        """``candidate(*case)`` against the reference of the same name, on every case."""
        name = name or getattr(candidate, "__name__", "function")
        return check_function(candidate, self._reference(name), cases, name=self._label(name),
                              hint=hint, **tolerance)

    def check_equal(self, name: str, answer, hint: str = "") -> bool:
        return check_equal(answer, self._reference(name), name=self._label(name), hint=hint)

    def check_close(self, name: str, answer, hint: str = "", **tolerance) -> bool:
        return check_close(answer, self._reference(name), name=self._label(name), hint=hint, **tolerance)

    def show_solution(self, exercise: int) -> None:
        """Print the reference answer of exercise ``exercise`` (only when you want to see it)."""
        names = getattr(self._solutions, "EXERCISES", {}).get(exercise)
        if not names:
            raise LookupError(f"{self._module_name} has no exercise {exercise}; it has "
                              f"{sorted(getattr(self._solutions, 'EXERCISES', {}))}")
        print(solution_source(self._solutions, names))


def solution_source(module, names) -> str:
    """The source of the named answers in ``module``: a function's definition, or the statement
    that computes a value together with the module's functions it calls."""
    tree = ast.parse(inspect.getsource(module))
    source = inspect.getsource(module)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    shown, parts = set(), []

    def show(node):
        if id(node) not in shown:
            shown.add(id(node))
            parts.append(ast.get_source_segment(source, node))

    for name in names:
        if name in functions:
            show(functions[name])
            continue
        for node in tree.body:
            targets = [t.id for t in getattr(node, "targets", []) if isinstance(t, ast.Name)]
            if isinstance(node, ast.Assign) and name in targets:
                called = {c.func.id for c in ast.walk(node.value)
                          if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                for helper in sorted(called & set(functions)):
                    show(functions[helper])
                show(node)
    return "\n\n".join(parts)
