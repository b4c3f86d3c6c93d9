"""Every notebook runs top to bottom under the smoke profile, offline, with no data folder;
its own asserts are the checks of what it teaches."""
import os

import pytest

from utils.notebooks import execute_notebook, list_notebooks

NOTEBOOKS = list_notebooks()


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_under_smoke_profile(path, tmp_path):
    env = {"COURSE_PROFILE": "smoke", "COURSE_RESULTS": str(tmp_path / "results.jsonl"),
           "COURSE_ONLINE": "0", "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg",
           "COURSE_CHECKPOINT_DIR": str(tmp_path / "checkpoints")}
    saved_data_dir = os.environ.pop("COURSE_DATA_DIR", None)
    try:
        nb = execute_notebook(path, tmp_path / path.name, env=env, timeout=900)
    finally:
        if saved_data_dir is not None:
            os.environ["COURSE_DATA_DIR"] = saved_data_dir
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "profile=smoke" in outputs, "the first output must be the setup banner"
    assert (tmp_path / "results.jsonl").exists(), "the notebook must record its results"
