import numpy as np
import pytest

from depthai_ros_bridge.core.camera_model import CameraModel
from depthai_ros_bridge.ros import messages as conv


@pytest.mark.parametrize("shape, dtype, encoding, pixel_bytes", [
    ((400, 640), np.uint8, "mono8", 1), ((720, 1280, 3), np.uint8, "bgr8", 3),
    ((400, 640), np.uint16, "16UC1", 2), ((400, 640), np.float32, "32FC1", 4)])
def test_image_msg_matches_cv_bridge_layout(shape, dtype, encoding, pixel_bytes):
    frame = (np.random.default_rng(0).random(shape) * 200).astype(dtype)
    msg = conv.image_msg(frame, conv.header("cam_optical", 5.5))
    assert (msg.height, msg.width, msg.encoding) == (shape[0], shape[1], encoding)
    assert msg.step == shape[1] * pixel_bytes
    assert msg.is_bigendian == 0
    assert bytes(msg.data) == frame.tobytes()
    assert msg.header.frame_id == "cam_optical"
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (5, 500_000_000)


def test_image_msg_copies_a_non_contiguous_view():
    frame = np.arange(100 * 60, dtype=np.uint8).reshape(100, 60)[:, 10:50]
    msg = conv.image_msg(frame, conv.header("f", 0))
    assert msg.step == 40 and bytes(msg.data) == frame.tobytes()


def test_unsupported_dtype_is_refused():
    with pytest.raises(ValueError, match="no image encoding"):
        conv.image_msg(np.zeros((4, 4), np.int64), conv.header("f", 0))


def test_camera_info_has_k_p_identity_r_and_zero_distortion():
    model = CameraModel("right", 640, 400, 441.0, 441.0, 319.5, 199.5, (0.0375, 0, 0))
    info = conv.camera_info_msg(model, conv.header("r", 1.0), tx=-441.0 * 0.075)
    assert list(info.k) == [441.0, 0, 319.5, 0, 441.0, 199.5, 0, 0, 1]
    assert list(info.p) == [441.0, 0, 319.5, pytest.approx(-33.075), 0, 441.0, 199.5, 0, 0, 0, 1, 0]
    assert list(info.r) == [1, 0, 0, 0, 1, 0, 0, 0, 1]
    assert list(info.d) == [0.0] * 5 and info.distortion_model == "plumb_bob"
    assert (info.width, info.height) == (640, 400)


def _rotate(q, v):
    x, y, z, w = q
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return r @ np.asarray(v, float)


def test_optical_frame_axes_follow_rep103():
    # A point 1 m straight ahead (+z optical) is +x in the body frame; optical +x (right) is body -y.
    np.testing.assert_allclose(_rotate(conv.OPTICAL_ROTATION, [0, 0, 1]), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(_rotate(conv.OPTICAL_ROTATION, [1, 0, 0]), [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(_rotate(conv.OPTICAL_ROTATION, [0, 1, 0]), [0, 0, -1], atol=1e-12)


def test_camera_transforms_place_the_camera_in_rep103_axes():
    model = CameraModel("left", 640, 400, 441, 441, 319.5, 199.5, (-0.0375, 0.0, 0.0))
    body, optical = conv.camera_transforms("base", "left_frame", "left_optical", model, 3.0)
    assert (body.header.frame_id, body.child_frame_id) == ("base", "left_frame")
    t = body.transform.translation
    assert (t.x, t.y, t.z) == (0.0, 0.0375, 0.0)    # left camera is +y (left) of the base
    assert (optical.header.frame_id, optical.child_frame_id) == ("left_frame", "left_optical")


def test_image_data_is_the_frames_own_memory_and_serialises_whole():
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image
    frame = np.arange(48 * 64, dtype=np.uint16).reshape(48, 64)
    msg = conv.image_msg(frame, conv.header("f", 0))
    assert np.shares_memory(np.asarray(msg.data), frame)       # no copy until publish()
    assert bytes(deserialize_message(serialize_message(msg), Image).data) == frame.tobytes()


def test_share_bytes_takes_bytes_too():
    from sensor_msgs.msg import CompressedImage
    msg = conv.share_bytes(CompressedImage(format="png"), b"\x01\x02\x03")
    assert bytes(msg.data) == b"\x01\x02\x03"


def test_a_kept_image_message_follows_each_frames_layout():
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image
    image = conv.ImageMessage()
    def wire(msg):
        return deserialize_message(serialize_message(msg), Image)
    mono = np.full((4, 6), 7, np.uint8)
    first = wire(image.fill(mono, conv.header("a", 1.0)))
    depth = np.arange(20, dtype=np.uint16).reshape(4, 5)
    second = wire(image.fill(depth, conv.header("b", 2.0)))
    assert (first.encoding, first.width, first.step, first.header.frame_id) == ("mono8", 6, 6, "a")
    assert (second.encoding, second.width, second.step, second.header.frame_id) == ("16UC1", 5, 10, "b")
    assert bytes(first.data) == mono.tobytes() and bytes(second.data) == depth.tobytes()
    assert wire(image.fill(mono, conv.header("c", 3.0))) == wire(conv.image_msg(mono, conv.header("c", 3.0)))
