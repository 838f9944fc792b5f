"""The layout holds: core/ is ROS-, DepthAI- and onnxruntime-free; nn/, device/ and sim/ are ROS-free;
the real-OAK backend loads without the simulator's inference engine.

Each check imports the modules in a fresh interpreter in which the forbidden packages cannot
be imported at all, so an import anywhere in the chain fails the test.
"""
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "depthai_ros_bridge"
ROS = ("rclpy", "rcl_interfaces", "lifecycle_msgs", "rosidl_runtime_py", "*_msgs", "*_srvs")

_GUARD = """
import importlib, importlib.abc, sys
BLOCKED = {blocked!r}
class Guard(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if any(top == b or (b.startswith("*") and top.endswith(b[1:])) for b in BLOCKED):
            raise ImportError(f"blocked import of {{name}}")
        return None
sys.meta_path.insert(0, Guard())
for module in {modules!r}:
    importlib.import_module(module)
print("ok")
"""


def _modules(subpackage: str) -> list[str]:
    return [f"depthai_ros_bridge.{subpackage}.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE / subpackage)])]


def _import_blocked(modules: list[str], blocked: tuple[str, ...]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _GUARD.format(blocked=blocked, modules=modules)],
                          capture_output=True, text=True, timeout=120)


def test_core_imports_neither_ros_nor_depthai_nor_onnxruntime():
    modules = _modules("core")
    assert "depthai_ros_bridge.core.spec" in modules
    run = _import_blocked(modules, ROS + ("depthai", "onnxruntime"))
    assert run.returncode == 0, run.stderr[-2000:]


@pytest.mark.parametrize("subpackage", ["nn", "device", "sim"])
def test_only_the_ros_package_imports_ros(subpackage):
    run = _import_blocked(_modules(subpackage), ROS)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_real_oak_backend_loads_without_onnxruntime():
    run = _import_blocked(["depthai_ros_bridge.device.oak", "depthai_ros_bridge.device.base"], ("onnxruntime",))
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_guard_catches_a_forbidden_import():
    run = _import_blocked(["depthai_ros_bridge.ros.messages"], ROS)
    assert run.returncode != 0 and "blocked import of" in run.stderr
