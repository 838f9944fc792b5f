"""The node's outputs without DDS: a fake node records what each publisher is given, fed with frame
sets captured from the simulated device."""
from dataclasses import dataclass, field

import numpy as np
import pytest

from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.frames import T, frame_array, make_frame
from depthai_ros_bridge.device.sim import SimDevice
from depthai_ros_bridge.ros.outputs import Outputs

OFFSET = 1000.0          # ROS time - steady clock, as the node computes it at configure


@dataclass
class FakePublisher:
    topic: str
    subscribers: int = 1
    sent: list = field(default_factory=list)

    def publish(self, msg):
        self.sent.append(msg)

    def get_subscription_count(self) -> int:
        return self.subscribers

    def on_activate(self, state):
        pass


class FakeLogger:
    def __getattr__(self, name):
        return lambda *a, **k: None


class FakeNode:
    """What Outputs and its helpers use of a LifecycleNode."""

    is_active = True

    def __init__(self):
        self.publishers: dict[str, FakePublisher] = {}

    def create_lifecycle_publisher(self, msg_type, topic, qos, event_callbacks=None):
        self.publishers[topic] = FakePublisher(topic)
        return self.publishers[topic]

    def destroy_lifecycle_publisher(self, pub):
        self.publishers.pop(pub.topic, None)

    def get_logger(self):
        return FakeLogger()


@pytest.fixture(scope="module")
def captured():
    spec = parse_spec({"device.type": "sim", "rgb.resolution": "720p", "stereo.align": "rgb",
                       "sim.motion_speed": 0.0}, "cam")
    device = SimDevice(spec)
    frames = device.capture(3, 0.2)
    yield spec, device, frames
    device.close()


def _stamp(msg) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def test_each_image_and_its_camera_info_carry_the_frame_and_stamp_of_its_camera(captured):
    spec, device, frames = captured
    node = FakeNode()
    Outputs(node, spec, device, OFFSET).publish(frames)
    pubs = node.publishers
    (rgb,) = pubs["~/rgb/image_raw"].sent
    assert (rgb.encoding, rgb.width, rgb.height, rgb.step) == ("bgr8", 1280, 720, 1280 * 3)
    assert rgb.header.frame_id == "cam_rgb_camera_optical_frame"
    assert _stamp(rgb) == pytest.approx(frames.timestamp + OFFSET, abs=1e-6)
    np.testing.assert_array_equal(np.frombuffer(bytes(rgb.data), np.uint8).reshape(720, 1280, 3),
                                  frame_array(frames.frames["rgb"]))
    (info,) = pubs["~/rgb/camera_info"].sent
    assert (info.width, info.height, info.header.frame_id, _stamp(info)) == (1280, 720, rgb.header.frame_id,
                                                                            _stamp(rgb))
    (left,) = pubs["~/left/image_raw"].sent
    assert (left.encoding, left.width, left.height) == ("mono8", 640, 400)
    (depth,) = pubs["~/stereo/image_raw"].sent
    assert (depth.encoding, (depth.width, depth.height)) == ("16UC1", spec.depth_size)
    assert depth.header.frame_id == "cam_rgb_camera_optical_frame"          # aligned to rgb
    (disparity,) = pubs["~/stereo/disparity"].sent
    assert disparity.header.frame_id == "cam_right_camera_optical_frame"    # right-camera pixels
    (compressed,) = pubs["~/rgb/image_raw/compressed"].sent
    assert compressed.format == "bgr8; jpeg compressed bgr8" and bytes(compressed.data[:2]) == b"\xff\xd8"


def test_nothing_is_converted_for_a_topic_without_subscribers(captured):
    spec, device, frames = captured
    node = FakeNode()
    outputs = Outputs(node, spec, device, OFFSET)
    for topic in ("~/rgb/image_raw/compressed", "~/stereo/points", "~/stereo/image_raw/compressedDepth"):
        node.publishers[topic].subscribers = 0
    outputs.publish(frames)
    assert node.publishers["~/rgb/image_raw/compressed"].sent == []
    assert node.publishers["~/stereo/points"].sent == []
    assert node.publishers["~/stereo/image_raw/compressedDepth"].sent == []
    assert len(node.publishers["~/rgb/image_raw"].sent) == 1


def test_a_corrupt_frame_is_dropped_and_counted_never_published(captured):
    spec, device, frames = captured
    node = FakeNode()
    outputs = Outputs(node, spec, device, OFFSET)
    good = frame_array(frames.frames["left"])
    broken = make_frame(good[: good.shape[0] // 2], T.GRAY8, frames.seq, frames.timestamp)
    broken.setHeight(good.shape[0])                  # claims the full size, carries half the data
    frames_with_broken = type(frames)(frames.seq, frames.timestamp, {**frames.frames, "left": broken})
    outputs.publish(frames_with_broken)
    assert outputs.corrupt["left"] == 1 and node.publishers["~/left/image_raw"].sent == []
    assert len(node.publishers["~/right/image_raw"].sent) == 1
