"""A node that subscribes to every topic of another node and measures what arrives (like `ros2 topic hz`)."""
from __future__ import annotations

import importlib
import time

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data

from .core.rates import RateMeter


_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def message_class(type_name: str):
    """'sensor_msgs/msg/Image' -> the class (rosidl_runtime_py does this, but is not on PyPI)."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


class TopicRateMonitor(Node):
    def __init__(self, target_node: str, period_s: float = 0.5):
        super().__init__("topic_rate_monitor")
        self._prefix = target_node.rstrip("/") + "/"
        self._subs, self._meters, self._last_spatial = {}, {}, {}
        self.create_timer(period_s, self._discover)

    def _remember(self, topic: str, msg) -> None:
        self._meters[topic].tick(time.monotonic())
        if topic.endswith("/nn/spatial_detections"):
            self._last_spatial[topic] = msg

    def _discover(self) -> None:
        for topic, types in self.get_topic_names_and_types():
            if topic.startswith(self._prefix) and topic not in self._subs and "/transition_event" not in topic:
                self._meters[topic] = RateMeter(window_s=1e9)
                # Sensor-data QoS (best effort) matches reliable and best-effort publishers alike;
                # latched topics need transient local to get what was published before we joined.
                qos = _LATCHED if topic.endswith("/label_info") else qos_profile_sensor_data
                self._subs[topic] = self.create_subscription(
                    message_class(types[0]), topic, lambda msg, t=topic: self._remember(t, msg), qos)

    def report(self) -> str:
        now = time.monotonic()
        lines = [f"{'topic':<48} {'rate (Hz)':>9} {'messages':>8}"]
        for topic in sorted(self._meters):
            meter = self._meters[topic]
            lines.append(f"{topic:<48} {meter.rate(now):>9.2f} {meter.count:>8}")
        for topic, msg in sorted(self._last_spatial.items()):
            seen = ", ".join(f"{d.results[0].hypothesis.class_id} at {d.bbox.center.position.z:.2f} m"
                             for d in msg.detections) or "nothing"
            lines.append(f"last {topic}: {seen}")
        return "\n".join(lines)
