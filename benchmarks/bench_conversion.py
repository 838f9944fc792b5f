"""Table 1 of the benchmark: what the bridge costs per frame, from a device frame to publish()."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench_common import IMAGE, MB, Table, interleaved, ms, wait_for
from bench_subscriber import Subscriber


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

    from depthai_ros_bridge.device.frames import frame_array, make_frame
    from depthai_ros_bridge.ros import messages as conv

    table = Table(f"1. Bridge cost per frame: device frame -> publish() returned, 1 subscriber in another "
                  f"process (ms, median of {iterations}; slow patterns median of {slow_iterations})",
                  CONVERSION_COLUMNS)
    rng = np.random.default_rng(0)
    qos = QoSProfile(depth=10)
    def hdr():
        return conv.header("bench_optical_frame", time.time())

    def image_methods(pub, frame, copy: np.ndarray) -> dict[str, Callable[[], object]]:
        view = frame_array(frame)
        built = cv_bridge_msg(view, hdr())       # an ordinary message: data an array.array
        image = conv.ImageMessage()
        return {
            "memcpy": lambda: np.copyto(copy, view),
            "floor": lambda: pub.publish(built),
            "ours": lambda: pub.publish(image.fill(frame_array(frame), hdr())),
            "cv_bridge": lambda: pub.publish(cv_bridge_msg(frame_array(frame), hdr())),
        }

    def slow_methods(pub, frame) -> dict[str, Callable[[], object]]:
        return {p: (lambda p=p: pub.publish(slow_msg(frame_array(frame), hdr(), p))) for p in ("tolist", "memview")}

    def detection_methods(pub, built, build, dets) -> dict[str, Callable[[], object]]:
        return {"floor": lambda: pub.publish(built), "ours": lambda: pub.publish(build(dets, hdr()))}

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
        topic = "/bench/image_" + case.label.split()[1].lower() + "_" + case.label.split()[0]
        pub = publisher(topic, Image, IMAGE)
        t = interleaved(image_methods(pub, frame, np.empty_like(pixels)), iterations)
        if case.nbytes <= SLOW_MAX_BYTES:
            t |= interleaved(slow_methods(pub, frame), slow_iterations, warmup=0)
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
        t = interleaved(detection_methods(pub, built, build, dets), iterations)
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
        table.notes.append("Detection rows: floor = publish() of a prebuilt array; ours = ros/detection_msgs.py "
                           "builders + publish.")
    else:
        table.notes.append("Detection2DArray / Detection3DArray rows skipped: vision_msgs.msg does not import.")
    return table
