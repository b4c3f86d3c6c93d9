"""Profile, device, seeding, Colab and online/offline detection, the setup banner and the run clock."""
from __future__ import annotations

import dataclasses
import importlib
import os
import platform
import random
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

PROFILES = ("smoke", "study", "full")
DEFAULT_PROFILE = "study"
PROFILE_HELP = {
    "smoke": "seconds per notebook, tiny sizes, offline data only (what CI runs)",
    "study": "a few minutes on a 2-core laptop CPU, a result worth looking at (default)",
    "full": "the real data set and the published setup, meant for a GPU (Colab)",
}
HUB_HOST = "huggingface.co"
_CLOCK_START = time.time()
_CURRENT: "Environment | None" = None


def restart_clock() -> None:
    """Called by the setup cell: a notebook's wall time is measured from here."""
    global _CLOCK_START
    _CLOCK_START = time.time()


def elapsed_seconds() -> float:
    """Seconds since the setup cell ran (or since this module was imported)."""
    return time.time() - _CLOCK_START


class ProfileError(ValueError):
    """An unknown profile name."""


def get_profile(value: str | None = None) -> str:
    """Return the profile: ``value`` if given, else ``$COURSE_PROFILE``, else ``study``.

    An unknown name raises an error that lists the valid ones.
    """
    name = value if value is not None else os.environ.get("COURSE_PROFILE", DEFAULT_PROFILE)
    name = str(name).strip().lower() or DEFAULT_PROFILE
    if name not in PROFILES:
        choices = "\n".join(f"  {p:6s} {PROFILE_HELP[p]}" for p in PROFILES)
        raise ProfileError(
            f"Unknown profile {name!r}. Set COURSE_PROFILE (or PROFILE in the parameters cell) "
            f"to one of:\n{choices}"
        )
    return name


def by_profile(profile: str, *, smoke, study, full):
    """Pick the value for ``profile``: ``EPOCHS = by_profile(PROFILE, smoke=1, study=8, full=20)``."""
    return {"smoke": smoke, "study": study, "full": full}[get_profile(profile)]


def in_colab() -> bool:
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def get_device(prefer: str | None = None):
    """The best available torch device (cuda, then mps, then cpu), or ``prefer`` / ``$COURSE_DEVICE``."""
    import torch

    wanted = prefer or os.environ.get("COURSE_DEVICE")
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"Device {wanted!r} was asked for, but CUDA is not available here. "
                               "Unset COURSE_DEVICE or use 'cpu'.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@contextmanager
def torch_threads(n: int | None):
    """Run the block with ``n`` intra-op torch threads (None: leave them as they are), then restore."""
    import torch

    if n is not None and (not isinstance(n, int) or n < 1):
        raise ValueError(f"torch_threads needs a whole number of threads >= 1 (or None), got {n!r}")
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def set_seed(seed: int = 0) -> int:
    """Seed Python's ``random``, NumPy and torch (all devices) so a run can be repeated.

    The order of a ``set`` of strings depends on ``PYTHONHASHSEED``, which only takes effect when
    an interpreter starts: the course's runner sets it for every notebook kernel it starts.
    """
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass
    return seed


def is_online(host: str = HUB_HOST, timeout: float = 1.5) -> bool:
    """Decide once, quickly, whether the Hugging Face hub is reachable.

    ``HF_HUB_OFFLINE=1`` set by the user means offline; ``COURSE_ONLINE=0/1`` forces the answer
    (the results runner passes its decision on to every notebook). Otherwise a TCP connection to
    the hub with a short timeout decides, instead of the 30-50 s of retries a failing hub call costs.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    forced = os.environ.get("COURSE_ONLINE")
    if forced is not None and forced.strip() != "":
        return forced.strip().lower() in ("1", "true", "yes", "on")
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _version(module: str) -> str:
    try:
        return getattr(importlib.import_module(module), "__version__", "?")
    except ImportError:
        return "missing"


@dataclass
class Environment:
    """What a notebook runs with; printed as the first output of every notebook."""

    profile: str
    device: object
    seed: int
    online: bool
    colab: bool
    versions: dict = field(default_factory=dict)

    def banner(self) -> str:
        where = "Colab" if self.colab else platform.system() or "local"
        net = "online (hub reachable)" if self.online else "offline (HF_HUB_OFFLINE=1, embedded defaults)"
        libs = " ".join(f"{k}={v}" for k, v in self.versions.items())
        return (f"profile={self.profile} | device={self.device} | seed={self.seed} | {net} | "
                f"{where}, python {platform.python_version()} | {libs}")


def make_environment(profile: str | None = None, seed: int | None = None, online: bool | None = None,
                     libraries=("torch", "numpy", "matplotlib")) -> Environment:
    """The environment a notebook runs with, decided without printing or changing anything."""
    chosen_profile = get_profile(profile)
    seed = int(os.environ.get("COURSE_SEED", 0)) if seed is None else seed
    if online is None:
        online = chosen_profile != "smoke" and is_online()
    return Environment(profile=chosen_profile, device=get_device(), seed=seed, online=online,
                       colab=in_colab(), versions={lib: _version(lib) for lib in libraries})


def setup_notebook(seed: int | None = None, profile: str | None = None,
                   libraries=("torch", "numpy", "matplotlib")) -> Environment:
    """Everything the setup cell does after the repo is importable.

    Decides online/offline first (the smoke profile is always offline) and sets
    ``HF_HUB_OFFLINE`` before any hub library is imported, then the profile, device and seed,
    restarts the clock that ``Results.finish`` reads, and prints the one-line banner.
    """
    global _CURRENT
    restart_clock()
    env = make_environment(profile, seed, libraries=libraries)
    os.environ["HF_HUB_OFFLINE"] = "0" if env.online else "1"
    os.environ["COURSE_ONLINE"] = "1" if env.online else "0"
    if not env.online:
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("KINETO_LOG_LEVEL", "6")   # torch's profiler would log each start and stop
    set_seed(env.seed)
    _CURRENT = env
    print(env.banner())
    return env


def current_environment(profile: str | None = None) -> Environment:
    """The environment of this session (the one the setup cell made; a quiet, offline one when
    no setup cell ran, as in the tests), with ``profile`` if one is given."""
    env = _CURRENT or make_environment(profile, online=False, libraries=())
    if profile is not None and get_profile(profile) != env.profile:
        env = dataclasses.replace(env, profile=get_profile(profile))
    return env
