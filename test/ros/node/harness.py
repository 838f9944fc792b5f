"""A camera node plus a client node on one executor thread; everything the tests do goes over DDS."""
from __future__ import annotations

import faulthandler
import itertools
import threading
import time
from collections import defaultdict, deque

import numpy as np
import rclpy
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rcl_interfaces.srv import SetParameters
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, qos_profile_sensor_data

from depthai_ros_bridge.ros.node import CameraNode

TIMEOUT_S = 30.0
_names = itertools.count()
TRANSITIONS = {"configure": Transition.TRANSITION_CONFIGURE, "activate": Transition.TRANSITION_ACTIVATE,
               "deactivate": Transition.TRANSITION_DEACTIVATE, "cleanup": Transition.TRANSITION_CLEANUP,
               "shutdown": Transition.TRANSITION_UNCONFIGURED_SHUTDOWN}
_SHUTDOWN_FROM = {"unconfigured": Transition.TRANSITION_UNCONFIGURED_SHUTDOWN,
                  "inactive": Transition.TRANSITION_INACTIVE_SHUTDOWN,
                  "active": Transition.TRANSITION_ACTIVE_SHUTDOWN}
# Small and fast: a static scene at a modest rate keeps CI machines unhurried.
FAST_SIM = {"device.type": "sim", "rgb.resolution": "720p", "rgb.fps": 10.0, "left.fps": 10.0,
            "right.fps": 10.0, "sim.motion_speed": 0.0}


class Collector:
    """The latest messages of one topic (bounded: images add up fast), their count, and a wait for a count."""

    def __init__(self, keep: int = 30):
        self._messages = deque(maxlen=keep)
        self.count = 0
        self._cond = threading.Condition()

    @property
    def messages(self) -> list:
        """A snapshot: the executor's thread appends while tests read (a deque would fail mid-iteration)."""
        with self._cond:
            return list(self._messages)

    def __call__(self, msg):
        with self._cond:
            self._messages.append(msg)
            self.count += 1
            self._cond.notify_all()

    def wait(self, count: int = 1, timeout: float = TIMEOUT_S):
        with self._cond:
            if not self._cond.wait_for(lambda: self.count >= count, timeout):
                raise TimeoutError(f"got {self.count} of {count} messages in {timeout} s")
            return self._messages[-1]


def wait_until(predicate, timeout: float = TIMEOUT_S, what: str = "condition") -> None:
    """Poll a condition (every 20 ms) until it holds; a timeout is a failure."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met in {timeout} s")
        pause.wait(0.02)


def stamp_of(msg) -> tuple[int, int]:
    return (msg.header.stamp.sec, msg.header.stamp.nanosec)


def image_array(msg) -> np.ndarray:
    """A received sensor_msgs/Image's pixels: (h, w) or (h, w, 3)."""
    dtype = {"mono8": np.uint8, "bgr8": np.uint8, "16UC1": np.uint16, "32FC1": np.float32}[msg.encoding]
    channels = 3 if msg.encoding == "bgr8" else 1
    return np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width, channels).squeeze()


class Harness:
    def __init__(self, **params):
        self.name = f"oak{next(_names)}"
        overrides = [Parameter(k, value=v) for k, v in params.items()]
        self.node = CameraNode(self.name, parameter_overrides=overrides)
        self.client = rclpy.create_node(f"{self.name}_test_client")
        self.executor = MultiThreadedExecutor(num_threads=8)   # the node's 7 callback groups + the client node
        self.executor.add_node(self.node)
        self.executor.add_node(self.client)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()
        self._clients = {}
        self.collectors = defaultdict(Collector)

    def topic(self, relative: str) -> str:
        return f"/{self.name}/{relative}" if not relative.startswith("/") else relative

    def _call(self, srv_type, service: str, request):
        client = self._clients.get(service)
        if client is None:
            client = self._clients[service] = self.client.create_client(srv_type, service)
        if not client.wait_for_service(timeout_sec=TIMEOUT_S):
            raise TimeoutError(f"service {service} not available")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(TIMEOUT_S):
            faulthandler.dump_traceback(all_threads=True)   # where the node is stuck, for the log
            raise TimeoutError(f"no answer from {service}")
        return future.result()

    def transition(self, label: str) -> bool:
        transition_id = TRANSITIONS[label]
        if label == "shutdown":
            transition_id = _SHUTDOWN_FROM[self.state()]
        return self._call(ChangeState, self.topic("change_state"),
                          ChangeState.Request(transition=Transition(id=transition_id))).success

    def state(self) -> str:
        return self._call(GetState, self.topic("get_state"), GetState.Request()).current_state.label

    def set_parameters(self, **params):
        msgs = [Parameter(k, value=v).to_parameter_msg() for k, v in params.items()]
        return self._call(SetParameters, self.topic("set_parameters"), SetParameters.Request(parameters=msgs)).results

    def subscribe(self, topic: str, msg_type, qos: QoSProfile = qos_profile_sensor_data) -> Collector:
        topic = self.topic(topic)
        collector = self.collectors[topic]
        self.client.create_subscription(msg_type, topic, collector, qos)
        return collector

    def close(self) -> None:
        if self.node.device is not None:
            self.node.trigger_shutdown()
        self.executor.shutdown()
        self._thread.join(timeout=TIMEOUT_S)
        self.node.destroy_node()
        self.client.destroy_node()


__all__ = ["Collector", "FAST_SIM", "Harness", "wait_until"]
