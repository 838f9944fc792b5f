"""Run the camera node: `python -m depthai_ros_bridge [--ros-args ...]` (console script `camera_node`).

SIGINT and SIGTERM are ours, not rclpy's: rclpy's handler shuts the context down at once,
after which the node can no longer make its shutdown transition and the device (on a real
OAK, the USB link) is never closed. Ours stop the spin loop; the node then goes through
shutdown (device closed, threads joined) before rclpy is shut down.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.signals import SignalHandlerOptions

from .dds import use_large_frames_profile
from .node import CameraNode

USAGE = """usage: python -m depthai_ros_bridge [--ros-args --params-file FILE] [-p name:=value ...]
       (or: ros2 run depthai_ros_bridge camera_node --ros-args ...)

Runs the `oak` lifecycle node. Presets in config/: sim.yaml (simulated OAK-D, demo network),
oak_d.yaml, oak_1.yaml ... Start it configured and active with `-p autostart:=true`, or drive it
with `ros2 lifecycle set /oak configure` and `ros2 lifecycle set /oak activate`.
Every parameter, topic and service: README.md, or `ros2 param describe /oak <name>`.
"""


def _wants_help(argv: list[str]) -> bool:
    own = argv[1:argv.index("--ros-args")] if "--ros-args" in argv else argv[1:]
    return any(a in ("-h", "--help") for a in own)


def main(args: list[str] | None = None) -> int:
    argv = list(args if args is not None else sys.argv)
    if _wants_help(argv):
        print(USAGE, end="")
        return 0
    own_profile = use_large_frames_profile()
    rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    node = executor = None
    try:
        node = CameraNode()
        if own_profile:
            node.get_logger().info(f"Fast DDS profile {os.environ['FASTDDS_DEFAULT_PROFILES_FILE']} (shared "
                                   "memory sized for camera frames); set FASTDDS_DEFAULT_PROFILES_FILE to use your own")
        executor = MultiThreadedExecutor()
        executor.add_node(node)
        if node.get_parameter("autostart").value:
            node.autostart()
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    finally:
        if node is not None:
            node.finish()           # device closed, threads joined, before the context goes
        if executor is not None:
            executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
