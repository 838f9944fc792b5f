"""Our Image messages are what ROS 2's cv_bridge makes of the same frame, for every encoding we publish.

cv_bridge (ros-perception/vision_opencv, ROS 2) is not on PyPI (the `cv-bridge` wheel there is a
ROS 1 port that NumPy 2 breaks), so this runs only on a ROS install and is skipped elsewhere.
"""
from __future__ import annotations

import numpy as np
import pytest

from depthai_ros_bridge.ros import messages as conv

cv_bridge = pytest.importorskip("cv_bridge", reason="ROS 2 cv_bridge is not installed (not on PyPI)")


def _ros2_cv_bridge():
    """CvBridge, if this cv_bridge is the ROS 2 package (registered in the ament index)."""
    try:
        from ament_index_python.packages import get_package_share_directory
        get_package_share_directory("cv_bridge")
    except (ImportError, LookupError, ValueError):
        pytest.skip("the cv_bridge found is not ROS 2's (no ament index entry)")
    return cv_bridge.CvBridge()


def _frames():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    return [
        ("mono8", rng.integers(0, 256, (100, 64), dtype=np.uint8)),
        ("bgr8", bgr),
        ("bgr8", bgr[:, 10:90]),                                    # not contiguous: rows are copied
        ("16UC1", rng.integers(0, 65536, (80, 48), dtype=np.uint16)),  # depth, mm
        ("32FC1", rng.random((80, 48), dtype=np.float32) * 10),       # depth in m, disparity
    ]


@pytest.mark.parametrize("encoding, frame", _frames(), ids=lambda v: v if isinstance(v, str) else None)
def test_image_msg_equals_cv_bridge(encoding, frame):
    bridge = _ros2_cv_bridge()
    ours = conv.image_msg(frame, conv.header("cam_optical_frame", 12.25))
    theirs = bridge.cv2_to_imgmsg(frame, encoding=encoding)     # (header: set by the caller either way)
    assert ours.encoding == theirs.encoding == encoding
    assert (ours.height, ours.width) == (theirs.height, theirs.width) == frame.shape[:2]
    assert ours.step == theirs.step
    assert bool(ours.is_bigendian) == bool(theirs.is_bigendian)
    assert bytes(ours.data) == bytes(theirs.data)
    # and back: cv_bridge reads our message as the frame it came from
    np.testing.assert_array_equal(np.asarray(bridge.imgmsg_to_cv2(ours)).reshape(frame.shape), frame)
