"""`make run RUN_SECONDS=N`: run the camera node N seconds, then print each topic's rate.

    python tools/timed_run.py SECONDS --ros-args --params-file config/sim.yaml -p autostart:=true

The node runs as `python -m depthai_ros_bridge` does; the rates are what a subscriber in a
third process received over DDS (tools/topic_rates.py): in the node's process its executor
and callbacks would take CPU and the GIL from the node. The monitor reports while the node
still publishes; then the node gets SIGINT, as from Ctrl-C, and must exit cleanly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent


def node_name(args: list[str]) -> str:
    """The node's fully qualified name from its `-r __ns:=` / `-r __node:=` remaps (default /oak)."""
    remaps = dict(a.split(":=", 1) for a in args if a.startswith(("__ns:=", "__node:=")))
    namespace = remaps.get("__ns", "/").rstrip("/")
    return f"{namespace}/{remaps.get('__node', 'oak')}"


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    seconds, node_args = float(argv[1]), argv[2:]
    monitor_env = dict(os.environ)      # an ordinary subscriber: the node's own DDS profile is not for it
    node = subprocess.Popen([sys.executable, "-m", "depthai_ros_bridge", *node_args])
    monitor = subprocess.Popen([sys.executable, str(TOOLS / "topic_rates.py"), node_name(node_args)],
                               stdout=subprocess.PIPE, text=True, env=monitor_env)
    try:
        node.wait(timeout=seconds)
        print(f"the node exited early with status {node.returncode}", file=sys.stderr)
        monitor.kill()
        return node.returncode or 1
    except subprocess.TimeoutExpired:
        pass
    monitor.send_signal(signal.SIGINT)
    print(monitor.communicate(timeout=30)[0], end="", flush=True)
    node.send_signal(signal.SIGINT)
    try:
        return node.wait(timeout=20)
    except subprocess.TimeoutExpired:
        node.kill()
        print("the node did not exit within 20 s of SIGINT", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
