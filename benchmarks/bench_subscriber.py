"""The benchmark's subscriber process: subscriptions on command, per-topic latencies, its CPU time.

`Subscriber` is the bridge side's handle; the process runs this file (`python benchmarks/bench_subscriber.py`),
so every message crosses DDS as it does for a real consumer.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time

from bench_common import BENCH_DIR, IMAGE, REPO, SUBSCRIBER_ENV

sys.path.insert(0, str(REPO / "tools"))        # topic_rates
REPLY = "BENCH "          # prefix of the subscriber process's answers on stdout


def subscriber_main() -> int:
    """Runs in a child process: subscriptions on command (stdin), per-topic counts and latencies."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile
    from rclpy.task import Future

    from topic_rates import message_class

    rclpy.init(args=[])
    node = rclpy.create_node(f"bench_subscriber_{os.getpid()}")
    clock = node.get_clock()
    subs, latencies = {}, {}
    commands: queue.SimpleQueue = queue.SimpleQueue()
    finished = Future()

    def receiver(topic: str):
        def received(msg, info) -> None:
            """Seconds from the header stamp to DDS's receipt of the sample, and to this callback."""
            stamp_ns = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
            latencies[topic].append(((info["received_timestamp"] - stamp_ns) * 1e-9,
                                     (clock.now().nanoseconds - stamp_ns) * 1e-9))
        return received

    def answer(value) -> None:
        print(REPLY + json.dumps(value), flush=True)

    def handle() -> None:
        while not commands.empty():
            cmd = commands.get()
            op, topic = cmd["op"], cmd.get("topic")
            if op == "exit":
                finished.set_result(True)
                return
            if op == "sub":
                latencies[topic] = []
                subs[topic] = node.create_subscription(message_class(cmd["type"]), topic, receiver(topic),
                                                       QoSProfile(depth=10))
                answer("ok")
            elif op == "unsub":
                node.destroy_subscription(subs.pop(topic))
                answer("ok")
            elif op == "collect":        # what arrived since the last collect, and this process's CPU time
                answer({"latencies": latencies, "cpu_s": time.process_time()})
                for values in latencies.values():
                    values.clear()

    wake = node.create_guard_condition(handle)

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(json.loads(line))
            wake.trigger()
        commands.put({"op": "exit"})
        wake.trigger()

    threading.Thread(target=read_commands, daemon=True).start()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    executor.spin_until_future_complete(finished)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


class Subscriber:
    """The parent's handle on a subscriber process (same environment, so the same ROS domain)."""

    TIMEOUT_S = 30.0

    def __init__(self):
        self._proc = subprocess.Popen([sys.executable, str(BENCH_DIR / "bench_subscriber.py")],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
                                      env=SUBSCRIBER_ENV or None)
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._proc.stdout:
            if line.startswith(REPLY):
                self._answers.put(json.loads(line[len(REPLY):]))
        self._answers.put(None)

    def _call(self, **cmd):
        self._proc.stdin.write(json.dumps(cmd) + "\n")
        self._proc.stdin.flush()
        try:
            answer = self._answers.get(timeout=self.TIMEOUT_S)
        except queue.Empty:
            raise TimeoutError(f"subscriber process: no answer to {cmd['op']} in {self.TIMEOUT_S:.0f} s") from None
        if answer is None:
            raise RuntimeError(f"subscriber process exited ({self._proc.wait()})")
        return answer

    def subscribe(self, topic: str, type_name: str = IMAGE) -> None:
        self._call(op="sub", topic=topic, type=type_name)

    def unsubscribe(self, topic: str) -> None:
        self._call(op="unsub", topic=topic)

    def collect(self) -> tuple[dict[str, list], float]:
        """Per topic since the last collect, (s to DDS receipt, s to the callback) from each message's header
        stamp; and the process's CPU time so far (s)."""
        answer = self._call(op="collect")
        return answer["latencies"], answer["cpu_s"]

    def close(self) -> None:
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=self.TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()


if __name__ == "__main__":
    sys.exit(subscriber_main())
