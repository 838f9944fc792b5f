"""What the bridge costs: `python -m depthai_ros_bridge.bench` (`make bench`), about a minute.

Every figure is measured in this one run, on this machine, with the other
load it happens to carry (printed at the top): read them as "on a 2-core
shared box", not as absolutes. Wall times are medians over the iterations
(so one preempted iteration does not move them); rates and CPU are averages
over the whole run. Subscribers always live in another process, so each
message crosses DDS (Fast DDS, loopback) as it does for a real consumer.

1. Bridge cost per frame - ms from a device frame in memory (a `dai.ImgFrame`,
   as the device emits it) to `publish()` returning, with one reliable
   subscriber matched. Columns, interleaved round-robin so all see the same load:
     memcpy     np.copyto of the frame's pixels into a preallocated array
     floor      publishing an already-built message of that size (rclpy + DDS)
     ours       frame_array + the topic's conversions.ImageMessage.fill + publish
     cv_bridge  cv_bridge's cv2_to_imgmsg algorithm (Image(); data.frombytes(
                frame.tobytes()); publish) reimplemented: cv_bridge for ROS 2 is
                not installable from PyPI (the `cv-bridge` wheel is a ROS 1 port)
     .tolist()  `msg.data = frame.ravel().tolist()` + publish   } slow patterns: a few iterations
     memview    `msg.data = memoryview(frame).cast("B")` + publish } on the 640x400 frames only
   The slow patterns on the larger frames are extrapolated (marked ~): the
   floor of that size plus the fill cost per byte measured on 640x400 16UC1.
2. Sustained rate - the real node (`python -m depthai_ros_bridge` with
   config/sim.yaml, RUN_SECONDS) and its rate monitor: Hz per topic
   against the configured fps (simulator rendering, stereo and NN included).
3. Bridge CPU - SimDevice FrameSets (config/sim.yaml at 30 fps: rgb 1280x720,
   left/right 640x400, depth, the demo detector's results when vision_msgs is
   there) captured once, then replayed through `Outputs.publish` at 30 fps from
   a thread as the device's capture loop would. One subscriber process takes
   image_raw + camera_info of every camera and depth (+ the NN topics). CPU
   time of this process (all threads: conversion, rclpy, DDS) / wall time, as
   % of one core; rendering, stereo and inference are the device's and excluded.
4. Latency - from the header stamp (the frame's device timestamp, ROS clock)
   to DDS's receipt of the sample in the subscriber process and to its
   callback (the subscriber's ROS clock; both are the system clock), same run as 3.
5. Memory - RSS of this process after warm-up, after run 3, after all runs; the net
   Python allocations (tracemalloc) over a further 3 s replay.
6. Lazy work - `Outputs.publish` per FrameSet with and without a subscriber on
   ~/stereo/disparity_color, ~/rgb/image_raw/compressed, ~/stereo/points, one at a time
   (a topic without subscribers is not converted, encoded or computed).

Transports: this process is the bridge and loads the node's Fast DDS profile as the node
does (depthai_ros_bridge.dds, unless FASTDDS_DEFAULT_PROFILES_FILE is set); the subscriber
processes get the environment without it, as any subscriber would.
Every ROS process here keeps DDS discovery on loopback
(ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST) and uses its own ROS_DOMAIN_ID
(1 + pid % 100; BENCH_ROS_DOMAIN_ID pins it) so concurrent runs stay apart.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import queue
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from depthai_ros_bridge.ros.dds import use_large_frames_profile

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))        # topic_rates
SIM_CONFIG = REPO / "config" / "sim.yaml"
SUBSCRIBER_ENV: dict[str, str] = {}     # environment of subscriber processes: no profile of the bridge's
REPLY = "BENCH "          # prefix of the subscriber process's answers on stdout
IMAGE = "sensor_msgs/msg/Image"
MB = 1e6


# -- output -------------------------------------------------------------------------------
@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        cells = [self.columns] + self.rows
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
        out = [f"\n## {self.title}", line(self.columns), "  ".join("-" * w for w in widths)]
        return "\n".join(out + [line(r) for r in self.rows] + [f"  {n}" for n in self.notes])

    def markdown(self) -> str:
        out = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(self.columns))) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in self.rows])


def ms(seconds: float) -> str:
    x = seconds * 1e3
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    profile = lambda env: Path(env["FASTDDS_DEFAULT_PROFILES_FILE"]).name if "FASTDDS_DEFAULT_PROFILES_FILE" in env \
        else "default"
    dds = f"bridge {profile(os.environ)}, subscribers {profile(SUBSCRIBER_ENV or os.environ)}"
    return (f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}; load average at "
            f"start {load}; Python {platform.python_version()}; "
            f"{os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp')}, Fast DDS transports: {dds}")


# -- timing helpers -----------------------------------------------------------------------
def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll a condition (a DDS match, say) until it holds."""
    deadline, pause = time.monotonic() + timeout, threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        pause.wait(0.005)


def interleaved(methods: dict[str, Callable[[], object]], iterations: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each method, run round-robin so they share the machine's load.

    The order rotates every round: a publish right after another one shares the machine with the
    subscriber still receiving the first, so no method may always follow a quiet one."""
    times: dict[str, list[float]] = {name: [] for name in methods}
    order = list(methods.items())
    for i in range(warmup + iterations):
        for name, fn in order[i % len(order):] + order[:i % len(order)]:
            start = time.perf_counter()
            fn()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# -- the subscriber process ---------------------------------------------------------------
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
        self._proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--subscriber"],
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


# -- 1. conversion cost -------------------------------------------------------------------
@dataclass(frozen=True)
class FrameCase:
    label: str
    shape: tuple[int, ...]
    dtype: type
    kind: str                      # dai.ImgFrame.Type name

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize


FRAME_CASES = (FrameCase("1920x1080 bgr8", (1080, 1920, 3), np.uint8, "BGR888i"),
               FrameCase("1280x720 bgr8", (720, 1280, 3), np.uint8, "BGR888i"),
               FrameCase("640x400 mono8", (400, 640), np.uint8, "GRAY8"),
               FrameCase("640x400 16UC1 depth", (400, 640), np.uint16, "RAW16"))
SLOW_MAX_BYTES = 640 * 400 * 2     # the slow patterns are measured up to this size, extrapolated beyond
N_DETECTIONS = 50
CONVERSION_COLUMNS = ["frame", "MB", "memcpy", "floor", "ours", "cv_bridge", ".tolist()", "memview",
                      "ours/floor", "ours/memcpy"]


def cv_bridge_msg(frame: np.ndarray, hdr):
    """cv_bridge.cv2_to_imgmsg's algorithm (ROS 2 cv_bridge, core.py): two copies of the pixels."""
    from sensor_msgs.msg import Image

    from depthai_ros_bridge.core.encodings import encoding_of
    msg = Image(header=hdr, height=frame.shape[0], width=frame.shape[1], encoding=encoding_of(frame))
    msg.is_bigendian = frame.dtype.byteorder == ">"
    msg.data.frombytes(frame.tobytes())
    msg.step = len(msg.data) // msg.height
    return msg


def slow_msg(frame: np.ndarray, hdr, pattern: str):
    """The patterns found in the wild: assigning a list or a memoryview makes array.array walk every byte."""
    from sensor_msgs.msg import Image

    from depthai_ros_bridge.core.encodings import encoding_of
    msg = Image(header=hdr, height=frame.shape[0], width=frame.shape[1], encoding=encoding_of(frame),
                step=frame.strides[0])
    msg.data = frame.view(np.uint8).ravel().tolist() if pattern == "tolist" else memoryview(frame).cast("B")
    return msg


def detection_builders() -> list:
    """[(label, builder class, 50 detections)] for the node's own builders (ros/detection_msgs.py); [] without
    vision_msgs."""
    try:
        from depthai_ros_bridge.core.spatial import Spatial
        from depthai_ros_bridge.nn.results import Detection
        from depthai_ros_bridge.ros import detection_msgs as messages
    except ImportError:          # vision_msgs.msg does not import
        return []
    dets = [Detection(f"class{i % 5}", 0.5 + i / 200, (10.0 * i, 5.0 * i, 10.0 * i + 40, 5.0 * i + 30),
                               Spatial((0.1 * i, -0.05 * i, 1.0 + 0.02 * i), (0.3, 0.4, 0.3), 100))
            for i in range(N_DETECTIONS)]
    return [(f"Detection{d}DArray x{N_DETECTIONS}", builder, dets)
            for d, builder in (("2", messages.Detection2DArrayBuilder), ("3", messages.Detection3DArrayBuilder))]


def conversion_costs(node, sub: Subscriber, iterations: int, slow_iterations: int) -> Table:
    import depthai as dai
    from rclpy.qos import QoSProfile
    from sensor_msgs.msg import Image

    from depthai_ros_bridge.ros import messages as conv
    from depthai_ros_bridge.device.frames import frame_array, make_frame

    table = Table(f"1. Bridge cost per frame: device frame -> publish() returned, 1 subscriber in another "
                  f"process (ms, median of {iterations}; slow patterns median of {slow_iterations})",
                  CONVERSION_COLUMNS)
    rng = np.random.default_rng(0)
    qos = QoSProfile(depth=10)
    hdr = lambda: conv.header("bench_optical_frame", time.time())

    def publisher(topic: str, msg_type, type_name: str):
        pub = node.create_publisher(msg_type, topic, qos)
        sub.subscribe(topic, type_name)
        wait_for(lambda: pub.get_subscription_count() >= 1, f"subscriber on {topic}")
        return pub

    fill_per_byte = {}       # pattern -> s/byte, from the largest measured frame
    measured = []
    for case in FRAME_CASES:
        pixels = rng.integers(0, 255, case.shape, dtype=np.uint8).astype(case.dtype)
        frame = make_frame(pixels, getattr(dai.ImgFrame.Type, case.kind), 0, 0.0)
        view, copy = frame_array(frame), np.empty_like(pixels)
        topic = "/bench/image_" + case.label.split()[1].lower() + "_" + case.label.split()[0]
        pub = publisher(topic, Image, IMAGE)
        built = cv_bridge_msg(view, hdr())       # an ordinary message: data an array.array
        image = conv.ImageMessage()
        t = interleaved({
            "memcpy": lambda: np.copyto(copy, view),
            "floor": lambda: pub.publish(built),
            "ours": lambda: pub.publish(image.fill(frame_array(frame), hdr())),
            "cv_bridge": lambda: pub.publish(cv_bridge_msg(frame_array(frame), hdr())),
        }, iterations)
        if case.nbytes <= SLOW_MAX_BYTES:
            t |= interleaved({p: (lambda p=p: pub.publish(slow_msg(frame_array(frame), hdr(), p)))
                              for p in ("tolist", "memview")}, slow_iterations, warmup=0)
            for p in ("tolist", "memview"):
                fill_per_byte[p] = (t[p] - t["floor"]) / case.nbytes
        node.destroy_publisher(pub)
        sub.unsubscribe(topic)
        measured.append((case, t))
    for case, t in measured:
        slow = [ms(t[p]) if p in t else "~" + ms(t["floor"] + fill_per_byte[p] * case.nbytes)
                for p in ("tolist", "memview")]
        table.rows.append([case.label, f"{case.nbytes / MB:.2f}", ms(t["memcpy"]), ms(t["floor"]), ms(t["ours"]),
                           ms(t["cv_bridge"]), *slow, f"{t['ours'] / t['floor']:.2f}",
                           f"{t['ours'] / t['memcpy']:.1f}"])

    detections = detection_builders()
    for label, builder, dets in detections:
        # floor: another builder's message, so building ours does not rewrite it
        kind, built, build = label.split()[0], builder().build(dets, hdr()), builder().build
        topic = "/bench/" + kind.lower()
        pub = publisher(topic, type(built), f"vision_msgs/msg/{kind}")
        t = interleaved({"floor": lambda: pub.publish(built), "ours": lambda: pub.publish(build(dets, hdr()))},
                        iterations)
        node.destroy_publisher(pub)
        sub.unsubscribe(topic)
        table.rows.append([label, "—", "—", ms(t["floor"]), ms(t["ours"]), "—", "—", "—",
                           f"{t['ours'] / t['floor']:.2f}", "—"])
    table.notes += [
        "memcpy: np.copyto into a preallocated array; floor: publish() of a prebuilt message of that size;",
        "ours: frame_array + ImageMessage.fill (the topic's kept Image, data a view of the frame) + publish;",
        "cv_bridge: its algorithm reimplemented (two copies), since ROS 2 cv_bridge is not installable from PyPI.",
        ".tolist() / memview: msg.data = pixels (as bytes).tolist() / memoryview(pixels).cast('B'); "
        f"{1e9 * fill_per_byte['tolist']:.0f} / {1e9 * fill_per_byte['memview']:.0f} ms per MB to fill;",
        f"  ~ = extrapolated from that per-byte cost (measured on {FRAME_CASES[-1].label}) + the floor. "
        "With ROS_PYTHON_CHECK_FIELDS=1 the",
        "  generated setter also checks each element in Python (not measured here).",
    ]
    if detections:
        table.notes.append("Detection rows: floor = publish() of a prebuilt array; ours = ros/detection_msgs.py builders "
                           "+ publish.")
    else:
        table.notes.append("Detection2DArray / Detection3DArray rows skipped: vision_msgs.msg does not import.")
    return table


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
    each published; the benchmark's own bookkeeping (this module, json) is left out."""
    import json as json_module
    import tracemalloc

    ours = tracemalloc.Filter(False, __file__), tracemalloc.Filter(False, json_module.__file__.rsplit("/", 1)[0] + "/*")
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
    """Mixed into a LifecycleNode: the two things Outputs' NN streams ask of the camera node."""

    is_active = True

    def show_nn_parameters(self, *args) -> None:
        pass


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
    from depthai_ros_bridge.ros.outputs import Outputs

    spec = parse_spec(flat_parameters(SIM_CONFIG) | REPLAY_FPS_OVERRIDES, "oak")
    device = SimDevice(spec)
    node = type("BenchCameraNode", (_BridgeNode, LifecycleNode), {})("oak")
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


# -- 2. the real node's sustained rates ---------------------------------------------------
def flat_parameters(path: Path) -> dict:
    """A ROS params file's `/**: ros__parameters:` block as dotted names."""
    import yaml

    def flatten(d: dict, prefix: str = "") -> dict:
        out = {}
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    doc = yaml.safe_load(path.read_text())
    return flatten(next(iter(doc.values()))["ros__parameters"])


def sustained_rates(seconds: float, capture_s: float | None) -> Table:
    from depthai_ros_bridge.core.spec import parse_spec

    spec = parse_spec(flat_parameters(SIM_CONFIG), "oak")
    env = dict(SUBSCRIBER_ENV or os.environ, RUN_SECONDS=str(seconds),        # the node chooses its transport itself
               ROS_DOMAIN_ID=str(1 + (int(os.environ["ROS_DOMAIN_ID"]) % 100)))
    before, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "depthai_ros_bridge", "--ros-args", "--params-file",
                           str(SIM_CONFIG), "-p", "autostart:=true"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=seconds + 60)
    after, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - wall
    node_cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / wall
    table = Table(f"2. Sustained publish rate, real node + simulated OAK-D, {SIM_CONFIG.name} defaults "
                  f"({seconds:.0f} s)", ["topic", "measured Hz", "configured Hz", "ratio", "messages"])
    for topic, hz, count in re.findall(r"^(/\S+)\s+([\d.]+)\s+(\d+)\s*$", proc.stdout, re.M):
        stream = topic.split("/")[2]
        s = spec.streams[stream if stream != "stereo" else "left"]
        configured = min(s.fps, spec.streams[stream].max_fps or s.fps)
        if topic.endswith("/label_info"):           # published once per deploy (transient local)
            table.rows.append([topic, f"{float(hz):.2f}", "once", "—", count])
        else:
            table.rows.append([topic, f"{float(hz):.2f}", f"{configured:.1f}", f"{float(hz) / configured:.2f}",
                               count])
    if not table.rows:
        table.notes.append(f"no rate table from the node (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    table.notes.append("Rates as the node's RUN_SECONDS rate monitor (topic_rates.py) received them over the "
                       "whole run; the simulated device renders, matches stereo and runs the NN in the node.")
    table.notes.append(f"The node's processes used {100 * node_cpu:.0f} % of one core (of {100 * os.cpu_count()} %) "
                       f"over its {wall:.0f} s including start-up; load average after: "
                       f"{os.getloadavg()[0]:.2f}." + (f" SimDevice.capture alone (render, stereo, NN) took "
                                                       f"{1e3 * capture_s:.0f} ms per FrameSet before run 3."
                                                       if capture_s else ""))
    return table


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
                wait_for(lambda: arrivals["result"] and arrivals["result"][-1] > called
                         and arrivals["left"][-1] > called + 1.0, "the new network's results")

                def gap(stream: str) -> float:
                    times = [start] + [t for t in arrivals[stream] if start < t <= called + 1.0]
                    return max(np.diff(times)) if len(times) > 1 else float("nan")
                first = next(t for t in arrivals["result"] if t > called)
                table.rows.append([str(i + 1), Path(models[i % 2]["model"]).name, ms(called - start),
                                   ms(gap("rgb")), ms(gap("left")), ms(first - called)])
    finally:
        device.close()
    table.notes.append(f"Median gap between left frames before deploying: {ms(steady)} ms. The new network is "
                       "built beside the running one and swapped between frames, so no stream pauses; target: "
                       "streams back within 1 s. A real OAK restarts its pipeline to load a network (seconds).")
    return table


# -- main ---------------------------------------------------------------------------------
def ros_environment() -> None:
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"      # DDS stays on loopback
    os.environ["DEPTHAI_TELEMETRY"] = "0"
    os.environ["ROS_DOMAIN_ID"] = os.environ.get("BENCH_ROS_DOMAIN_ID") or str(1 + os.getpid() % 100)
    SUBSCRIBER_ENV.clear()
    SUBSCRIBER_ENV.update(os.environ)
    use_large_frames_profile()          # this process is the bridge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="table 1 only, a few iterations (smoke test)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the 30 fps CPU run")
    parser.add_argument("--subscriber", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.subscriber:
        return subscriber_main()

    ros_environment()
    import rclpy
    started = time.monotonic()
    header = machine() + "\nWall times are medians over iterations; rates and CPU are averages over each run."
    print(header, flush=True)
    tables: list[Table] = []
    ready = False

    def show(*new: Table) -> None:
        for t in new:
            print(t.text(), flush=True)
        tables.extend(new)

    rclpy.init(args=[])
    sub = Subscriber()
    node = rclpy.create_node("bench")
    try:
        show(conversion_costs(node, sub, 3 if args.quick else 60, 1 if args.quick else 3))
        if not args.quick:
            try:
                from depthai_ros_bridge.ros import outputs  # noqa: F401 - needs tf2_msgs and vision_msgs, built into the venv
                ready = True
            except ImportError as e:
                print(f"\nTables 2-6 skipped: the bridge does not import ({e}).")
            if ready:
                replay_tables, capture_s = bridge_at_30fps(sub, args.seconds, PRERENDERED)
                show(*replay_tables)
    finally:
        node.destroy_node()
        sub.close()
        rclpy.try_shutdown()
    if ready:
        show(sustained_rates(15.0, capture_s))
        show(deploy_gaps())
    print("\n---- Markdown ----\n")
    print(header + "\n")
    print("\n\n".join(t.markdown() for t in sorted(tables, key=lambda t: t.title)))
    print(f"\nbench wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
