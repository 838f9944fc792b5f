"""A node that subscribes to every topic of another node and measures what arrives (like `ros2 topic hz`).

`python tools/topic_rates.py NODE` runs it in a process of its own until
SIGINT/SIGTERM, then prints the report.
"""
from __future__ import annotations

import importlib
import sys
import time

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.serialization import deserialize_message

from depthai_ros_bridge.core.rates import RateMeter

_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def message_class(type_name: str):
    """'sensor_msgs/msg/Image' -> the class (rosidl_runtime_py does this, but is not on PyPI)."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


class TopicRateMonitor(Node):
    def __init__(self, target_node: str, period_s: float = 0.5):
        super().__init__("topic_rate_monitor")
        self._prefix = target_node.rstrip("/") + "/"
        self._subs, self._meters, self._last_spatial = {}, {}, {}     # _last_spatial: topic -> (type, bytes)
        self.create_timer(period_s, self._discover)

    def _remember(self, topic: str, msg_type, raw: bytes) -> None:
        self._meters[topic].tick(time.monotonic())
        if topic.endswith("/nn/spatial_detections"):
            self._last_spatial[topic] = (msg_type, raw)

    def _discover(self) -> None:
        for topic, types in self.get_topic_names_and_types():
            if topic.startswith(self._prefix) and topic not in self._subs and "/transition_event" not in topic:
                self._meters[topic] = RateMeter(window_s=1e9)
                # Reliable where every publisher is (best effort would lose large messages between
                # processes), else best effort, which matches any publisher; latched topics need
                # transient local to get what was published before we joined.
                reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE
                               for p in self.get_publishers_info_by_topic(topic))
                qos = _LATCHED if topic.endswith("/label_info") else \
                    QoSProfile(depth=10) if reliable else qos_profile_sensor_data
                msg_type = message_class(types[0])
                # Serialized messages: counting them needs no Python message (images would cost most).
                self._subs[topic] = self.create_subscription(
                    msg_type, topic, lambda raw, t=topic, m=msg_type: self._remember(t, m, raw), qos, raw=True)

    def report(self) -> str:
        now = time.monotonic()
        lines = [f"{'topic':<48} {'rate (Hz)':>9} {'messages':>8}"]
        for topic in sorted(self._meters):
            meter = self._meters[topic]
            lines.append(f"{topic:<48} {meter.rate(now):>9.2f} {meter.count:>8}")
        for topic, (msg_type, raw) in sorted(self._last_spatial.items()):
            msg = deserialize_message(raw, msg_type)
            seen = ", ".join(f"{d.results[0].hypothesis.class_id} at {d.bbox.center.position.z:.2f} m"
                             for d in msg.detections) or "nothing"
            lines.append(f"last {topic}: {seen}")
        return "\n".join(lines)


def main() -> int:
    rclpy.init()
    monitor = TopicRateMonitor(sys.argv[1])
    try:
        rclpy.spin(monitor)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    print(monitor.report(), flush=True)
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
