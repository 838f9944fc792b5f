"""The package builds the way ROS users build it: `colcon build` in a workspace."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_colcon_build_installs_camera_node(tmp_path):
    colcon = shutil.which("colcon") or str(Path(sys.executable).with_name("colcon"))
    if not Path(colcon).exists():
        pytest.skip("colcon-common-extensions is not installed in this environment")
    env = dict(os.environ, PATH=f"{Path(colcon).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    ws = tmp_path / "ws"
    result = subprocess.run(["bash", str(REPO / "tools" / "colcon_check.sh"), str(ws)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr

    prefix = ws / "install" / "depthai_ros_bridge"
    script = prefix / "lib" / "depthai_ros_bridge" / "camera_node"  # where `ros2 run` looks
    assert script.is_file() and os.access(script, os.X_OK)
    (entry_points,) = prefix.glob("lib/python*/site-packages/depthai_ros_bridge*.egg-info/entry_points.txt")
    assert "camera_node = depthai_ros_bridge.ros.main:main" in entry_points.read_text()

    # The installed copy (not the editable source tree) is complete enough to import.
    (site,) = prefix.glob("lib/python*/site-packages")
    probe = subprocess.run(
        [sys.executable, "-c", "import depthai_ros_bridge.__main__ as m, depthai_ros_bridge.ros.dds as d; "
                               "assert d.LARGE_FRAMES_PROFILE.is_file(); print(m.__file__)"],
        env=dict(os.environ, PYTHONPATH=str(site)), cwd=tmp_path, capture_output=True, text=True,
        timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1].startswith(str(site))  # depthai may log first
