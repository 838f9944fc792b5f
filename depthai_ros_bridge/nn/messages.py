"""Network results -> vision_msgs / std_msgs messages (pure builders; the node publishes them)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from geometry_msgs.msg import Point, Pose, Quaternion, Vector3
from std_msgs.msg import Float32MultiArray, Header, MultiArrayDimension, MultiArrayLayout
from vision_msgs.msg import (BoundingBox2D, BoundingBox3D, Detection2D, Detection2DArray, Detection3D,
                             Detection3DArray, LabelInfo, ObjectHypothesis, ObjectHypothesisWithPose, Point2D,
                             Pose2D, VisionClass)

from ..core.spatial import Spatial

_AXES_4D = ("N", "C", "H", "W")


@dataclass(frozen=True)
class Detection:
    """One detection on a stream's image: box in that image's pixels."""

    label: str
    score: float
    box: tuple[float, float, float, float]      # x0, y0, x1, y1
    spatial: Spatial | None = None
    track_id: str = ""                          # tracking id; empty when not tracked
    status: str = ""                            # tracklet status: NEW | TRACKED | LOST | REMOVED


def _hypothesis(det: Detection, position: Point | None = None) -> ObjectHypothesisWithPose:
    result = ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=det.label, score=float(det.score)))
    if position is not None:
        result.pose.pose.position = position
    return result


def detection2d_array(detections: list[Detection], header: Header) -> Detection2DArray:
    out = []
    for det in detections:
        x0, y0, x1, y1 = det.box
        bbox = BoundingBox2D(center=Pose2D(position=Point2D(x=(x0 + x1) / 2, y=(y0 + y1) / 2)),
                             size_x=float(x1 - x0), size_y=float(y1 - y0))
        results = [_hypothesis(det)]
        if det.status:   # vision_msgs has no tracklet status: a second hypothesis carries it
            results.append(ObjectHypothesisWithPose(hypothesis=ObjectHypothesis(class_id=f"status:{det.status}",
                                                                                score=1.0)))
        out.append(Detection2D(header=header, results=results, bbox=bbox, id=det.track_id))
    return Detection2DArray(header=header, detections=out)


def detection3d_array(detections: list[Detection], header: Header) -> Detection3DArray:
    """Detections with a position: centre and size in metres in the header's optical frame."""
    out = []
    for det in detections:
        if det.spatial is None:
            continue
        centre = Point(x=det.spatial.centre[0], y=det.spatial.centre[1], z=det.spatial.centre[2])
        bbox = BoundingBox3D(center=Pose(position=centre, orientation=Quaternion(w=1.0)),
                             size=Vector3(x=det.spatial.size[0], y=det.spatial.size[1], z=det.spatial.size[2]))
        out.append(Detection3D(header=header, results=[_hypothesis(det, centre)], bbox=bbox, id=det.track_id))
    return Detection3DArray(header=header, detections=out)


def label_info(labels: tuple[str, ...], threshold: float, header: Header) -> LabelInfo:
    return LabelInfo(header=header, threshold=float(threshold),
                     class_map=[VisionClass(class_id=i, class_name=name) for i, name in enumerate(labels)])


def tensor_msg(name: str, tensor: np.ndarray) -> Float32MultiArray:
    """One output tensor, its dims labelled '<tensor name>/<axis>' (row-major layout)."""
    t = np.ascontiguousarray(tensor, np.float32)
    axes = _AXES_4D if t.ndim == 4 else tuple(f"d{i}" for i in range(t.ndim))
    strides = np.cumprod(t.shape[::-1])[::-1]
    dims = [MultiArrayDimension(label=f"{name}/{axis}", size=int(size), stride=int(stride))
            for axis, size, stride in zip(axes, t.shape, strides)]
    msg = Float32MultiArray(layout=MultiArrayLayout(dim=dims, data_offset=0))
    msg.data.frombytes(t.data.cast("B"))      # in place: assigning would copy twice
    return msg
