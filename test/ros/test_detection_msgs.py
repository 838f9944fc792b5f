"""Detection message builders: fields, the status hypothesis, and message reuse between builds."""
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from vision_msgs.msg import Detection2DArray, Detection3DArray

from depthai_ros_bridge.core.spatial import Spatial
from depthai_ros_bridge.nn.results import Detection
from depthai_ros_bridge.ros import messages as conv
from depthai_ros_bridge.ros.detection_msgs import Detection2DArrayBuilder, Detection3DArrayBuilder


def _det(i: int, status: str = "", spatial: bool = True) -> Detection:
    return Detection(f"class{i}", 0.5 + i / 100, (10.0 * i, 20.0, 10.0 * i + 40, 60.0),
                     Spatial((0.1 * i, -0.2, 1.5 + i), (0.3, 0.4, 0.2), 50) if spatial else None,
                     track_id=str(i) if status else "", status=status)


def _wire(msg, kind):
    """What a subscriber receives: the message through serialisation."""
    return deserialize_message(serialize_message(msg), kind)


def test_2d_fields_and_status_hypothesis():
    hdr = conv.header("cam_optical", 2.25)
    msg = _wire(Detection2DArrayBuilder().build([_det(1, "TRACKED"), _det(2)], hdr), Detection2DArray)
    assert msg.header.frame_id == "cam_optical" and (msg.header.stamp.sec, msg.header.stamp.nanosec) == (2, 250_000_000)
    first, second = msg.detections
    assert (first.bbox.center.position.x, first.bbox.center.position.y) == (30.0, 40.0)
    assert (first.bbox.size_x, first.bbox.size_y) == (40.0, 40.0)
    assert first.id == "1" and first.header.frame_id == "cam_optical"
    assert [(r.hypothesis.class_id, r.hypothesis.score) for r in first.results] == \
        [("class1", pytest.approx(0.51)), ("status:TRACKED", 1.0)]
    assert [r.hypothesis.class_id for r in second.results] == ["class2"] and second.id == ""


def test_3d_skips_unlocated_and_puts_the_pose_at_the_centre():
    msg = _wire(Detection3DArrayBuilder().build([_det(1), _det(2, spatial=False), _det(3)], conv.header("f", 1.0)),
                Detection3DArray)
    assert [d.results[0].hypothesis.class_id for d in msg.detections] == ["class1", "class3"]
    box = msg.detections[1].bbox
    assert (box.center.position.x, box.center.position.y, box.center.position.z) == (pytest.approx(0.3), -0.2, 4.5)
    assert box.center.orientation.w == 1.0
    assert (box.size.x, box.size.y, box.size.z) == (0.3, 0.4, 0.2)
    assert msg.detections[1].results[0].pose.pose.position.z == 4.5


def test_a_reused_builder_leaves_nothing_of_the_previous_frame():
    builder = Detection2DArrayBuilder()
    builder.build([_det(i, "NEW") for i in range(5)], conv.header("f", 1.0))
    again = _wire(builder.build([_det(7)], conv.header("f", 2.0)), Detection2DArray)
    fresh = _wire(Detection2DArrayBuilder().build([_det(7)], conv.header("f", 2.0)), Detection2DArray)
    assert again == fresh and len(again.detections) == 1
    assert _wire(builder.build([], conv.header("f", 3.0)), Detection2DArray).detections == []
