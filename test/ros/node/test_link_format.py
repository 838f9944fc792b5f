"""<camera>.link_format mjpeg over DDS (simulated OAK-D): image_raw/compressed is the device's JPEG as it came,
image_raw is that JPEG decoded (bgr8 / mono8, the stream's size, the same stamp and frame), the coloured
point cloud takes its colour from the decoded frame, and the device's JPEG quality is refused live (as an
OAK's, whose encoders take it when the pipeline is built)."""
import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CompressedImage, Image, PointCloud2

from harness import FAST_SIM, Harness, image_array, stamp_of, wait_until

RELIABLE = QoSProfile(depth=5)


@pytest.fixture(scope="module")
def mjpeg_node(ros):
    h = Harness(**FAST_SIM, **{"rgb.link_format": "mjpeg", "left.link_format": "mjpeg", "stereo.align": "rgb"})
    topics = {"rgb/image_raw": Image, "rgb/image_raw/compressed": CompressedImage, "left/image_raw": Image,
              "left/image_raw/compressed": CompressedImage, "right/image_raw/compressed": CompressedImage,
              "stereo/points": PointCloud2}
    subs = {t: h.subscribe(t, m, RELIABLE) for t, m in topics.items()}
    assert h.transition("configure") and h.transition("activate")
    for collector in subs.values():
        collector.wait(count=2)
    yield h, subs
    h.close()


def _decode(msg: CompressedImage) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_UNCHANGED)


@pytest.mark.parametrize("camera, encoding, size", [("rgb", "bgr8", (1280, 720)), ("left", "mono8", (640, 400))])
def test_image_raw_is_the_device_jpeg_decoded(mjpeg_node, camera, encoding, size):
    h, subs = mjpeg_node
    compressed = subs[f"{camera}/image_raw/compressed"].wait()
    raw = subs[f"{camera}/image_raw"]
    wait_until(lambda: any(stamp_of(m) == stamp_of(compressed) for m in raw.messages), what="image_raw of that stamp")
    image = next(m for m in raw.messages if stamp_of(m) == stamp_of(compressed))
    assert compressed.format == f"{encoding}; jpeg compressed {encoding}"
    assert image.encoding == encoding and (image.width, image.height) == size
    assert image.header.frame_id == compressed.header.frame_id == f"{h.name}_{camera}_camera_optical_frame"
    # Decoded from the very JPEG published: not re-encoded on the host (a re-encode would not round-trip exactly).
    np.testing.assert_array_equal(image_array(image), _decode(compressed))
    # The scene, not noise: a JPEG of the render has the room's structure (strong edges, spread of values).
    pixels = image_array(image)
    assert pixels.std() > 10 and cv2.Laplacian(pixels, cv2.CV_64F).var() > 10


def test_a_raw_link_camera_beside_them_is_unchanged(mjpeg_node):
    _, subs = mjpeg_node
    msg = subs["right/image_raw/compressed"].wait()
    assert msg.format == "mono8; jpeg compressed mono8" and _decode(msg).shape == (400, 640)


def test_the_coloured_cloud_takes_the_decoded_colour(mjpeg_node):
    _, subs = mjpeg_node
    cloud = subs["stereo/points"].wait()
    assert [f.name for f in cloud.fields] == ["x", "y", "z", "rgb"]
    points = np.frombuffer(bytes(cloud.data), np.float32).reshape(cloud.height, cloud.width, 4)
    colours = points[..., 3].copy().view(np.uint32)
    valid = np.isfinite(points[..., 2])
    assert valid.mean() > 0.3 and np.unique(colours[valid]).size > 100      # coloured from real pixels


def test_the_device_jpeg_quality_is_refused_live_naming_why_and_the_compressed_depth_level_is_not(mjpeg_node):
    h, subs = mjpeg_node
    before = len(subs["rgb/image_raw/compressed"].wait().data)
    result, = h.set_parameters(**{"compressed.jpeg_quality": 10})
    assert not result.successful
    assert result.reason.startswith("compressed.jpeg_quality: the OAK-D (simulated) encodes")
    assert "unconfigured (cleanup, set, configure)" in result.reason
    assert h.node.get_parameter("compressed.jpeg_quality").value == 95
    assert h.set_parameters(**{"compressed.png_level": 1})[0].successful
    # The stream goes on at the quality it was configured with.
    jpegs = subs["rgb/image_raw/compressed"]
    assert len(jpegs.wait(count=jpegs.count + 2).data) > before / 2       # quality 10 would be < 1/3
