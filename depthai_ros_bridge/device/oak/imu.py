"""The OAK's IMU: whether the device has one, where the calibration places it, and DepthAI's IMU node for it.

- Presence and model: `Device.getConnectedIMU()` ("BMI270", "BNO086", "NONE"; OAK-D-Lite from the Kickstarter and
  OAK-1 models have none). `imu.enabled: true` on a device without one is refused at configure, naming it.
- Placement: `CalibrationHandler.getImuToCameraExtrinsics(camera, False, METER)` maps points in the IMU's frame to
  the camera's (rotation = the IMU's axes in the camera, translation = the IMU in the camera); with the camera's
  pose in the rig (calibration.camera_poses) that is the IMU's pose in the rig. A calibration without IMU
  extrinsics (older EEPROMs: "IMU calibration data is not available") leaves the IMU frame at the rig origin,
  unturned, and says so (a warning and /diagnostics).
- Node: ACCELEROMETER_RAW + GYROSCOPE_RAW at imu.rate_hz (+ ROTATION_VECTOR on a BNO08x); batch threshold 1 (each
  report is sent as soon as it is read: the lowest latency), at most 10 reports a packet when the link lags (what
  depthai-core's examples/python/IMU use), read on the host from a non-blocking queue of 50 (a quarter second at
  200 Hz) so a slow host loses the oldest reports, never the pipeline's pace.
"""
from __future__ import annotations

import depthai as dai
import numpy as np

from ...core.camera_info import quaternion
from ...core.imu import NOISE, ImuInfo, ImuNoise, rate_problem
from ...core.spec import PipelineSpec
from ..base import DeviceError
from .calibration import camera_poses

BATCH_REPORT_THRESHOLD = 1
MAX_BATCH_REPORTS = 10
QUEUE_SIZE = 50
NO_IMU = ("", "NONE")
S = dai.CameraBoardSocket


def check_imu(spec: PipelineSpec, connected_imu: str) -> str | None:
    """The IMU model the spec will run (None: imu.enabled is false); DeviceError naming the parameter if the
    device cannot give it."""
    if not spec.imu.enabled:
        return None
    model = (connected_imu or "").strip().upper()
    if model in NO_IMU:
        raise DeviceError("imu.enabled: this device has no IMU (getConnectedIMU reports none; OAK-1 and "
                          "Kickstarter OAK-D-Lite models have none). Set imu.enabled false")
    why = rate_problem(model, spec.imu.rate_hz)
    if why:
        raise DeviceError(f"imu.rate_hz: {why}")
    return model


def _noise(calib: dai.CalibrationHandler, model: str) -> ImuNoise:
    """The calibration's characterised noise where it has any (per-axis means), else the model's."""
    default = NOISE[model]
    try:
        params = calib.getImuNoiseParameters()
        accel, gyro = params.accelerometer, params.gyroscope
        axes = ("x", "y", "z")
        a_density = float(np.mean([getattr(accel, a).noiseDensity for a in axes]))
        g_density = float(np.mean([getattr(gyro, a).noiseDensity for a in axes]))
        a_walk = float(np.mean([getattr(accel, a).randomWalk for a in axes]))
        g_walk = float(np.mean([getattr(gyro, a).randomWalk for a in axes]))
    except (AttributeError, RuntimeError):
        return default
    if a_density <= 0 or g_density <= 0:
        return default
    return ImuNoise(a_density, g_density, a_walk if a_walk > 0 else default.accel_random_walk,
                    g_walk if g_walk > 0 else default.gyro_random_walk)


def imu_info(calib: dai.CalibrationHandler, spec: PipelineSpec, model: str) -> tuple[ImuInfo, str | None]:
    """The IMU placed in the rig frame from the calibration, and a warning if the calibration cannot place it."""
    pair = calib.hasCameraCalibration(S.CAM_B) and calib.hasCameraCalibration(S.CAM_C)
    camera, socket = ("left", S.CAM_B) if pair else ("rgb", S.CAM_A)
    noise = _noise(calib, model)
    try:
        m = np.asarray(calib.getImuToCameraExtrinsics(socket, False, dai.LengthUnit.METER), float)
        centre, rotation = camera_poses(calib, [camera])[camera]
    except RuntimeError as e:
        warning = (f"imu: the calibration cannot place the {model} ({e}); {spec.imu_frame} is published at the "
                   f"base frame, unturned: the data stay in the sensor's own axes")
        return ImuInfo(model, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0), noise, float(spec.imu.rate_hz)), warning
    r = m[:3, :3] if abs(np.linalg.det(m[:3, :3]) - 1.0) < 1e-3 else np.eye(3)
    x, y, z = (float(v) for v in centre + rotation @ m[:3, 3])
    return ImuInfo(model, (x, y, z), quaternion(rotation @ r), noise,
                   float(spec.imu.rate_hz)), None


def imu_settings(info: ImuInfo) -> dict:
    sensors = ["ACCELEROMETER_RAW", "GYROSCOPE_RAW"] + (["ROTATION_VECTOR"] if info.has_orientation else [])
    return {"model": info.model, "sensors": sensors, "rate_hz": int(info.rate_hz),
            "batch_report_threshold": BATCH_REPORT_THRESHOLD, "max_batch_reports": MAX_BATCH_REPORTS,
            "queue_size": QUEUE_SIZE, "queue_blocking": False}


def add_imu(graph, info: ImuInfo):
    """The IMU node in `graph` (graph.Graph: a device pipeline, or only described for the dry run); the host
    queue of its dai.IMUData (the port's name when only describing)."""
    settings = imu_settings(info)
    node = graph.node("imu", dai.node.IMU, **settings)
    graph.queues["imu"] = "imu.out"
    if node is None:
        return "imu.out"
    node.enableIMUSensor([getattr(dai.IMUSensor, s) for s in settings["sensors"]], int(info.rate_hz))
    node.setBatchReportThreshold(BATCH_REPORT_THRESHOLD)
    node.setMaxBatchReports(MAX_BATCH_REPORTS)
    return node.out.createOutputQueue(QUEUE_SIZE, False)
