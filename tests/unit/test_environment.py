import os

import pytest

from utils.environment import PROFILES, ProfileError, by_profile, get_profile, is_online, setup_notebook


def test_profile_default_and_env(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    assert get_profile() == "study"
    monkeypatch.setenv("COURSE_PROFILE", "Smoke")
    assert get_profile() == "smoke"
    assert get_profile("full") == "full"


def test_unknown_profile_lists_valid_ones(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ProfileError) as info:
        get_profile()
    for name in PROFILES:
        assert name in str(info.value)


def test_by_profile_picks_value():
    assert by_profile("smoke", smoke=1, study=2, full=3) == 1
    assert by_profile("full", smoke=1, study=2, full=3) == 3
    with pytest.raises(ProfileError):
        by_profile("medium", smoke=1, study=2, full=3)


def test_offline_decision_is_fast_and_respects_user(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert is_online() is False
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("COURSE_ONLINE", "1")
    assert is_online() is True
    monkeypatch.delenv("COURSE_ONLINE")
    import time

    start = time.time()
    is_online(host="unreachable.invalid", timeout=1.0)
    assert time.time() - start < 5


def test_setup_banner(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_ONLINE", "0")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    env = setup_notebook(seed=3, profile="smoke")
    out = capsys.readouterr().out
    assert "profile=smoke" in out and "seed=3" in out and "offline" in out and "device=" in out
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert env.profile == "smoke" and env.seed == 3


def test_seeding_repeats():
    import torch

    from utils.environment import set_seed

    set_seed(5)
    a = torch.randn(3)
    set_seed(5)
    assert torch.equal(a, torch.randn(3))


def test_torch_threads_restores_the_count():
    import torch

    from utils.environment import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):                      # None: leave the count alone
        assert torch.get_num_threads() == before
