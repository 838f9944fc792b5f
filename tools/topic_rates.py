"""A node that subscribes to every topic of another node and measures what arrives (like `ros2 topic hz`).

`python tools/topic_rates.py NODE` runs it in a process of its own until
SIGINT/SIGTERM, then prints the report. Rates are sustained rates: counted from
WARM_UP_S after each topic's first message (the node's start-up -- first stereo
match of the room, network warm-up, encoder start -- is not its rate); the
message counts include every message.
"""
from __future__ import annotations

import importlib
import sys
import time

import rclpy
from rcl_interfaces.msg import ParameterType
from rcl_interfaces.srv import GetParameters
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import parameter_value_to_python
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rclpy.serialization import deserialize_message

from depthai_ros_bridge.core.malloc import reuse_large_buffers
from depthai_ros_bridge.core.rates import RateMeter
from depthai_ros_bridge.core.spec import PARAMETERS, parse_spec

_LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
WARM_UP_S = 2.0


def message_class(type_name: str):
    """'sensor_msgs/msg/Image' -> the class (rosidl_runtime_py does this, but is not on PyPI)."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


class TopicRateMonitor(Node):
    def __init__(self, target_node: str, period_s: float = 0.5):
        super().__init__("topic_rate_monitor")
        self._prefix = target_node.rstrip("/") + "/"
        self._subs, self._meters, self._last_spatial = {}, {}, {}     # _last_spatial: topic -> (type, bytes)
        self._first: dict[str, float] = {}      # topic -> arrival of its first message
        self._counts: dict[str, int] = {}
        self._latched: set[str] = set()
        self._spec = None                       # the node's pipeline spec: each stream's configured rate
        self._asked = None
        self.create_timer(period_s, self._discover)

    def _ask_parameters(self) -> None:
        """The node's parameters, once: parsed as the node does, they give each stream's configured rate."""
        names = list(PARAMETERS)
        client = self.create_client(GetParameters, f"{self._prefix}get_parameters")
        if not client.service_is_ready():
            self.destroy_client(client)
            return
        self._asked = client.call_async(GetParameters.Request(names=names))

        def parsed(future) -> None:
            try:
                values = {n: parameter_value_to_python(v) for n, v in zip(names, future.result().values)
                          if v.type != ParameterType.PARAMETER_NOT_SET}
                self._spec = parse_spec(values)
            except Exception as e:  # noqa: BLE001 - the rates are still worth printing
                self.get_logger().warning(f"no configured rates: {e}")
            self.destroy_client(client)
        self._asked.add_done_callback(parsed)

    def configured(self, topic: str) -> str:
        """What the node is configured to publish on `topic`, for the report's last column."""
        if "/still/" in topic:
            return "latched: one per ~/rgb/capture_still call, not a rate"
        if topic in self._latched:
            return "latched: sent once per activation/deploy, not a rate"
        stream = topic[len(self._prefix):].split("/")[0]
        if self._spec is None or stream not in self._spec.streams:
            return ""
        expected = self._spec.expected_rate(stream)
        return f"configured <= {expected:.1f}" if "/nn/" in topic else f"configured {expected:.1f}"

    def _remember(self, topic: str, msg_type, raw: bytes) -> None:
        now = time.monotonic()
        self._counts[topic] = self._counts.get(topic, 0) + 1
        if now >= self._first.setdefault(topic, now) + WARM_UP_S:
            self._meters[topic].tick(now)
        if topic.endswith("/nn/spatial_detections"):
            self._last_spatial[topic] = (msg_type, raw)

    def _discover(self) -> None:
        if self._asked is None:
            self._ask_parameters()
        for topic, types in self.get_topic_names_and_types():
            if topic.startswith(self._prefix) and topic not in self._subs and "/transition_event" not in topic:
                publishers = self.get_publishers_info_by_topic(topic)
                if not publishers:          # a topic the node subscribes to (nn/upload): nothing to measure
                    continue
                self._meters[topic] = RateMeter(window_s=1e9)
                # Reliable where every publisher is (best effort would lose large messages between
                # processes), else best effort, which matches any publisher; latched topics need
                # transient local to get what was published before we joined.
                reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
                if topic.endswith("/label_info") or all(
                        p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in publishers):
                    self._latched.add(topic)
                qos = _LATCHED if topic in self._latched else \
                    QoSProfile(depth=10) if reliable else qos_profile_sensor_data
                msg_type = message_class(types[0])
                # Serialized messages: counting them needs no Python message (images would cost most).
                self._subs[topic] = self.create_subscription(
                    msg_type, topic, lambda raw, t=topic, m=msg_type: self._remember(t, m, raw), qos, raw=True)

    def report(self) -> str:
        now = time.monotonic()
        # Rows: topic, measured rate, messages, then what the node is configured to publish.
        lines = [f"{'topic':<48} {'rate (Hz)':>9} {'messages':>8}  configured (Hz)"]
        for topic in sorted(self._meters):
            meter = self._meters[topic]
            lines.append(f"{topic:<48} {meter.rate(now):>9.2f} {self._counts.get(topic, 0):>8}  "
                         f"{self.configured(topic)}".rstrip())
        for topic, (msg_type, raw) in sorted(self._last_spatial.items()):
            msg = deserialize_message(raw, msg_type)
            seen = ", ".join(f"{d.results[0].hypothesis.class_id} at {d.bbox.center.position.z:.2f} m"
                             for d in msg.detections) or "nothing"
            lines.append(f"last {topic}: {seen}")
        return "\n".join(lines)


def main() -> int:
    reuse_large_buffers()       # before any message arrives: see core/malloc.py
    rclpy.init()
    monitor = TopicRateMonitor(sys.argv[1])
    try:
        rclpy.spin(monitor)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        if monitor.context.ok():    # not the SIGINT that shut the context down between two waits
            raise
    print(monitor.report(), flush=True)
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
