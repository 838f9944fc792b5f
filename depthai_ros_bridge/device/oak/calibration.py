"""The device's calibration -> camera models and stereo geometry (pure: a CalibrationHandler in).

The rig frame is the left camera's optical frame moved to the middle of the stereo pair (as the
simulated rig); on a device without a pair (OAK-1) it is the colour camera's optical frame.
Each model carries its camera's calibrated position and rotation in it, and the distortion its
images still have:
- rgb: undistorted on the device when depth is aligned to it (see plan.undistorted_rgb), else
  the calibration's coefficients;
- left/right with stereo on: StereoDepth's rectified outputs, distortion-free at the right
  camera's intrinsics (depthai rectifies to them), turned by the rectification rotation;
- left/right without stereo: the raw sensor, with its coefficients.
Only the cameras the pipeline runs are modelled: an OAK-1's calibration has CAM_A alone.
"""
from __future__ import annotations

import depthai as dai
import numpy as np

from ...core.camera_info import quaternion
from ...core.camera_model import CameraModel
from ...core.spec import PipelineSpec
from ..base import DeviceError, StereoGeometry
from ..frames import SOCKETS
from .plan import PipelinePlan, plan_pipeline, undistorted_rgb
from .stereo import stereo_config, subpixel_bits

S = dai.CameraBoardSocket
# ROS CameraInfo distortion models (REP-104 names) of depthai's lens models, and how many of
# depthai's coefficients they take: Perspective is OpenCV's rational polynomial
# [k1, k2, p1, p2, k3, k4, k5, k6, (s1..s4, tx, ty)] (CalibrationHandler::getDistortionCoefficients);
# depthai-ros publishes its first 8 as rational_polynomial.
DISTORTION = {dai.CameraModel.Perspective: ("rational_polynomial", 8), dai.CameraModel.Fisheye: ("equidistant", 4)}


def distortion(calib: dai.CalibrationHandler, socket: dai.CameraBoardSocket) -> tuple[str, tuple[float, ...]]:
    model = calib.getDistortionModel(socket)
    if model not in DISTORTION:
        raise DeviceError(f"the {socket.name} camera's lens model is {model.name}; CameraInfo can describe "
                          f"{', '.join(m.name for m in DISTORTION)}")
    name, count = DISTORTION[model]
    d = [float(v) for v in calib.getDistortionCoefficients(socket)][:count]
    return name, tuple(d + [0.0] * (count - len(d)))


def _rotation(matrix) -> np.ndarray:
    """A calibration's 3x3 rotation, or identity where it holds none (a zero matrix)."""
    r = np.asarray(matrix, float).reshape(3, 3)
    return r if abs(np.linalg.det(r) - 1.0) < 1e-3 else np.eye(3)


def _intrinsics(calib: dai.CalibrationHandler, camera: str, name: str, size: tuple[int, int]) -> CameraModel:
    # keepAspectRatio: scale to cover, centre-crop the rest, as the Camera node's default CROP does.
    k = np.asarray(calib.getCameraIntrinsics(SOCKETS[camera], size[0], size[1]), float)
    return CameraModel(name, size[0], size[1], k[0, 0], k[1, 1], k[0, 2], k[1, 2])


def camera_poses(calib: dai.CalibrationHandler, cameras) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Camera -> (centre, rotation) in the rig frame, from the calibrated extrinsics
    (getCameraExtrinsics(c, ref) maps points in c's frame to ref's: its translation is c's centre
    in ref, its rotation c's axes in ref)."""
    pair = calib.hasCameraCalibration(S.CAM_B) and calib.hasCameraCalibration(S.CAM_C)
    ref = S.CAM_B if pair else S.CAM_A
    poses = {}
    for c in dict.fromkeys(list(cameras) + (["left", "right"] if pair else [])):
        m = np.asarray(calib.getCameraExtrinsics(SOCKETS[c], ref, False, dai.LengthUnit.METER), float)
        poses[c] = (m[:3, 3], _rotation(m[:3, :3]))
    origin = (poses["left"][0] + poses["right"][0]) / 2 if pair else np.zeros(3)
    return {c: (centre - origin, r) for c, (centre, r) in poses.items() if c in cameras}


def _placed(model: CameraModel, centre, rotation, lens: tuple[str, tuple[float, ...]] | None) -> CameraModel:
    from dataclasses import replace
    name, d = lens if lens else ("plumb_bob", ())
    x, y, z = (float(v) for v in centre)
    return replace(model, position=(x, y, z), rotation=quaternion(rotation),
                   distortion_model=name, d=d)


def camera_models(calib: dai.CalibrationHandler, spec: PipelineSpec, plan: PipelinePlan | None = None
                  ) -> dict[str, CameraModel]:
    """Models of the cameras the pipeline runs at each stream's output size ("stereo": the camera
    depth is aligned to, at the depth size)."""
    plan = plan or plan_pipeline(spec)
    rectified = spec.enabled("stereo")
    try:
        missing = [f"{c} ({SOCKETS[c].name})" for c in plan.cameras if not calib.hasCameraCalibration(SOCKETS[c])]
        if missing:
            raise DeviceError(f"the OAK's calibration lacks what the enabled streams need: no camera data for "
                              f"{', '.join(missing)}")
        poses = camera_poses(calib, plan.cameras)
        models = {}
        for name in plan.cameras:
            s = spec.streams[name]
            rect = rectified and name != "rgb"
            model = _intrinsics(calib, "right" if rect else name, name, (s.width, s.height))
            centre, rotation = poses[name]
            if rect:
                # Rectified frames are turned by the rectification rotation R (p_rect = R p_raw):
                # their axes in the raw camera's frame are R^T.
                r = calib.getStereoLeftRectificationRotation() if name == "left" else \
                    calib.getStereoRightRectificationRotation()
                rotation = rotation @ _rotation(r).T
            lens = None if rect or (name == "rgb" and undistorted_rgb(spec)) else distortion(calib, SOCKETS[name])
            models[name] = _placed(model, centre, rotation, lens)
        if rectified:
            align = spec.stereo.align
            assert plan.depth_size is not None, "the plan of an enabled stereo stream has its depth size"
            base = _intrinsics(calib, align, align, plan.depth_size)
            models["stereo"] = _placed(base, models[align].position, models[align].R, None)
    except RuntimeError as e:   # depthai: missing camera data or extrinsic link
        raise DeviceError(f"the OAK's calibration lacks what the enabled streams need: {e}") from e
    return models


def stereo_geometry(calib: dai.CalibrationHandler, spec: PipelineSpec, cameras: dict[str, CameraModel]
                    ) -> StereoGeometry:
    """Depth on the device is f * B / d with the rectified right focal length (at the mono size)
    and the calibrated baseline (StereoDepth's default: not the spec translation)."""
    cfg = stereo_config(spec.stereo, spec.stereo.confidence_threshold)
    scale = 2 ** subpixel_bits(spec.stereo.median_filter) if spec.stereo.subpixel else 1
    baseline = calib.getBaselineDistance(S.CAM_C, S.CAM_B, False, dai.LengthUnit.METER)
    return StereoGeometry(focal_px=cameras["right"].fx, baseline_m=float(baseline),
                          max_disparity=cfg.getMaxDisparity() / scale, units_per_px=scale)


def intrinsics_mismatch(model: CameraModel, frame: dai.ImgFrame | dai.EncodedFrame) -> float | None:
    """Largest difference (px) between a model's K and what the frame says it is
    (ImgFrame.getTransformation(): v3 frames carry the intrinsics of the sensor mode and the
    crops/scales applied; depthai-ros v3 builds CameraInfo from it). None if the frame has none."""
    try:
        t = frame.getTransformation()
        if not t.isValid():
            return None
        k = np.asarray(t.getIntrinsicMatrix(), float)
    except RuntimeError:
        return None
    if (frame.getWidth(), frame.getHeight()) != (model.width, model.height):
        return float("inf")
    return float(np.abs(k - model.K).max())
