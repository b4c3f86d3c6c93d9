"""Shared fixtures. The whole suite runs under the smoke profile, offline, with no data folder;
tests that need real data copies take the ``shared_data`` fixture (skipped without them)."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COURSE_PROFILE", "smoke")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("COURSE_ONLINE", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.pop("COURSE_DATA_DIR", None)          # the smoke suite uses offline defaults only


@pytest.fixture
def shared_data():
    """Real copies of the online data sets (``$COURSE_TEST_DATA``, else ``../shared/data``
    beside the checkout, as in CI); the test is skipped when there are none."""
    folder = Path(os.environ.get("COURSE_TEST_DATA") or ROOT.parent / "shared" / "data")
    if not folder.is_dir():
        pytest.skip(f"no data folder at {folder} (set COURSE_TEST_DATA)")
    return folder


def pytest_terminal_summary(terminalreporter):
    """After the notebook runs: how many of each notebook's asserts ran under smoke."""
    counts = [(report.nodeid.split("[")[-1].rstrip("]"), value)
              for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
              for name, value in getattr(report, "user_properties", []) if name == "asserts"]
    if counts:
        terminalreporter.section("notebook asserts that ran under smoke")
        for notebook, value in sorted(counts):
            terminalreporter.write_line(f"{notebook:36s} {value}")
