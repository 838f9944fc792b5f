"""Run the camera node: `python -m depthai_ros_bridge [--ros-args ...]` (console script `camera_node`).

SIGINT and SIGTERM are ours, not rclpy's: rclpy's handler shuts the context down at once,
after which the node can no longer make its shutdown transition and the device (on a real
OAK, the USB link) is never closed. Ours stop the spin loop; a transition under way
(configure opening the device) is let finish, then the node goes through shutdown (device
closed, threads joined) before rclpy is shut down.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from ..core.malloc import limit_arenas
from .dds import use_large_frames_profile

USAGE = """usage: python -m depthai_ros_bridge [--ros-args --params-file FILE] [-p name:=value ...]
       (or: ros2 run depthai_ros_bridge camera_node --ros-args ...)

Runs the `oak` lifecycle node. Presets in config/: sim.yaml (simulated OAK-D, demo network),
oak_d.yaml, oak_1.yaml ... Start it configured and active with `-p autostart:=true`, or drive it
with `ros2 lifecycle set /oak configure` and `ros2 lifecycle set /oak activate`.
Every parameter, topic and service: README.md, or `ros2 param describe /oak <name>`.
"""
PRIMARY_STATES = ("unconfigured", "inactive", "active", "finalized")
# A configure under way at SIGINT is let finish, so that shutdown then closes what it opened: a
# device left open (a real OAK: its USB link) is "device busy" at the next start. Bounded, so a
# configure that hangs cannot keep the process alive.
TRANSITION_GRACE_S = 30.0


def _wants_help(argv: list[str]) -> bool:
    own = argv[1:argv.index("--ros-args")] if "--ros-args" in argv else argv[1:]
    return any(a in ("-h", "--help") for a in own)


def _missing_params_file(argv: list[str]) -> str | None:
    """The first `--params-file` that cannot be read: rcl would fail with a C-level trace instead."""
    for flag, value in zip(argv, argv[1:]):
        if flag == "--params-file" and not os.access(value, os.R_OK):
            return value
    return None


def _device_type(argv_node_name: str = "oak") -> str:
    """`device.type` as the parameter overrides give it (params files with rcl's own matching of
    `/**` and node names, remaps, -p), read before the node (and depthai) is imported."""
    probe = Node(argv_node_name, allow_undeclared_parameters=True,
                 automatically_declare_parameters_from_overrides=True)
    try:
        value = probe.get_parameter_or("device.type", None).value
        return value if isinstance(value, str) else ""
    finally:
        probe.destroy_node()


def _quiet_depthai_for_sim() -> None:
    """depthai warns at import that USB is unavailable in a container: noise with the simulator,
    which opens no USB device. Errors still print; a DEPTHAI_LEVEL of the user's own wins."""
    os.environ.setdefault("DEPTHAI_LEVEL", "error")


def _wait_for_transition(node, executor, deadline: float) -> None:
    """Spin until the node is in a primary state (a configure under way finishes) or the deadline."""
    while node.lifecycle_state not in PRIMARY_STATES and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)


def main(args: list[str] | None = None) -> int:
    argv = list(args if args is not None else sys.argv)
    if _wants_help(argv):
        print(USAGE, end="")
        return 0
    missing = _missing_params_file(argv)
    if missing:
        print(f"depthai_ros_bridge: --params-file {missing}: no such readable file "
              f"(presets: {Path(__file__).resolve().parents[2] / 'config'})", file=sys.stderr)
        return 2
    limit_arenas()              # before any thread starts: see core/malloc.py
    own_profile = use_large_frames_profile()
    try:
        rclpy.init(args=argv, signal_handler_options=SignalHandlerOptions.NO)
    except Exception as e:  # noqa: BLE001 - rclpy raises RCLError for unparsable arguments / params files
        print(f"depthai_ros_bridge: invalid arguments: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    node = executor = None
    try:
        if _device_type() == "sim":
            _quiet_depthai_for_sim()
        from .node import CameraNode  # imports depthai: after its log level is chosen
        node = CameraNode()
        if own_profile:
            node.get_logger().info(f"Fast DDS profile {os.environ['FASTDDS_DEFAULT_PROFILES_FILE']} (shared "
                                   "memory sized for camera frames); set FASTDDS_DEFAULT_PROFILES_FILE to use your own")
        # One thread per callback group: default (lifecycle, parameters, timers), 3 streams' NN services,
        # uploads, autofocus, still: a long deploy never holds up another group.
        executor = MultiThreadedExecutor(num_threads=7)
        executor.add_node(node)
        if node.get_parameter("autostart").value:
            node.autostart()
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
        _wait_for_transition(node, executor, time.monotonic() + TRANSITION_GRACE_S)
    finally:
        if node is not None:
            node.finish()           # device closed, threads joined, before the context goes
        if executor is not None:      # a deploy still running is abandoned: its stream is closed already
            executor.shutdown(timeout_sec=0, wait_for_threads=False)
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _exit_if_work_remains()
    return 0


def _exit_if_work_remains(grace_s: float = 1.0) -> None:
    """Exit now if an executor thread is still busy (a deploy reading a large model): everything it
    could touch is closed, and Python would otherwise wait for it at exit (concurrent.futures
    joins its workers), keeping a Ctrl-C waiting for seconds."""
    deadline = time.monotonic() + grace_s
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.current_thread()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
