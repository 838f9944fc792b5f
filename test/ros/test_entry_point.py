"""`python -m depthai_ros_bridge`: --help prints usage; a params file that is missing or not YAML is one
line, exit 2."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    return subprocess.run([sys.executable, "-m", "depthai_ros_bridge", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_help_prints_usage_and_starts_nothing():
    done = _run("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m depthai_ros_bridge")
    assert "config/" in done.stdout and "README" in done.stdout


@pytest.mark.parametrize("content, message", [(None, "no such readable file"), ("a: [\n", "invalid arguments")])
def test_a_bad_params_file_is_named_in_one_line(tmp_path, content, message):
    path = tmp_path / "params.yaml"
    if content is not None:
        path.write_text(content)
    done = _run("--ros-args", "--params-file", str(path))
    assert done.returncode == 2
    ours = [line for line in done.stderr.splitlines() if line.startswith("depthai_ros_bridge:")]
    assert len(ours) == 1 and str(path) in ours[0] and message in ours[0], done.stderr
    assert "Traceback" not in done.stderr
