"""Tables 3-6 of the benchmark: the bridge (Outputs.publish) fed pre-rendered FrameSets at 30 fps."""
from __future__ import annotations

import dataclasses
import math
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench_common import BENCH_DIR, IMAGE, REPO, SIM_CONFIG, Table, flat_parameters, ms, percentile, rss_mb, wait_for
from bench_subscriber import Subscriber

# -- 3-6. the bridge at 30 fps -------------------------------------------------------------
REPLAY_FPS = 30.0
PRERENDERED = 6           # FrameSets captured once (the first one is slow: the NN session warms up), replayed
REPLAY_FPS_OVERRIDES = {"rgb.fps": REPLAY_FPS, "left.fps": REPLAY_FPS, "right.fps": REPLAY_FPS}
SUBSCRIBED = [f"~/{s}/{t}" for s in ("rgb", "left", "right", "stereo") for t in ("image_raw", "camera_info")]
DETECTION_TOPICS = ["~/rgb/nn/detections", "~/rgb/nn/spatial_detections", "~/rgb/nn/tracks"]
LAZY_S = 3.0              # length of each table-6 run
LAZY_TOPICS = {"~/stereo/disparity_color": IMAGE, "~/rgb/image_raw/compressed": "sensor_msgs/msg/CompressedImage",
               "~/stereo/points": "sensor_msgs/msg/PointCloud2", "~/rgb/nn/overlay": IMAGE}   # overlay: with a network
TYPES = {"image_raw": IMAGE, "camera_info": "sensor_msgs/msg/CameraInfo",
         "detections": "vision_msgs/msg/Detection2DArray", "spatial_detections": "vision_msgs/msg/Detection3DArray",
         "tracks": "vision_msgs/msg/Detection2DArray"}


@dataclass
class Run:
    calls: list[float]                 # seconds per Outputs.publish
    wall: float
    cpu: float                         # this process's CPU time / wall time
    subscriber_cpu: float              # the subscriber process's CPU time / wall time
    latencies: dict[str, list]         # topic -> [(s to DDS receipt, s to the callback)] from the header stamp

    def row(self, label: str) -> list[str]:
        return [label, ms(statistics.median(self.calls)), ms(percentile(self.calls, 99)),
                f"{100 * self.cpu:.1f}", f"{100 * self.subscriber_cpu:.0f}", f"{len(self.calls) / self.wall:.1f}"]


RUN_COLUMNS = ["publish() median ms", "p99 ms", "bridge CPU %", "subscriber CPU %", "FrameSets/s"]


def replay(outputs, framesets, sub: Subscriber, seconds: float, fps: float = REPLAY_FPS) -> Run:
    """Feed pre-rendered FrameSets to Outputs.publish from a thread, as SimDevice's capture loop does:
    a tick every 1/fps, stamped when it starts; ticks missed while the bridge was busy are dropped."""
    calls: list[float] = []
    pace = threading.Event()

    def run() -> None:
        start, tick = time.monotonic(), 0
        while tick < seconds * fps:
            pace.wait(max(0.0, start + tick / fps - time.monotonic()))     # pacing, not synchronisation
            began = time.monotonic()
            outputs.publish(dataclasses.replace(framesets[tick % len(framesets)], seq=tick, timestamp=began))
            calls.append(time.monotonic() - began)
            tick = max(tick + 1, math.floor((time.monotonic() - start) * fps))

    thread = threading.Thread(target=run, name="replay")
    _, sub_cpu = sub.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    thread.start()
    thread.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    latencies, sub_cpu_end = sub.collect()
    return Run(calls, wall, cpu / wall, (sub_cpu_end - sub_cpu) / wall, latencies)


def python_heap_growth(outputs, framesets, sub: Subscriber, seconds: float = 2.0, windows: int = 2) \
        -> tuple[list[float], int]:
    """Net Python allocations (kB) in each of `windows` consecutive replays of `seconds`, and the FrameSets
    each published; the benchmark's own bookkeeping (its modules, json) is left out."""
    import json as json_module
    import tracemalloc

    ours = (tracemalloc.Filter(False, str(BENCH_DIR / "*")),
            tracemalloc.Filter(False, json_module.__file__.rsplit("/", 1)[0] + "/*"))
    tracemalloc.start()
    try:
        replay(outputs, framesets, sub, 1.0)                           # warm-up, traced
        snapshots, frames = [tracemalloc.take_snapshot()], 0
        for _ in range(windows):
            frames = len(replay(outputs, framesets, sub, seconds).calls)
            snapshots.append(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    snapshots = [snap.filter_traces(ours) for snap in snapshots]
    return [sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 1e3
            for before, after in zip(snapshots, snapshots[1:])], frames


class _BridgeNode:
    """Mixed into a LifecycleNode: what Outputs' NN streams ask of the camera node (ros/node.py)."""

    is_active = True
    model_store = None          # the node's ModelStore: set in bridge_at_30fps

    def show_nn_parameters(self, *args) -> None:
        pass

    def running_models(self) -> list[str]:
        return []


def deploy_networks(outputs, spec) -> str:
    """Deploy the networks the config names (`<stream>.nn.model`) as the node does at configure;
    '' or why there are no detections."""
    wanted = {s: n for s, n in getattr(outputs, "nn", {}).items() if spec.streams[s].nn.model}
    if not wanted:
        return f"no <stream>.nn.model in {SIM_CONFIG.name}"
    for stream, nn in wanted.items():
        n = spec.streams[stream].nn
        model = n.model if Path(n.model).is_absolute() or Path(n.model).exists() else str(REPO / n.model)
        try:
            nn.deploy({"model": model, "nn_config": n.config, "labels": list(n.labels)})
        except Exception as e:  # noqa: BLE001 - reported in the table instead
            return f"deploying {n.model} on {stream} failed: {e}"
    return ""


def bridge_at_30fps(sub: Subscriber, seconds: float, frames: int) -> tuple[list[Table], float]:
    """Tables 3-6 from replays on one bridge: A all streams (+ detections when available) for
    `seconds`, B without the detection topics, then B + a subscriber on each LAZY_TOPICS topic in
    turn (LAZY_S each). Also returns the simulator's capture time per FrameSet (s)."""
    from rclpy.lifecycle import LifecycleNode

    from depthai_ros_bridge.core.spec import parse_spec
    from depthai_ros_bridge.device.sim import SimDevice
    from depthai_ros_bridge.nn.model_store import ModelStore
    from depthai_ros_bridge.ros.outputs import Outputs

    spec = parse_spec(flat_parameters(SIM_CONFIG) | REPLAY_FPS_OVERRIDES, "oak")
    device = SimDevice(spec)
    node = type("BenchCameraNode", (_BridgeNode, LifecycleNode), {})("oak")
    node.model_store = ModelStore.default()
    clock_offset = node.get_clock().now().nanoseconds * 1e-9 - time.monotonic()
    outputs = Outputs(node, spec, device, clock_offset)
    no_detections = deploy_networks(outputs, spec)
    framesets, capture_times = [], []
    for i in range(frames):                                         # rendering, stereo and NN: the device's work
        start = time.perf_counter()
        framesets.append(device.capture(i, 0.0))
        capture_times.append(time.perf_counter() - start)
    render_s = statistics.median(capture_times)
    node.trigger_configure()
    node.trigger_activate()
    name = node.resolve_topic_name
    images = {name(t): TYPES[t.rsplit("/", 1)[1]] for t in SUBSCRIBED}
    detections = {} if no_detections else {name(t): TYPES[t.rsplit("/", 1)[1]] for t in DETECTION_TOPICS}

    def subscribe(topics: dict[str, str]) -> None:
        for topic, type_name in topics.items():
            sub.subscribe(topic, type_name)
        wait_for(lambda: all(node.count_subscribers(t) for t in topics), "subscribers on the bridge topics")
        replay(outputs, framesets, sub, 0.5)                           # let the new subscriptions settle

    def unsubscribe(topics) -> None:
        for topic in topics:
            sub.unsubscribe(topic)
        wait_for(lambda: not any(node.count_subscribers(t) for t in topics), "subscribers gone")

    try:
        subscribe(images | detections)
        replay(outputs, framesets, sub, 1.5)                           # warm-up
        rss = [rss_mb()]
        full = replay(outputs, framesets, sub, seconds)
        rss.append(rss_mb())
        short = max(3.0, seconds / 2)
        unsubscribe(detections)
        plain = replay(outputs, framesets, sub, short)
        lazy_runs = {}                                                  # resolved topic -> Run
        for topic, type_name in LAZY_TOPICS.items():
            if "/nn/" in topic and no_detections:
                continue
            topic = name(topic)
            subscribe({topic: type_name})
            lazy_runs[topic] = replay(outputs, framesets, sub, LAZY_S)
            unsubscribe([topic])
        rss.append(rss_mb())
        heap_kb, heap_frames = python_heap_growth(outputs, framesets, sub)
        unsubscribe(images)
    finally:
        device.close()
        outputs.destroy()
        node.destroy_node()

    rgb, mono = spec.streams["rgb"], spec.streams["left"]
    cpu = Table(f"3. Bridge CPU at {REPLAY_FPS:.0f} fps: Outputs.publish fed pre-rendered FrameSets (rgb "
                f"{rgb.width}x{rgb.height} bgr8, left/right {mono.width}x{mono.height} mono8, depth "
                f"{spec.stereo.depth_encoding} aligned to {spec.stereo.align}; {SIM_CONFIG.name} otherwise)",
                ["subscribed"] + RUN_COLUMNS)
    if detections:
        cpu.rows.append(full.row(f"image_raw + camera_info x4 + rgb/nn/{{detections, spatial_detections, "
                                 f"tracks}} ({seconds:.0f} s)"))
    cpu.rows.append(plain.row(f"image_raw + camera_info x4 ({short:.0f} s)"))
    cpu.notes += ["CPU % = CPU time / wall time, % of one core, of this process (conversion, rclpy, DDS threads) "
                  "and of the subscriber process; target < 25 %.",
                  f"Device work excluded: {frames} FrameSets pre-rendered ({1e3 * render_s:.0f} ms each, median: "
                  "render, stereo" + ("" if no_detections else ", NN") + "), replayed in a loop; publish() p99 "
                  "bounds the bridge's share of the latency below."]
    if no_detections:
        cpu.notes.append(f"No detections: {no_detections}.")
    lat = Table("4. Latency from the header stamp (the frame's device timestamp) in the subscriber process "
                "(ms; run of the first row of 3)", ["topic", "messages", "receipt p50", "receipt p99",
                                                    "callback p50", "callback p99", "callback max", "p99 < 33 ms"])
    for topic in images | detections:
        receipt, callback = np.array(full.latencies.get(topic, [(np.nan, np.nan)])).T
        (r50, r99), (c50, c99) = np.percentile(receipt, [50, 99]), np.percentile(callback, [50, 99])
        lat.rows.append([topic, str(len(receipt)), ms(r50), ms(r99), ms(c50), ms(c99), ms(callback.max()),
                         " / ".join("yes" if v < 0.033 else "NO" for v in (r99, c99))])
    lat.notes += ["receipt: DDS's reception timestamp of the sample (MessageInfo.received_timestamp); callback: the "
                  "subscriber's ROS clock when its callback runs; target checked as receipt / callback.",
                  f"The callback adds queueing in the subscriber: one Python executor thread serves all "
                  f"{len(images | detections)} topics (reliable, depth 10: a subscriber that falls behind "
                  f"sees up to ~10 frames = 333 ms)."]
    mem = Table("5. Memory of the bridge process",
                ["RSS after warm-up MB", "after the first run", "after all runs", "growth over the first run",
                 f"Python heap growth kB, each of {len(heap_kb)} runs of ~{heap_frames} FrameSets"],
                [[f"{rss[0]:.1f}", f"{rss[1]:.1f}", f"{rss[2]:.1f}", f"{rss[1] - rss[0]:+.1f}",
                  ", ".join(f"{kb:+.1f}" for kb in heap_kb)]])
    mem.notes.append("Python heap growth: tracemalloc's net allocations over consecutive replays after a traced "
                     "warm-up, all image topics subscribed (the benchmark's own bookkeeping left out).")
    lazy = Table(f"6. Lazy work: Outputs.publish per FrameSet with/without one more subscriber "
                 f"({LAZY_S:.0f} s each)", ["subscribed besides image_raw + camera_info x4"] + RUN_COLUMNS,
                 [plain.row(f"nothing else (second row of 3, {short:.0f} s)")])
    savings = []
    for topic, run in lazy_runs.items():
        lazy.rows.append(run.row(f"{topic} ({len(run.latencies.get(topic, []))} msgs received)"))
        savings.append(f"{topic} {ms(statistics.median(run.calls) - statistics.median(plain.calls))} ms, "
                       f"{100 * (run.cpu - plain.cpu):.1f} % of a core")
    lazy.notes.append("Saved per FrameSet (median) while nobody subscribes: " + "; ".join(savings) + ".")
    return [cpu, lat, mem, lazy], render_s

