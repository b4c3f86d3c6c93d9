#!/usr/bin/env python3
"""The course's commands (standard library only, so it runs before anything is installed).

    python course.py run  [--profile study] [--fresh] [--data-dir DIR] [-p NAME VALUE ...] [notebooks...]
                                     execute the notebooks into runs/<profile>/, summarise the results
    python course.py trials NN [--data-dir DIR]  the recipe trials of a notebook (results/trials/)
    python course.py test [pytest arguments]     the test suite (smoke profile)
    python course.py install [--colab]           only install what is missing
    python course.py slides NN | strip           presenter slides (offline reveal.js) | strip outputs
    python course.py site [--profile study]      the course website from runs/<profile>/ into runs/site/
    python course.py figures                     re-embed the schematics (notebooks/figures/*.svg)

Run it with any Python 3.10 or newer. Outside a virtual environment (a system or Homebrew
Python, where pip may refuse to install: PEP 668) it creates ``.venv`` in the course folder,
installs there and runs itself inside it; inside a venv, a conda environment or Colab it installs
in place. What it installs comes from requirements.txt, the one list of dependencies, checked by
version. On Linux without an NVIDIA GPU torch comes from PyTorch's CPU wheel index (a few hundred
MB instead of several GB of CUDA libraries). The commands themselves live in ``tools/``.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
REQUIREMENTS = ROOT / "requirements.txt"
VENV = Path(os.environ.get("COURSE_VENV") or ROOT / ".venv")
MIN_PYTHON = (3, 10)
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
COMMANDS = ("run", "trials", "test", "install", "slides", "site", "strip", "figures")
TOOLING_ONLY = {"slides": ("nbformat", "nbconvert", "sphinx-revealjs", "jupyter-server-mathjax"),
                "site": ("nbformat", "nbconvert", "jupyter-server-mathjax"),
                "strip": ("nbformat", "nbconvert"), "figures": ("nbformat",)}


# ----------------------------------------------------------------------------- decisions
def python_ok(version=sys.version_info) -> bool:
    return tuple(version[:2]) >= MIN_PYTHON


def environment_kind(prefix: str = sys.prefix, base_prefix: str = sys.base_prefix,
                     environ=os.environ, modules=sys.modules) -> str | None:
    """``"venv"``, ``"conda"`` or ``"colab"`` when packages may be installed in place; None for a
    system-wide Python, where the course makes its own ``.venv``."""
    if "google.colab" in modules or "COLAB_RELEASE_TAG" in environ:
        return "colab"
    if prefix != base_prefix:
        return "venv"
    conda = environ.get("CONDA_PREFIX")
    if conda and Path(conda).resolve() == Path(prefix).resolve():
        return "conda"
    return None


def externally_managed(stdlib: str | None = None) -> bool:
    """Whether this interpreter carries PEP 668's marker (pip refuses to install into it)."""
    return (Path(stdlib or sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").exists()


def has_nvidia_gpu(which=shutil.which, exists=os.path.exists) -> bool:
    return bool(which("nvidia-smi")) or exists("/proc/driver/nvidia/version")


def parse_version(text: str) -> tuple[int, ...]:
    """The numeric release of a version string: "2.13.0+cpu" -> (2, 13, 0), "5.0.0rc1" -> (5, 0, 0)."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", text)
    if not match:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in match.group(1).split("."))


def at_least(installed: str, bound: str) -> bool:
    a, b = parse_version(installed), parse_version(bound)
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


@dataclass
class Requirement:
    name: str
    bound: str | None           # the lower bound of ``name>=bound``
    tags: set = field(default_factory=set)
    tested: str | None = None   # "# tested: X": the version CI tests (torch)

    @property
    def spec(self) -> str:
        return f"{self.name}>={self.bound}" if self.bound else self.name


def parse_requirements(text: str) -> list[Requirement]:
    """requirements.txt's lines ``name>=bound  # tag, tag: why, tested: X``; the tags course.py knows:
    ``tooling`` (only for the command line and tests: not installed on Colab), ``local`` (Jupyter
    itself: Colab has its own), ``no-deps`` (installed with pip's --no-deps)."""
    requirements = []
    for line in text.splitlines():
        code, _, comment = line.partition("#")
        code = code.strip()
        if not code:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(?:>=\s*([0-9][0-9A-Za-z.+\-]*))?", code)
        if not match:
            raise ValueError(f"requirements.txt: cannot read {line!r}; write name>=lower_bound")
        parts = [w.partition(":") for w in comment.split(",")] if comment.strip() else []
        tags = {key.strip() for key, _, _ in parts if key.strip() in ("tooling", "local", "no-deps")}
        tested = next((value.strip() for key, _, value in parts if key.strip() == "tested"), None)
        requirements.append(Requirement(match.group(1), match.group(2), tags, tested))
    return requirements


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def needed(requirements: list[Requirement], versions: dict, colab: bool = False,
           only: tuple[str, ...] | None = None) -> list[Requirement]:
    """The requirements that are missing or older than their bound (``versions`` maps names to
    installed versions or None); on Colab only what the notebooks need and Colab lacks."""
    out = []
    for r in requirements:
        if only is not None and r.name not in only:
            continue
        if colab and r.tags & {"tooling", "local"}:
            continue
        version = versions.get(r.name)
        if version is None or (r.bound and not at_least(version, r.bound)):
            out.append(r)
    return out


def torch_attempts(torch: Requirement, system: str = platform.system(), gpu: bool | None = None,
                   cpu_index_reachable=None) -> list[tuple[str, list[str]]]:
    """pip arguments to try in order for torch, each with a line that says what it is."""
    wanted = f"torch=={torch.tested}" if torch.tested else torch.spec
    attempts = []
    gpu = has_nvidia_gpu() if gpu is None else gpu
    if system == "Linux" and not gpu:
        reachable = cpu_index_reachable() if cpu_index_reachable else _reachable(CPU_INDEX)
        if reachable:
            for spec in dict.fromkeys([wanted, torch.spec]):
                attempts.append((f"{spec} from PyTorch's CPU index (no GPU here)",
                                 [spec, "--index-url", CPU_INDEX, "--extra-index-url", "https://pypi.org/simple"]))
        else:
            print("PyTorch's CPU wheel index is not reachable: torch comes from the default index "
                  "(on Linux that is the CUDA build, several GB, unless a local wheel is configured).")
    for spec in dict.fromkeys([wanted, torch.spec]):
        attempts.append((f"{spec} from the default index", [spec]))
    return attempts


def _reachable(url: str, timeout: float = 3.0) -> bool:
    host = re.match(r"https?://([^/:]+)", url).group(1)
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- actions
def venv_python(venv: Path = VENV) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path = VENV) -> Path:
    """``venv``'s interpreter, creating the environment first if needed (stdlib venv, else uv)."""
    python = venv_python(venv)
    if python.exists():
        return python
    print(f"Not in a virtual environment: creating {venv} (once) and installing the course there.")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    except subprocess.CalledProcessError:
        uv = shutil.which("uv")
        if not uv:
            shutil.rmtree(venv, ignore_errors=True)
            raise SystemExit(
                "This Python cannot create virtual environments (its venv/ensurepip part is missing). "
                "On Debian or Ubuntu: sudo apt install python3-venv. Or install uv "
                "(https://docs.astral.sh/uv/), or create and activate an environment yourself "
                "(conda works too), then run this command again.") from None
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([uv, "venv", "--seed", "--python", sys.executable, str(venv)], check=True)
    return python


def pip(args: list[str], python: str = sys.executable) -> None:
    command = [python, "-m", "pip", "install", "--disable-pip-version-check", *args]
    print("+", " ".join(command[3:]), flush=True)
    subprocess.run(command, check=True)


def install(colab: bool = False, only: tuple[str, ...] | None = None) -> None:
    """Install what is missing or too old, torch first, in this interpreter."""
    requirements = parse_requirements(REQUIREMENTS.read_text(encoding="utf-8"))
    versions = {r.name: installed_version(r.name) for r in requirements}
    todo = needed(requirements, versions, colab=colab, only=only)
    if not todo:
        if only is None:
            print("All course packages are installed.")
        return
    try:
        torch = next((r for r in todo if r.name == "torch"), None)
        if torch is not None:
            for why, args in torch_attempts(torch):
                print(f"Installing {why}.")
                try:
                    pip(["-q", "--retries", "1", "--timeout", "60", *args])
                    break
                except subprocess.CalledProcessError:
                    print("  that did not work; trying the next way.")
            else:
                raise SystemExit("torch could not be installed. See https://pytorch.org/get-started/locally/ "
                                 "for your platform, install it, then run this command again.")
        rest = [r for r in todo if r.name != "torch"]
        plain = [r.spec for r in rest if "no-deps" not in r.tags]
        if plain:
            print(f"Installing {len(plain)} package(s): {', '.join(plain)}")
            pip(["-q", *plain])
        alone = [r.spec for r in rest if "no-deps" in r.tags]
        if alone:
            pip(["-q", "--no-deps", *alone])
    except subprocess.CalledProcessError as error:
        hint = ""
        if externally_managed() and environment_kind() is None:
            hint = ("\nThis Python is managed by your system (PEP 668: pip may not install into it). "
                    "Run `python3 course.py ...` without COURSE_USE_CURRENT_PYTHON, and the course makes "
                    "its own .venv.")
        raise SystemExit(f"Installing failed ({' '.join(error.cmd[3:])}). Read pip's message above; "
                         f"check the network or the package index.{hint}") from None


def main(argv: list[str]) -> int:
    if not python_ok():
        print(f"This course needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is "
              f"{platform.python_version()} ({sys.executable}). Install a newer Python (python.org, "
              "your package manager, or conda), then run it with that one.", file=sys.stderr)
        return 1
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
        return 2
    kind = environment_kind()
    if kind is None and not os.environ.get("COURSE_USE_CURRENT_PYTHON"):
        python = ensure_venv()
        print(f"Using {python} (the course's .venv; COURSE_USE_CURRENT_PYTHON=1 installs into this Python "
              "instead).", flush=True)
        env = dict(os.environ, VIRTUAL_ENV=str(VENV))
        return subprocess.call([str(python), str(ROOT / "course.py"), *argv], env=env)
    install(colab="--colab" in rest or kind == "colab", only=TOOLING_ONLY.get(command))
    if command == "install":
        return 0
    os.environ.setdefault("COURSE_CWD", os.getcwd())   # where relative paths on the command line start
    os.chdir(ROOT)
    if command == "run":
        return subprocess.call([sys.executable, "-m", "tools.runner", *rest])
    if command == "trials":
        return subprocess.call([sys.executable, "-m", "tools.trials", *rest])
    if command == "test":
        env = dict(os.environ, COURSE_PROFILE="smoke")
        print(f"Running the tests with {sys.executable} (Python {platform.python_version()}).", flush=True)
        return subprocess.call([sys.executable, "-m", "pytest", *(rest or ["tests"])], env=env)
    if command == "slides":
        return subprocess.call([sys.executable, "-m", "tools.slides", *rest])
    if command == "site":
        return subprocess.call([sys.executable, "-m", "tools.site", *rest])
    if command == "figures":
        return subprocess.call([sys.executable, "-m", "tools.figures", *rest])
    return subprocess.call([sys.executable, "-m", "tools.notebooks", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
