"""Process-wide test environment. Runs before any test module imports rclpy.

* DDS discovery stays on loopback (nothing leaves the machine) unless the caller
  chose a range explicitly.
* Each pytest process gets its own ROS domain (1..100), so concurrent runs on
  one machine do not see each other's topics. DRB_TEST_ROS_DOMAIN_ID pins it.
* DepthAI telemetry off.
"""
import os

os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
os.environ["DEPTHAI_TELEMETRY"] = "0"
os.environ["ROS_DOMAIN_ID"] = os.environ.get("DRB_TEST_ROS_DOMAIN_ID") or str(1 + os.getpid() % 100)

import sys
from pathlib import Path

# Developer tools (demo model generator, topic rate monitor) live outside the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))


# -- markers (registered in setup.cfg) ------------------------------------------------------
# unit: in this process, no DDS participant, no child process; `make test PYTEST_ARGS="-m unit"`
#       runs these in well under a minute.
# dds: starts DDS participants (rclpy nodes) or ROS processes; slow: starts other processes
#       (interpreters, builds); hardware: needs an OAK attached.
# By folder, then by the files and tests below; everything else is unit. A test that starts
# processes or DDS outside test/ros/node must be listed here (or carry the marker itself).

TEST_DIR = Path(__file__).resolve().parent
KIND_MARKERS = ("dds", "slow", "hardware")
_FOLDER_MARKERS = {"ros/node": "dds", "hardware": "hardware"}
_MARKERS = {
    "benchmarks/test_bench_smoke.py": "dds",
    "tools/test_timed_run.py": "dds",
    "ros/test_signals.py": "dds",
    "test_interfaces.py::test_messages_cross_dds_between_processes_with_upstream_hashes": "dds",
    "nn/test_model_archives.py::test_a_zeros_bomb_is_refused_with_bounded_memory": "slow",
    "ros/test_entry_point.py": "slow",
    "test_dry_run.py::test_the_module_and_its_pipeline_description_from_the_command_line": "slow",
    "test_colcon_build.py": "slow",
    "test_import_guards.py": "slow",
}


def marker_for(relative_path: str, test_name: str) -> str:
    """The kind of a test from its path below test/ and its function name."""
    for folder, marker in _FOLDER_MARKERS.items():
        if relative_path.startswith(folder + "/"):
            return marker
    return _MARKERS.get(f"{relative_path}::{test_name}") or _MARKERS.get(relative_path) or "unit"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(m) for m in KIND_MARKERS + ("unit",)):
            continue                              # marked in the test module itself
        relative = Path(item.path).resolve().relative_to(TEST_DIR).as_posix()
        item.add_marker(marker_for(relative, getattr(item, "originalname", item.name)))
