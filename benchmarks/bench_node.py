"""Tables 2 and 7 of the benchmark: the real node's sustained rates; deploying while streaming."""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench_common import REPO, SIM_CONFIG, SUBSCRIBER_ENV, Table, flat_parameters, ms, wait_for


def sustained_rates(seconds: float, capture_s: float | None) -> Table:
    """Table 2: tools/timed_run.py runs the node on config/sim.yaml for `seconds`; its rate monitor's
    report (topic, Hz, messages) against the rate the spec expects of each topic's stream."""
    from depthai_ros_bridge.core.spec import parse_spec

    spec = parse_spec(flat_parameters(SIM_CONFIG), "oak")
    # an ordinary environment (the node chooses its transport itself), in a domain of its own
    env = dict(SUBSCRIBER_ENV or os.environ, ROS_DOMAIN_ID=str(1 + (int(os.environ["ROS_DOMAIN_ID"]) % 100)))
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "timed_run.py"), f"{seconds:g}", "--ros-args",
                           "--params-file", str(SIM_CONFIG), "-p", "autostart:=true"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=seconds + 90)
    after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - wall
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / wall
    table = Table(f"2. Sustained publish rate, real node + simulated OAK-D, {SIM_CONFIG.name} defaults "
                  f"({seconds:.0f} s)", ["topic", "measured Hz", "configured Hz", "ratio", "messages"])
    # topic, Hz, messages (and whatever the monitor says after them)
    for topic, hz, count in re.findall(r"^(/\S+)\s+([\d.]+)\s+(\d+)\b", proc.stdout, re.M):
        stream = topic.split("/")[2]
        if topic.endswith("/label_info"):           # published once per deploy (transient local)
            table.rows.append([topic, f"{float(hz):.2f}", "once", "—", count])
        elif "/still/" in topic:                    # one per ~/rgb/capture_still call (none in this run)
            table.rows.append([topic, f"{float(hz):.2f}", "on request", "—", count])
        elif stream == "imu":                       # ~/imu/data at imu.rate_hz (bench_motion counts it by stamps)
            table.rows.append([topic, f"{float(hz):.2f}", f"{spec.imu.rate_hz:.1f}",
                               f"{float(hz) / spec.imu.rate_hz:.2f}", count])
        elif stream not in spec.streams:
            table.rows.append([topic, f"{float(hz):.2f}", "—", "—", count])
        else:
            configured = spec.expected_rate(stream)
            table.rows.append([topic, f"{float(hz):.2f}", f"{configured:.1f}", f"{float(hz) / configured:.2f}",
                               count])
    if not table.rows:
        table.notes.append(f"no rate table from tools/timed_run.py (exit {proc.returncode}): "
                           f"{proc.stderr.strip()[-500:]}")
    table.notes.append("Rates as tools/timed_run.py's monitor (tools/topic_rates.py, a subscriber in its own "
                       "process) received them, from 2 s after each topic's first message to the end (messages: "
                       "all); the simulated device renders, matches stereo and runs the NN in the node.")
    table.notes.append(f"The node, the monitor and timed_run used {100 * cpu:.0f} % of one core "
                       f"(of {100 * (os.cpu_count() or 1)} %) over {wall:.0f} s including start-up; load average "
                       f"after: {os.getloadavg()[0]:.2f}." + (f" SimDevice.capture alone (render, stereo, NN) took "
                                                             f"{1e3 * capture_s:.0f} ms per FrameSet before run 3."
                                                             if capture_s else ""))
    return table


def _longest_gap(arrivals: list[float], start: float, end: float) -> float:
    """The longest time without a frame from `start` to `end` (s)."""
    times = [start] + [t for t in arrivals if start < t <= end]
    return float(max(np.diff(times))) if len(times) > 1 else float("nan")


def deploy_gaps(cycles: int = 6) -> Table:
    """Streams keep flowing while a network is swapped on the simulated device.

    Per deploy: how long the call took, the longest gap between frames of each stream
    from the call to 1 s after it (against the median gap when nothing is deployed),
    and how soon the new network's first result arrived.
    """
    import tempfile

    from depthai_ros_bridge.core.spec import parse_spec
    from depthai_ros_bridge.device.sim import SimDevice
    from depthai_ros_bridge.nn.deployment import build_deployment

    values = {k: v for k, v in flat_parameters(SIM_CONFIG).items() if not k.startswith("rgb.nn.model")}
    device = SimDevice(parse_spec(values, "oak"))
    arrivals: dict[str, list[float]] = {"rgb": [], "left": [], "result": []}

    def on_frames(frames) -> None:
        now = time.monotonic()
        for stream in ("rgb", "left"):
            if stream in frames.frames:
                arrivals[stream].append(now)
        if "rgb" in frames.nn:
            arrivals["result"].append(now)

    models = [{"model": str(REPO / "models" / "demo-colour-ssd.tar.xz")},
              {"model": str(REPO / "models" / "demo-colour-yolov5.tar.xz")}]
    table = Table("7. Deploying a network while streaming (simulated OAK-D, sim.yaml)",
                  ["deploy", "model", "call ms", "longest rgb gap ms", "longest left gap ms", "first result ms"])
    device.start(on_frames, lambda e: arrivals.setdefault("errors", []).append(e))
    try:
        wait_for(lambda: len(arrivals["left"]) >= 5, "frames before deploying")
        steady = float(np.median(np.diff(arrivals["left"])))
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(cycles):
                workdir = Path(tmp) / str(i)
                workdir.mkdir()
                start = time.monotonic()
                device.deploy("rgb", build_deployment("rgb", models[i % 2], workdir), workdir)
                called = time.monotonic()
                wait_for(lambda t=called: bool(arrivals["result"]) and arrivals["result"][-1] > t
                         and arrivals["left"][-1] > t + 1.0, "the new network's results")
                first = next(t for t in arrivals["result"] if t > called)
                table.rows.append([str(i + 1), Path(models[i % 2]["model"]).name, ms(called - start),
                                   ms(_longest_gap(arrivals["rgb"], start, called + 1.0)),
                                   ms(_longest_gap(arrivals["left"], start, called + 1.0)), ms(first - called)])
    finally:
        device.close()
    table.notes.append(f"Median gap between left frames before deploying: {ms(steady)} ms. The new network is "
                       "built beside the running one and swapped between frames, so no stream pauses; target: "
                       "streams back within 1 s. A real OAK restarts its pipeline to load a network (seconds).")
    return table

