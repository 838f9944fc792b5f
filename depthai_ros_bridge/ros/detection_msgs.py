"""Network results -> vision_msgs / std_msgs messages (builders; the node publishes them)."""
from __future__ import annotations

import numpy as np
from std_msgs.msg import Float32MultiArray, Header, MultiArrayDimension, MultiArrayLayout
from vision_msgs.msg import (
    Detection2D,
    Detection2DArray,
    Detection3D,
    Detection3DArray,
    LabelInfo,
    ObjectHypothesisWithPose,
    VisionClass,
)

from ..nn.results import Detection

_AXES_4D = ("N", "C", "H", "W")


class Detection2DArrayBuilder:
    """One topic's Detection2DArray, built on message objects reused from frame to frame.

    Constructing vision_msgs messages costs more than publishing them (each constructor builds
    all its default sub-messages, a hypothesis a 36-double covariance array); setting the
    fields of kept ones is cheap. The returned message is rewritten by the next build:
    publish it first (publish() serialises it before returning).
    """

    def __init__(self):
        self._msg = Detection2DArray()
        self._slots: list[tuple] = []

    def build(self, detections: list[Detection], header: Header) -> Detection2DArray:
        while len(self._slots) < len(detections):
            self._slots.append(_new_slot(Detection2D))
        out = []
        for det, (msg, bbox, centre, hypothesis, status) in zip(detections, self._slots):
            x0, y0, x1, y1 = det.box
            msg.header, msg.id = header, det.track_id
            centre.x, centre.y = (x0 + x1) / 2, (y0 + y1) / 2
            bbox.size_x, bbox.size_y = float(x1 - x0), float(y1 - y0)
            _set_hypothesis(msg, hypothesis, status, det)
            out.append(msg)
        self._msg.header, self._msg.detections = header, out
        return self._msg


class Detection3DArrayBuilder:
    """Detections with a position: centre and size in metres in the header's optical frame.

    Reuses its message objects as Detection2DArrayBuilder does (same caveat)."""

    def __init__(self):
        self._msg = Detection3DArray()
        self._slots: list[tuple] = []

    def build(self, detections: list[Detection], header: Header) -> Detection3DArray:
        located = [d for d in detections if d.spatial is not None]
        while len(self._slots) < len(located):
            self._slots.append(_new_slot(Detection3D))
        out = []
        for det, (msg, bbox, centre, hypothesis, _) in zip(located, self._slots):
            msg.header, msg.id = header, det.track_id
            centre.x, centre.y, centre.z = det.spatial.centre
            size = bbox.size
            size.x, size.y, size.z = det.spatial.size
            _set_hypothesis(msg, hypothesis, None, det)
            out.append(msg)
        self._msg.header, self._msg.detections = header, out
        return self._msg


def _new_slot(kind) -> tuple:
    """A detection message and the parts a build writes: (msg, bbox, bbox centre, hypothesis, status)."""
    msg, hypothesis, status = kind(), ObjectHypothesisWithPose(), ObjectHypothesisWithPose()
    centre = msg.bbox.center.position
    if kind is Detection3D:
        msg.bbox.center.orientation.w = 1.0
        hypothesis.pose.pose.position = centre      # the hypothesis' pose is the box centre
    status.hypothesis.score = 1.0
    return msg, msg.bbox, centre, hypothesis, status


def _set_hypothesis(msg, hypothesis, status, det: Detection) -> None:
    hypothesis.hypothesis.class_id, hypothesis.hypothesis.score = det.label, float(det.score)
    if status is not None and det.status:   # vision_msgs has no tracklet status: a second hypothesis carries it
        status.hypothesis.class_id = f"status:{det.status}"
        msg.results = [hypothesis, status]
    else:
        msg.results = [hypothesis]


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
