"""`make soak` (SOAK_SECONDS, default 600): the node under faults and deploys for a long run.

The node runs as `make run` starts it (sim.yaml: every stream, the demo network and tracker), in
a process of its own; this process subscribes to every topic it publishes (serialized messages:
counting costs no conversion), injects a fault every 60 s (disconnect, stall, corrupt, crash, in
turn) and deploys or removes a network every 30 s. It prints RSS/threads/fds of the node at
start, after warm-up and at the end, the frames received per topic, the frames the node dropped,
each fault's recovery time (fault set -> frames flowing again on every camera), and checks the
targets: RSS growth < 5 % after warm-up, every recovery <= 5 s, no unexpected error in the log.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import rclpy
from rcl_interfaces.srv import SetParameters, SetParametersAtomically
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from std_srvs.srv import Trigger

sys.path.insert(0, str(Path(__file__).resolve().parent))
from topic_rates import TopicRateMonitor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NODE = "/oak"
WARM_UP_S, FAULT_EVERY_S, DEPLOY_EVERY_S = 30.0, 60.0, 30.0
FAULTS = ("disconnect:3", "stall:rgb:30", "corrupt:rgb:5", "crash")
CAMERA_TOPICS = [f"{NODE}/{s}/camera_info" for s in ("rgb", "left", "right", "stereo")]
MODELS = [str(REPO / "models" / "demo-colour-yolov5.tar.xz"), str(REPO / "models" / "demo-colour-ssd.tar.xz")]
# Log lines that are part of what the soak does on purpose (faults, their recovery, refusals).
RECOVERED = re.compile(r"recovered after \d+ attempt\(s\), ([\d.]+) s after the device was lost")
EXPECTED = re.compile(r"device failure|device lost|X_LINK|reconnect|stalled|no frame for|error processing|"
                      r"simulated device failed|sim.fault|deploy failed|frames dropped|corrupt")


def process_stats(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    value = dict(re.findall(r"^(\w+):\s+(\d+)", status, re.M))
    return {"rss_mb": int(value["VmRSS"]) / 1024, "threads": int(value["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


class Soak(TopicRateMonitor):
    def __init__(self):
        super().__init__(NODE)
        self.set_param = self.create_client(SetParameters, f"{NODE}/set_parameters")
        self.deploy = self.create_client(SetParametersAtomically, f"{NODE}/rgb/nn/deploy")
        self.remove = self.create_client(Trigger, f"{NODE}/rgb/nn/remove")

    def count(self, topic: str) -> int:
        meter = self._meters.get(topic)
        return meter.count if meter is not None else 0

    def call(self, client, request, timeout: float = 60.0):
        if not client.wait_for_service(timeout_sec=timeout):
            raise TimeoutError(f"{client.srv_name} not available")
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(timeout):
            raise TimeoutError(f"no answer from {client.srv_name}")
        return future.result()


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.05)
    return True


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "600"))
    monitor_env = dict(os.environ)
    log_path = Path(os.environ.get("SOAK_LOG", "/tmp/drb-soak-node.log"))
    with open(log_path, "w") as log:
        node = subprocess.Popen([sys.executable, "-m", "depthai_ros_bridge", "--ros-args", "--params-file",
                                 "config/sim.yaml", "-p", "autostart:=true"], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, env=monitor_env)
    rclpy.init()
    soak = Soak()
    executor = MultiThreadedExecutor(num_threads=3)
    executor.add_node(soak)
    threading.Thread(target=executor.spin, daemon=True).start()
    recoveries, deploys, failures = [], 0, []
    try:
        if not wait_for(lambda: all(soak.count(t) > 0 for t in CAMERA_TOPICS), 120):
            raise RuntimeError("the node never published on every camera")
        start = time.monotonic()
        stats = {"start": process_stats(node.pid)}
        wait_for(lambda: time.monotonic() - start > min(WARM_UP_S, seconds / 4), WARM_UP_S)
        stats["after warm-up"] = process_stats(node.pid)
        next_fault, next_deploy, fault_index = start + FAULT_EVERY_S, start + DEPLOY_EVERY_S, 0
        while time.monotonic() - start < seconds and node.poll() is None:
            now = time.monotonic()
            if now >= next_fault:
                fault = FAULTS[fault_index % len(FAULTS)]
                fault_index += 1
                counts = {t: soak.count(t) for t in CAMERA_TOPICS}
                log_mark = log_path.stat().st_size
                began = time.monotonic()
                reply = soak.call(soak.set_param, SetParameters.Request(
                    parameters=[Parameter("sim.fault", value=fault).to_parameter_msg()])).results[0]
                if not reply.successful:
                    failures.append(f"{fault} refused: {reply.reason}")
                # Recovered: every camera's frames flow again after the fault (a stall lasts
                # until the watchdog restarts the device).
                ok = wait_for(lambda c=counts: all(soak.count(t) > c[t] + 2 for t in CAMERA_TOPICS), 60)
                flowing = time.monotonic() - began if ok else float("inf")
                with open(log_path) as f:
                    f.seek(log_mark)
                    lost = RECOVERED.findall(f.read())
                # The node's own figure: device lost -> active again; a disconnect's outage is not the node's.
                outage = float(fault.split(":")[1]) if fault.startswith("disconnect") else 0.0
                recovered = float(lost[-1]) - outage if lost else None
                recoveries.append((fault, flowing, recovered))
                next_fault += FAULT_EVERY_S
            elif now >= next_deploy:
                if deploys % 2 == 0:
                    request = SetParametersAtomically.Request(parameters=[
                        Parameter("model", value=MODELS[deploys // 2 % 2]).to_parameter_msg()])
                    result = soak.call(soak.deploy, request).result
                    ok, why = result.successful, result.reason
                else:
                    response = soak.call(soak.remove, Trigger.Request())
                    ok, why = response.success, response.message
                if not ok and "node is" not in why:       # refused while recovering is expected
                    failures.append(f"deploy/remove: {why}")
                deploys += 1
                next_deploy += DEPLOY_EVERY_S
            else:
                threading.Event().wait(0.2)
        if node.poll() is not None:
            failures.append(f"the node exited with status {node.returncode}")
        stats["end"] = process_stats(node.pid) if node.poll() is None else stats["after warm-up"]
    finally:
        if node.poll() is None:
            node.send_signal(signal.SIGINT)
            try:
                node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                node.kill()
                failures.append("the node did not exit within 30 s of SIGINT")
        report = soak.report()
        executor.shutdown()
        rclpy.try_shutdown()
    errors = [line for line in log_path.read_text().splitlines()
              if ("ERROR" in line or "Traceback" in line) and not EXPECTED.search(line)]
    growth = 100 * (stats["end"]["rss_mb"] / stats["after warm-up"]["rss_mb"] - 1)
    print(f"# soak: {seconds:.0f} s, {len(recoveries)} faults, {deploys} deploys/removes; node log {log_path}")
    for label, s in stats.items():
        print(f"node {label:<14} RSS {s['rss_mb']:7.1f} MB  threads {s['threads']:3d}  fds {s['fds']:3d}")
    print(report)
    dropped = re.findall(r"frames dropped[^\n]*", log_path.read_text())
    print(f"frames dropped lines in the log: {len(dropped)}")
    for fault, flowing, recovered in recoveries:
        print(f"{fault:<16} frames flowing again {flowing:6.2f} s after the fault; "
              + (f"node active again {recovered:.2f} s after the loss (after the device's return)"
                 if recovered is not None else "no device restart"))
    targets = {"RSS growth after warm-up < 5 %": growth < 5,
               "every recovery <= 5 s": all(r is None or r <= 5.0 for _, f, r in recoveries)
               and all(f < float("inf") for _, f, _ in recoveries),
               "no unexpected error in the log": not errors and not failures}
    print(f"RSS growth after warm-up: {growth:+.1f} %")
    for line in errors[:10] + failures[:10]:
        print(f"  unexpected: {line[:200]}")
    for name, met in targets.items():
        print(f"{'PASS' if met else 'FAIL'}: {name}")
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
