"""One PNG of what a camera node sees, for headless robots and bug reports (console script `oak_snapshot`).

    python -m depthai_ros_bridge.snapshot [--node /oak] [-o oak.png] [--seconds 2]

Subscribes to the node's topics for a moment and writes a mosaic: the colour image with the
detections received for that very frame (boxes, labels, distances), depth colourised over the
scene's range with a metre scale bar, the left and right images, and a caption with the stamp,
each topic's measured rate and the networks running. Panels keep their native sizes.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import rclpy
from rcl_interfaces.srv import GetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import parameter_value_to_python
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from vision_msgs.msg import Detection2DArray, Detection3DArray

from ..core.colour import colorize_scene, metre_scale_bar
from ..core.overlay import draw_overlay, draw_tag, text_style

DTYPES = {"mono8": (np.uint8, 1), "bgr8": (np.uint8, 3), "rgb8": (np.uint8, 3), "16UC1": (np.uint16, 1),
          "32FC1": (np.float32, 1)}
MAX_IMAGE_BYTES = 64 * 1024 * 1024     # a message claiming more is refused, not allocated
CAMERAS = ("rgb", "left", "right")
SCALE_BAR_H = 28
CAPTION_LINES = 3


class SnapshotError(RuntimeError):
    pass


def image_array(msg: Image) -> np.ndarray:
    """A received Image's pixels, checked against its own header (size, step, encoding)."""
    if msg.encoding not in DTYPES:
        raise SnapshotError(f"unsupported encoding {msg.encoding!r}")
    dtype, channels = DTYPES[msg.encoding]
    row = msg.width * channels * np.dtype(dtype).itemsize
    if msg.step < row or msg.step * msg.height > MAX_IMAGE_BYTES or len(msg.data) < msg.step * msg.height:
        raise SnapshotError(f"malformed {msg.encoding} image {msg.width}x{msg.height} step {msg.step}")
    rows = np.frombuffer(msg.data, np.uint8, msg.step * msg.height).reshape(msg.height, msg.step)[:, :row]
    pixels = np.ascontiguousarray(rows).view(dtype).reshape(msg.height, msg.width, channels)
    if msg.encoding == "rgb8":
        pixels = pixels[..., ::-1]
    return pixels[..., 0] if channels == 1 else pixels


def stamp_of(msg) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


@dataclass(frozen=True)
class Drawn:
    """A detection as drawn: label, score, box (x0, y0, x1, y1) in colour pixels, distance (m) or None."""

    label: str
    score: float
    box: tuple[float, float, float, float]
    spatial: object = None
    track_id: str = ""

    @property
    def distance(self) -> float | None:
        return None if self.spatial is None else self.spatial.centre[2]


@dataclass
class _Centre:
    centre: tuple[float, float, float]


@dataclass
class Snapshot:
    path: Path
    stamp: tuple[int, int]
    detections: list[Drawn]
    layout: dict[str, tuple[int, int, int, int]]      # panel -> x, y, width, height in the PNG
    rates: dict[str, float] = field(default_factory=dict)


def detections_of(msg: Detection2DArray, spatial: Detection3DArray | None, info: CameraInfo | None) -> list[Drawn]:
    """2D detections, each with the distance of the 3D detection of its label that projects into its box."""
    located = []
    if spatial is not None and info is not None and info.k[0] > 0:
        fx, cx, fy, cy = info.k[0], info.k[2], info.k[4], info.k[5]
        for d in spatial.detections:
            x, y, z = d.bbox.center.position.x, d.bbox.center.position.y, d.bbox.center.position.z
            if d.results and z > 0:
                located.append((d.results[0].hypothesis.class_id, fx * x / z + cx, fy * y / z + cy, z))
    drawn = []
    for d in msg.detections:
        if not d.results:
            continue
        c, w, h = d.bbox.center.position, d.bbox.size_x, d.bbox.size_y
        box = (c.x - w / 2, c.y - h / 2, c.x + w / 2, c.y + h / 2)
        label, score = d.results[0].hypothesis.class_id, d.results[0].hypothesis.score
        inside = [(abs(u - c.x) + abs(v - c.y), z) for lab, u, v, z in located
                  if lab == label and box[0] <= u <= box[2] and box[1] <= v <= box[3]]
        spatial_of = _Centre((0.0, 0.0, min(inside)[1])) if inside else None
        drawn.append(Drawn(label, float(score), box, spatial_of, d.id))
    return drawn


def depth_metres(depth: np.ndarray) -> np.ndarray:
    return depth.astype(np.float32) * 0.001 if depth.dtype == np.uint16 else depth.astype(np.float32)


def depth_panel(depth: np.ndarray) -> np.ndarray:
    """Depth colourised over its own range (near red), with a metre scale bar under it."""
    metres = depth_metres(depth)
    coloured, span = colorize_scene(metres, near_is_high=False)
    near, far = span if span is not None else (0.0, 1.0)
    return np.vstack([coloured, metre_scale_bar(coloured.shape[1], near, far, SCALE_BAR_H)])


def compose(panels: dict[str, np.ndarray], caption: list[str]) -> tuple[np.ndarray, dict]:
    """Row 1: rgb. Row 2: depth, left, right. Then the caption. Panels at native size, BGR."""
    bgr = {k: cv2.cvtColor(v, cv2.COLOR_GRAY2BGR) if v.ndim == 2 else v for k, v in panels.items()}
    rows = [[k for k in ("rgb",) if k in bgr], [k for k in ("depth", "left", "right") if k in bgr]]
    rows = [r for r in rows if r]
    width = max(sum(bgr[k].shape[1] for k in row) for row in rows) if rows else 640
    scale, thickness, _ = text_style(480)
    (_, th), base = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    line_h = th + base + 10
    height = sum(max(bgr[k].shape[0] for k in row) for row in rows) + line_h * max(len(caption), 1) + 8
    canvas = np.zeros((height, width, 3), np.uint8)
    layout, y = {}, 0
    for row in rows:
        x = 0
        for k in row:
            h, w = bgr[k].shape[:2]
            canvas[y:y + h, x:x + w] = bgr[k]
            layout[k] = (x, y, w, h)
            draw_tag(canvas, k, x, y, (40, 40, 40), scale * 0.8, thickness, above=False)
            x += w
        y += max(bgr[k].shape[0] for k in row)
    layout["caption"] = (0, y, width, height - y)
    for i, text in enumerate(caption):
        cv2.putText(canvas, text, (8, y + (i + 1) * line_h - base - 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), thickness, cv2.LINE_AA)
    return canvas, layout


class _Collector:
    """Subscriptions to one node's topics; the latest messages and counts, under one condition."""

    def __init__(self, node, base: str):
        self.node, self.base = node, base.rstrip("/")
        self.cond = threading.Condition()
        self.latest: dict[str, object] = {}
        self.counts: dict[str, int] = {}
        self.first: dict[str, float] = {}           # receipt times: rates from each topic's own span
        self.last: dict[str, float] = {}
        self.rgb = deque(maxlen=15)                 # recent colour frames: one of them has its detections
        self.detections = deque(maxlen=30)
        self.spatial = deque(maxlen=30)
        self._subs = []

    def add(self, relative: str, msg_type) -> None:
        topic = f"{self.base}/{relative}"
        # Reliable where every publisher is (best effort loses large frames between processes).
        pubs = self.node.get_publishers_info_by_topic(topic)
        reliable = pubs and all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in pubs)
        qos = QoSProfile(depth=5) if reliable else qos_profile_sensor_data
        self._subs.append(self.node.create_subscription(msg_type, topic, lambda m, t=relative: self._on(t, m), qos))

    def _on(self, topic: str, msg) -> None:
        with self.cond:
            self.latest[topic] = msg
            self.counts[topic] = self.counts.get(topic, 0) + 1
            self.first.setdefault(topic, time.monotonic())
            self.last[topic] = time.monotonic()
            if topic == "rgb/image_raw":
                self.rgb.append(msg)
            elif topic == "rgb/nn/detections":
                self.detections.append(msg)
            elif topic == "rgb/nn/spatial_detections":
                self.spatial.append(msg)
            self.cond.notify_all()

    def matched(self):
        """The newest colour frame with the detections of that frame (stamps equal), if any."""
        stamps = {stamp_of(d): d for d in self.detections}
        for image in reversed(self.rgb):
            if stamp_of(image) in stamps:
                spatial = next((s for s in self.spatial if stamp_of(s) == stamp_of(image)), None)
                return image, stamps[stamp_of(image)], spatial
        return None


def _running_networks(node, base: str, timeout: float) -> dict[str, str]:
    client = node.create_client(GetParameters, f"{base}/get_parameters")
    try:
        if not client.wait_for_service(timeout_sec=timeout):
            return {}
        names = [f"{c}.nn.model" for c in CAMERAS]
        done = threading.Event()
        future = client.call_async(GetParameters.Request(names=names))
        future.add_done_callback(lambda _: done.set())
        if not done.wait(timeout) or future.result() is None:
            return {}
        values = [parameter_value_to_python(v) for v in future.result().values]
        return {c: Path(v).name for c, v in zip(CAMERAS, values) if isinstance(v, str) and v}
    finally:
        node.destroy_client(client)


def capture(node_name: str, output: Path, seconds: float = 2.0, timeout: float = 15.0, context=None) -> Snapshot:
    """Watch `node_name` for `seconds` (longer, up to `timeout`, until every panel has a frame) and write the PNG."""
    base = "/" + node_name.strip("/")
    node = rclpy.create_node("oak_snapshot", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    try:
        topics = {"rgb/image_raw": Image, "rgb/camera_info": CameraInfo, "rgb/nn/detections": Detection2DArray,
                  "rgb/nn/spatial_detections": Detection3DArray, "stereo/image_raw": Image,
                  "left/image_raw": Image, "right/image_raw": Image}
        deadline = time.monotonic() + timeout
        if not node.wait_for_node(base, timeout):
            raise SnapshotError(f"no node {base} in {timeout:.0f} s (ROS_DOMAIN_ID and discovery range as the node's?)")
        collector = _Collector(node, base)
        published: set[str] = set()

        def discover() -> None:
            # rclpy has no graph-change wait (ros2/rclpy#929): the graph is polled, as wait_for_node does.
            for t in topics:
                if t not in published and node.get_publishers_info_by_topic(f"{base}/{t}"):
                    published.add(t)
                    collector.add(t, topics[t])

        started = time.monotonic()
        images = ("rgb/image_raw", "stereo/image_raw", "left/image_raw", "right/image_raw")

        def ready() -> bool:
            have = all(t in collector.latest for t in images if t in published)
            matched = "rgb/nn/detections" not in published or collector.matched() is not None
            return "rgb/image_raw" in collector.latest and have and matched and time.monotonic() - started >= seconds

        while time.monotonic() < deadline:
            discover()
            with collector.cond:
                if collector.cond.wait_for(ready, timeout=0.2):
                    break
        with collector.cond:
            latest, match = dict(collector.latest), collector.matched()
            rates = {t: (n - 1) / (collector.last[t] - collector.first[t]) if n > 1 and collector.last[t] >
                     collector.first[t] else 0.0 for t, n in collector.counts.items()}
        if not published:
            raise SnapshotError(f"{base} publishes none of {', '.join(topics)}: is it configured and active?")
        if "rgb/image_raw" not in latest:
            raise SnapshotError(f"no image from {base}/rgb/image_raw in {timeout:.0f} s: is the node active?")
        networks = _running_networks(node, base, 5.0)
    finally:
        executor.shutdown()
        node.destroy_node()
        spinner.join(timeout=5.0)

    if match is not None:
        rgb_msg, det_msg, spatial_msg = match
        drawn = detections_of(det_msg, spatial_msg, latest.get("rgb/camera_info"))
    else:
        rgb_msg, drawn = latest["rgb/image_raw"], []
    panels = {"rgb": draw_overlay(image_array(rgb_msg), drawn)}
    if "stereo/image_raw" in latest:
        panels["depth"] = depth_panel(image_array(latest["stereo/image_raw"]))
    for cam in ("left", "right"):
        if f"{cam}/image_raw" in latest:
            panels[cam] = image_array(latest[f"{cam}/image_raw"])
    stamp = stamp_of(rgb_msg)
    caption = [f"{base}  stamp {stamp[0]}.{stamp[1]:09d}  {len(drawn)} detection(s)"
               + ("" if match or "rgb/nn/detections" not in published else " (none matched this frame)"),
               "rates (Hz): " + "  ".join(f"{t.replace('/image_raw', '')} {r:.1f}" for t, r in sorted(rates.items())
                                         if not t.endswith("camera_info")),
               "networks: " + ("  ".join(f"{c}: {m}" for c, m in networks.items()) or "none")]
    mosaic, layout = compose(panels, caption)
    output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(output), mosaic):
        raise SnapshotError(f"could not write {output}")
    return Snapshot(output, stamp, drawn, layout, rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oak_snapshot", description=__doc__.split("\n")[0])
    parser.add_argument("--node", default="/oak", help="the camera node (default /oak)")
    parser.add_argument("-o", "--output", default="oak.png", help="PNG to write (default oak.png)")
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to measure rates (default 2)")
    parser.add_argument("--timeout", type=float, default=20.0, help="give up after this long (default 20)")
    args = parser.parse_args(argv)
    if not args.output.lower().endswith(".png"):
        parser.error("-o: the snapshot is a PNG; give a name ending in .png")
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        shot = capture(args.node, Path(args.output), args.seconds, args.timeout, context)
    except SnapshotError as e:
        print(f"oak_snapshot: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        rclpy.try_shutdown(context=context)
    h, w = cv2.imread(str(shot.path), cv2.IMREAD_UNCHANGED).shape[:2]
    print(f"wrote {shot.path} ({w}x{h}): {len(shot.detections)} detection(s) at stamp "
          f"{shot.stamp[0]}.{shot.stamp[1]:09d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
