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
