"""`python -m depthai_ros_bridge [--ros-args ...]`: run the camera node.

With RUN_SECONDS set, it runs that long, then prints each topic's rate as a
subscriber received it over DDS, and exits. The subscriber runs in a process of its
own: in this one, its executor and callbacks would take CPU and the GIL from the node.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

from .dds import use_large_frames_profile
from .node import CameraNode


def main(args: list[str] | None = None) -> int:
    subscriber_env = dict(os.environ)        # the monitor is an ordinary subscriber: no profile of ours
    own_profile = use_large_frames_profile()
    rclpy.init(args=args if args is not None else sys.argv)
    node = CameraNode()
    if own_profile:
        node.get_logger().info(f"Fast DDS profile {os.environ['FASTDDS_DEFAULT_PROFILES_FILE']} (shared memory "
                               "sized for camera frames); set FASTDDS_DEFAULT_PROFILES_FILE to use your own")
    executor = MultiThreadedExecutor()
    executor.add_node(node)
    run_seconds = float(os.environ.get("RUN_SECONDS", "0") or 0)
    monitor = None
    if run_seconds:
        monitor = subprocess.Popen([sys.executable, "-m", "depthai_ros_bridge.topic_rates",
                                    node.get_fully_qualified_name()], stdout=subprocess.PIPE, text=True,
                                   env=subscriber_env)
    try:
        if node.get_parameter("autostart").value:
            node.trigger_configure()
            node.trigger_activate()
        deadline = time.monotonic() + run_seconds if run_seconds else None
        while rclpy.ok() and (deadline is None or time.monotonic() < deadline):
            executor.spin_once(timeout_sec=0.1)
        if monitor is not None:     # it reports when stopped, while the node still publishes
            monitor.send_signal(signal.SIGINT)
            print(monitor.communicate(timeout=30)[0], end="", flush=True)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.trigger_shutdown() if node.device is not None else None
        executor.shutdown()
        node.destroy_node()
        if monitor is not None and monitor.poll() is None:
            monitor.kill()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
