"""image_raw/compressed, image_raw/compressedDepth and stereo/points over DDS: formats, frames, stamps,
content against the raw topics of the same stamp, live compression parameters, nothing made unasked."""
import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2, PointField

from depthai_ros_bridge.core.compression import decode_compressed_depth
from harness import FAST_SIM, Harness, image_array, stamp_of, wait_until

RELIABLE = QoSProfile(depth=5)     # whole clouds of a few MB, not best-effort fragments




def _cloud_array(msg: PointCloud2) -> np.ndarray:
    count = len(msg.fields)
    assert all(f.datatype == PointField.FLOAT32 and f.count == 1 for f in msg.fields)
    assert [f.offset for f in msg.fields] == [4 * i for i in range(count)]
    assert (msg.point_step, msg.row_step) == (4 * count, 4 * count * msg.width)
    assert not msg.is_dense and not msg.is_bigendian and len(msg.data) == msg.row_step * msg.height
    return np.frombuffer(bytes(msg.data), np.float32).reshape(msg.height, msg.width, count)


def _pair(derived, raw, what: str):
    """The latest `derived` message and the `raw` message of the same stamp (waits for both)."""
    msg = derived.wait()
    wait_until(lambda: any(stamp_of(m) == stamp_of(msg) for m in raw.messages), what=f"{what} of the same stamp")
    return msg, next(m for m in raw.messages if stamp_of(m) == stamp_of(msg))


def _start(h: Harness, topics: dict) -> dict:
    subs = {topic: h.subscribe(topic, msg_type, RELIABLE) for topic, msg_type in topics.items()}
    assert h.transition("configure") and h.transition("activate")
    for collector in subs.values():
        collector.wait(count=2)
    return subs


@pytest.fixture(scope="module")
def right_aligned(ros):
    """Depth aligned to the right camera, 16UC1 (the defaults)."""
    h = Harness(**FAST_SIM)
    topics = {f"{c}/image_raw": Image for c in ("rgb", "left", "right", "stereo")}
    topics |= {f"{c}/image_raw/compressed": CompressedImage for c in ("rgb", "left", "right")}
    topics |= {"stereo/image_raw/compressedDepth": CompressedImage, "stereo/points": PointCloud2,
               "stereo/camera_info": CameraInfo}
    yield h, _start(h, topics)
    h.close()


@pytest.fixture(scope="module")
def rgb_aligned(ros):
    """Depth aligned to the colour camera, 32FC1 metres, with a depth limit."""
    h = Harness(**FAST_SIM, **{"stereo.align": "rgb", "stereo.depth_encoding": "32FC1", "stereo.depth_limit_m": 4.0})
    topics = {"rgb/image_raw": Image, "stereo/image_raw": Image, "stereo/image_raw/compressedDepth": CompressedImage,
              "stereo/points": PointCloud2}
    yield h, _start(h, topics)
    h.close()


@pytest.mark.parametrize("camera, encoding", [("rgb", "bgr8"), ("left", "mono8"), ("right", "mono8")])
def test_compressed_is_the_raw_frame_as_image_transport_jpeg(right_aligned, camera, encoding):
    h, subs = right_aligned
    msg, raw = _pair(subs[f"{camera}/image_raw/compressed"], subs[f"{camera}/image_raw"], "raw image")
    assert msg.format == f"{encoding}; jpeg compressed {encoding}"
    assert msg.header.frame_id == raw.header.frame_id == f"{h.name}_{camera}_camera_optical_frame"
    decoded = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape == image_array(raw).shape
    assert cv2.PSNR(decoded, image_array(raw)) > 35       # quality 95
    assert len(msg.data) < len(raw.data) / 2


def test_compressed_depth_16uc1_is_the_raw_depth_losslessly(right_aligned):
    h, subs = right_aligned
    msg, raw = _pair(subs["stereo/image_raw/compressedDepth"], subs["stereo/image_raw"], "depth image")
    assert msg.format == "16UC1; compressedDepth png"
    assert msg.header.frame_id == raw.header.frame_id == f"{h.name}_right_camera_optical_frame"
    assert bytes(msg.data[:12]) == bytes(12)            # ConfigHeader: INV_DEPTH, depthParam unused
    depth = decode_compressed_depth(msg.format, bytes(msg.data))
    assert depth.dtype == np.uint16 and np.array_equal(depth, image_array(raw))


def test_points_are_the_depth_image_back_projected_in_its_frame(right_aligned):
    h, subs = right_aligned
    msg, raw = _pair(subs["stereo/points"], subs["stereo/image_raw"], "depth image")
    assert msg.header.frame_id == raw.header.frame_id == f"{h.name}_right_camera_optical_frame"
    assert [f.name for f in msg.fields] == ["x", "y", "z"]
    assert (msg.width, msg.height) == (raw.width, raw.height) == (640, 400)
    points = _cloud_array(msg)
    depth_mm = image_array(raw)
    z = np.where(depth_mm > 0, depth_mm.astype(np.float32) / np.float32(1000), np.float32(np.nan))
    np.testing.assert_array_equal(points[..., 2], z)
    assert np.isnan(points[depth_mm == 0]).all() and (depth_mm > 0).mean() > 0.5
    info = next(m for m in subs["stereo/camera_info"].messages if stamp_of(m) == stamp_of(raw))
    fx, _, cx, _, fy, cy = info.k[:6]
    v, u = np.mgrid[0:msg.height, 0:msg.width]
    np.testing.assert_allclose(points[..., 0], (u - cx) * z / fx, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(points[..., 1], (v - cy) * z / fy, rtol=1e-5, atol=1e-6)


def test_compressed_depth_32fc1_is_the_raw_depth_within_its_quantisation(rgb_aligned):
    h, subs = rgb_aligned
    msg, raw = _pair(subs["stereo/image_raw/compressedDepth"], subs["stereo/image_raw"], "depth image")
    assert msg.format == "32FC1; compressedDepth png"
    assert msg.header.frame_id == f"{h.name}_rgb_camera_optical_frame"
    z, decoded = image_array(raw), decode_compressed_depth(msg.format, bytes(msg.data))
    assert np.array_equal(np.isnan(decoded), np.isnan(z)) and np.nanmax(z) <= 4.0
    a = 100 * 101                       # q (q + 1), q = 100: the transport's default depth_quantization
    valid = ~np.isnan(z)
    assert np.all(np.abs(decoded[valid] - z[valid]) <= z[valid] ** 2 / (2 * a) + 1e-5)


def test_points_aligned_to_rgb_carry_the_colour_of_the_same_frame(rgb_aligned):
    h, subs = rgb_aligned
    msg, depth = _pair(subs["stereo/points"], subs["stereo/image_raw"], "depth image")
    wait_until(lambda: any(stamp_of(m) == stamp_of(msg) for m in subs["rgb/image_raw"].messages), what="colour frame")
    colour = next(m for m in subs["rgb/image_raw"].messages if stamp_of(m) == stamp_of(msg))
    assert [f.name for f in msg.fields] == ["x", "y", "z", "rgb"]
    assert msg.header.frame_id == depth.header.frame_id == f"{h.name}_rgb_camera_optical_frame"
    points = _cloud_array(msg)
    np.testing.assert_array_equal(points[..., 2], image_array(depth))      # NaN beyond the depth limit too
    packed = points[..., 3].copy().view(np.uint32)
    bgr = np.stack([packed & 0xFF, packed >> 8 & 0xFF, packed >> 16 & 0xFF], -1).astype(np.uint8)
    expected = cv2.resize(image_array(colour), (msg.width, msg.height), interpolation=cv2.INTER_AREA)
    assert np.array_equal(bgr, expected)


def test_nothing_is_encoded_for_topics_without_subscribers(rgb_aligned):
    h, subs = rgb_aligned
    subs["stereo/points"].wait(count=3)
    published = h.node.outputs.published
    assert published["~/stereo/points"].count > 0
    for topic in ("~/rgb/image_raw/compressed", "~/left/image_raw/compressed", "~/right/image_raw/compressed"):
        assert published[topic].count == 0


def test_compression_parameters_apply_live_and_refuse_values_out_of_range(make_harness):
    h = make_harness(**FAST_SIM)
    jpeg = h.subscribe("rgb/image_raw/compressed", CompressedImage, RELIABLE)
    png = h.subscribe("stereo/image_raw/compressedDepth", CompressedImage, RELIABLE)
    assert h.transition("configure") and h.transition("activate")
    jpeg_size, png_size = len(jpeg.wait().data), len(png.wait().data)

    assert all(r.successful for r in h.set_parameters(**{"compressed.jpeg_quality": 10, "compressed.png_level": 0}))
    wait_until(lambda: len(jpeg.messages[-1].data) < jpeg_size / 3, what="smaller JPEGs at quality 10")
    wait_until(lambda: len(png.messages[-1].data) > png_size, what="larger PNGs at level 0 (stored)")
    assert h.node.outputs.published["~/stereo/points"].count == 0      # never subscribed

    for name, bad, allowed in (("compressed.jpeg_quality", 0, "minimum 1"), ("compressed.jpeg_quality", 101,
                               "maximum 100"), ("compressed.png_level", 10, "maximum 9")):
        result, = h.set_parameters(**{name: bad})
        assert not result.successful and name in result.reason and allowed in result.reason
