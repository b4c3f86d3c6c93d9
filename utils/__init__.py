"""Shared infrastructure for the course notebooks.

Kept small and light: importing ``utils`` pulls in no heavy library, so the setup cell can
decide online/offline (``HF_HUB_OFFLINE``) before ``transformers`` or ``datasets`` are
imported. Import what a notebook needs from the concern's module, e.g.
``from utils.training import train``.
"""
from utils.environment import (  # noqa: F401
    PROFILES,
    by_profile,
    get_device,
    get_profile,
    in_colab,
    is_online,
    set_seed,
    setup_notebook,
)
