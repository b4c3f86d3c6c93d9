"""Self-checks for exercises: the learner gets pass/fail and a hint, never the answer.

Each notebook's reference solutions live in ``solutions/nbNN.py``; an exercise cell calls a
check with the learner's answer and the reference, for example::

    check_function(my_softmax, solutions.softmax, cases=[(torch.randn(3, 5),)],
                   hint="subtract the row maximum before exp for stability")
"""
from __future__ import annotations

import math

import numpy as np


class CheckFailed(AssertionError):
    pass


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


def check_close(answer, expected, name: str = "answer", hint: str = "", atol: float = 1e-5,
                rtol: float = 1e-4, raise_on_fail: bool = False) -> bool:
    """Pass when ``answer`` equals ``expected`` (numbers, arrays or tensors) within tolerance."""
    if answer is None or answer is Ellipsis:
        return _report(False, name, hint, "no answer yet (replace the ... )", raise_on_fail)
    try:
        a, e = _as_array(answer), _as_array(expected)
    except (TypeError, ValueError):
        return _report(False, name, hint, f"could not read {answer!r} as numbers", raise_on_fail)
    if a.shape != e.shape:
        return _report(False, name, hint, f"shape {a.shape}, expected {e.shape}", raise_on_fail)
    ok = bool(np.allclose(a, e, atol=atol, rtol=rtol, equal_nan=False))
    detail = "" if ok else f"largest difference {np.max(np.abs(a - e)):.3g}"
    return _report(ok, name, hint, detail, raise_on_fail)


def check_equal(answer, expected, name: str = "answer", hint: str = "", raise_on_fail: bool = False) -> bool:
    """Pass when ``answer == expected`` exactly (strings, integers, lists)."""
    if answer is Ellipsis:
        return _report(False, name, hint, "no answer yet (replace the ... )", raise_on_fail)
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
            return _report(False, name, hint, "not written yet", raise_on_fail)
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
                detail = f"case {k}: largest difference {np.max(np.abs(ga - wa)) if ga.size else 0:.3g}"
            if not same:
                return _report(False, name, hint, detail, raise_on_fail)
    return _report(True, name, hint)
