"""What the node publishes about its cameras, as plain values: CameraInfo per topic, static TF.

ROS-free, so the node (ros/messages.py, ros/outputs.py) and the dry run (dry_run.py) share it:
what the dry run prints is what the node publishes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera_model import CameraModel
from .spec import CAMERA_STREAMS, PipelineSpec
from .tf_frames import OPTICAL_ROTATION, rig_to_body

# Rig optical axes (x right, y down, z forward) -> REP-103 body axes (x forward, y left, z up):
# v_body = OPTICAL_TO_BODY @ v_optical (rig_to_body as a matrix).
OPTICAL_TO_BODY = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
IDENTITY = (0.0, 0.0, 0.0, 1.0)


@dataclass(frozen=True)
class CameraInfoValues:
    """sensor_msgs/CameraInfo's geometry fields (row-major lists, as the message has them)."""

    width: int
    height: int
    distortion_model: str
    d: list[float]
    k: list[float]
    r: list[float]
    p: list[float]

    def as_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "distortion_model": self.distortion_model,
                "d": self.d, "k": self.k, "r": self.r, "p": self.p}


@dataclass(frozen=True)
class StaticTransform:
    parent: str
    child: str
    translation: tuple[float, float, float]      # metres
    rotation: tuple[float, float, float, float]   # quaternion x, y, z, w

    def as_dict(self) -> dict:
        return {"parent": self.parent, "child": self.child, "translation": list(self.translation),
                "rotation": list(self.rotation)}


def camera_info(model: CameraModel, tx: float = 0.0) -> CameraInfoValues:
    """A stream's CameraInfo: K, the distortion its images still carry (plumb_bob zeros if none),
    R = I (each stream's frame is its own optical frame) and P = [K | (tx, 0, 0)].

    `tx` is -fx * baseline for the right image of a rectified stereo pair (ROS convention), else 0.
    """
    k = model.K
    p = np.zeros((3, 4))
    p[:, :3] = k
    p[0, 3] = tx
    d = [float(v) for v in model.d] if model.d else [0.0] * 5
    return CameraInfoValues(model.width, model.height, model.distortion_model if model.d else "plumb_bob", d,
                            k.ravel().tolist(), np.eye(3).ravel().tolist(), p.ravel().tolist())


def stream_camera_info(stream: str, cameras: dict[str, CameraModel], baseline_m: float | None) -> CameraInfoValues:
    """CameraInfo of `~/<stream>/camera_info` ("stereo": depth's camera). The right image of a
    stereo pair (`baseline_m` given) carries P's -fx * baseline."""
    model = cameras[stream]
    tx = -model.fx * baseline_m if stream == "right" and baseline_m is not None else 0.0
    return camera_info(model, tx)


def quaternion(matrix) -> tuple[float, float, float, float]:
    """A rotation matrix as a unit quaternion (x, y, z, w), w >= 0 (Shepperd's method)."""
    m = np.asarray(matrix, float)
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0] * 4
        q[i], q[j], q[k] = s / 4, (m[j, i] + m[i, j]) / s, (m[k, i] + m[i, k]) / s
        q[3] = (m[k, j] - m[j, k]) / s
    q = np.asarray(q) / np.linalg.norm(q)
    if q[3] < 0:
        q = -q
    x, y, z, w = (float(v) + 0.0 for v in q)      # + 0.0: no -0.0 in the message
    return x, y, z, w


def camera_transforms(base_frame: str, body_frame: str, optical_frame: str, model: CameraModel
                      ) -> list[StaticTransform]:
    """base -> camera body frame (at the camera centre, turned as the camera is) -> optical frame.

    The camera's rotation in the rig optical frame, R, becomes OPTICAL_TO_BODY R OPTICAL_TO_BODY^T
    in REP-103 body axes; body -> optical stays REP-103's fixed OPTICAL_ROTATION.
    """
    rotation = IDENTITY if tuple(model.rotation) == IDENTITY else \
        quaternion(OPTICAL_TO_BODY @ model.R @ OPTICAL_TO_BODY.T)
    x, y, z = (float(v) + 0.0 for v in rig_to_body(model.position))
    return [StaticTransform(base_frame, body_frame, (x, y, z), rotation),
            StaticTransform(body_frame, optical_frame, (0.0, 0.0, 0.0), OPTICAL_ROTATION)]


def static_transforms(spec: PipelineSpec, cameras: dict[str, CameraModel]) -> list[StaticTransform]:
    """The node's /tf_static: every camera the device has a model of (an OAK-1 has only rgb)."""
    out = []
    for camera in CAMERA_STREAMS:
        if camera in cameras:
            out += camera_transforms(spec.base_frame, spec.body_frame(camera), spec.optical_frame(camera),
                                     cameras[camera])
    return out
