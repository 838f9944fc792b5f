"""The oak backend on every supported model's calibration and sensors (issue 9, defects 1, 2, 4, 5).

Calibrations are host-built from each model's published geometry (oak_models.py); what is
checked is what the node would publish: CameraInfo values and static TF (core/camera_info,
the code ros/outputs.py uses).
"""
from __future__ import annotations

import math

import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.core.camera_info import OPTICAL_TO_BODY, static_transforms, stream_camera_info
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError
from depthai_ros_bridge.device.oak import ConnectedCamera, camera_models, plan_pipeline, stereo_geometry
from test.device.oak_models import MODELS, RGB_DISTORTION, RGB_TILT_DEG, calibration, cameras, tilt

S = dai.CameraBoardSocket


def connected(model):
    return [ConnectedCamera.from_json(c, i) for i, c in enumerate(cameras(MODELS[model]))]


def quat_matrix(q):
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


# -- defect 1: OAK-1 ----------------------------------------------------------------------------
OAK_1 = {"left.enabled": False, "right.enabled": False, "stereo.enabled": False}


def test_oak_1_models_only_its_colour_camera_and_publishes_tf_for_it():
    spec = parse_spec(OAK_1)
    plan = plan_pipeline(spec, connected("oak_1"))
    assert plan.cameras == ("rgb",) and set(plan.outputs) == {"rgb"} and plan.depth_size is None
    cams = camera_models(calibration(MODELS["oak_1"]), spec, plan)
    assert set(cams) == {"rgb"}
    assert cams["rgb"].position == (0.0, 0.0, 0.0)        # the rig frame is the colour camera's
    tf = static_transforms(spec, cams)
    assert [(t.parent, t.child) for t in tf] == [("oak_base_frame", "oak_rgb_camera_frame"),
                                                 ("oak_rgb_camera_frame", "oak_rgb_camera_optical_frame")]


def test_oak_1_refuses_stereo_naming_the_parameter():
    with pytest.raises(DeviceError, match=r"^stereo\.enabled: this device has no stereo pair.*IMX378 on CAM_A"):
        plan_pipeline(parse_spec({}), connected("oak_1"))
    with pytest.raises(DeviceError, match=r"left\.enabled: left needs a camera on CAM_B"):
        plan_pipeline(parse_spec({"stereo.enabled": False}), connected("oak_1"))


# -- defect 2: connected sensors -----------------------------------------------------------------
def test_oak_d_lite_refuses_800p_naming_the_sensor_and_what_it_supports():
    spec = parse_spec({"left.resolution": "800p", "right.resolution": "800p"})
    with pytest.raises(DeviceError) as e:
        plan_pipeline(spec, connected("oak_d_lite"))
    assert "left.resolution: 800p (1280x800) is larger than the OV7251 on CAM_B gives (640x480); " \
           "it supports 400p" in str(e.value)
    assert "right.resolution" in str(e.value)
    plan_pipeline(parse_spec({}), connected("oak_d_lite"))            # 400p fits


def test_oak_d_w_colour_sensor_refuses_1080p_and_a_mono_socket_cannot_be_rgb():
    with pytest.raises(DeviceError, match=r"rgb\.resolution: 1080p .* OV9782 on CAM_A .*supports 720p"):
        plan_pipeline(parse_spec({}), connected("oak_d_w"))
    plan_pipeline(parse_spec({"rgb.resolution": "720p"}), connected("oak_d_w"))
    mono_a = [ConnectedCamera("CAM_A", "OV9282", 1280, 800, ("MONO",))]
    with pytest.raises(DeviceError, match=r"rgb\.enabled: rgb needs a colour sensor; OV9282 on CAM_A"):
        plan_pipeline(parse_spec(OAK_1), mono_a)


def test_depth_aligned_to_a_missing_colour_camera_names_stereo_align():
    pair = connected("oak_d")[1:]
    with pytest.raises(DeviceError, match=r"stereo\.align: rgb needs a camera on CAM_A"):
        plan_pipeline(parse_spec({"rgb.enabled": False, "stereo.align": "rgb"}), pair)


# -- defect 4: distortion --------------------------------------------------------------------------
def test_raw_colour_publishes_the_calibrations_rational_polynomial():
    spec = parse_spec({"stereo.align": "right"})
    cams = camera_models(calibration(MODELS["oak_d"]), spec)
    info = stream_camera_info("rgb", cams, None)
    assert info.distortion_model == "rational_polynomial"
    np.testing.assert_allclose(info.d, RGB_DISTORTION, rtol=1e-6)
    assert plan_pipeline(spec).outputs["rgb"].undistort is False


def test_colour_with_depth_aligned_to_it_is_undistorted_on_the_device_and_says_so():
    spec = parse_spec({"stereo.align": "rgb"})
    plan = plan_pipeline(spec)
    assert plan.outputs["rgb"].undistort and plan.outputs["align"].undistort
    cams = camera_models(calibration(MODELS["oak_d"]), spec, plan)
    for stream in ("rgb", "stereo"):
        info = stream_camera_info(stream, cams, None)
        assert (info.distortion_model, info.d) == ("plumb_bob", [0.0] * 5), stream


def test_mono_without_stereo_carries_its_distortion_and_rectified_mono_none():
    raw = camera_models(calibration(MODELS["oak_d"]), parse_spec({"stereo.enabled": False}))
    assert raw["left"].distortion_model == "rational_polynomial"
    np.testing.assert_allclose(raw["left"].d, [-0.3, 0.1, 0.0, 0.0, -0.01, 0.0, 0.0, 0.0], atol=1e-7)
    rect = camera_models(calibration(MODELS["oak_d"]), parse_spec({}))
    assert rect["left"].d == () and stream_camera_info("left", rect, 0.075).d == [0.0] * 5


# -- P of the right camera, geometry per model ----------------------------------------------------
@pytest.mark.parametrize("model, values", [
    ("oak_d", {}), ("oak_d_pro", {}), ("oak_d_poe", {}), ("oak_d_lite", {}),
    ("oak_d_w", {"rgb.resolution": "720p"})])
def test_right_camera_p_has_minus_fx_baseline_and_k_matches_the_sensor(model, values):
    m = MODELS[model]
    spec = parse_spec(values)
    calib = calibration(m)
    cams = camera_models(calib, spec, plan_pipeline(spec, connected(model)))
    stereo = stereo_geometry(calib, spec, cams)
    assert stereo.baseline_m == pytest.approx(0.075, abs=1e-6)
    info = stream_camera_info("right", cams, stereo.baseline_m)
    fx = info.k[0]
    assert info.p[3] == pytest.approx(-fx * 0.075)
    assert stream_camera_info("left", cams, stereo.baseline_m).p[3] == 0.0
    # 640 px wide from the mono sensor's width: fx scales by 640 / sensor width.
    expected = m.mono.k()[0][0] * 640 / m.mono.width
    assert fx == pytest.approx(expected, rel=1e-5)
    assert (info.width, info.height) == (640, 400)


# -- defect 5: rotations in TF ---------------------------------------------------------------------
def test_tf_rotation_of_the_colour_camera_is_the_calibrations():
    spec = parse_spec({"stereo.align": "right"})
    cams = camera_models(calibration(MODELS["oak_d"]), spec)
    # rgb's axes in the left (rig) frame: getCameraExtrinsics(CAM_A, CAM_B) = R(right->left) R(rgb->right).
    r_rgb_to_right = np.array(tilt(RGB_TILT_DEG)).T        # stored as right->rgb
    np.testing.assert_allclose(cams["rgb"].R, r_rgb_to_right, atol=1e-6)
    tf = {t.child: t for t in static_transforms(spec, cams)}
    body = tf["oak_rgb_camera_frame"]
    np.testing.assert_allclose(quat_matrix(body.rotation), OPTICAL_TO_BODY @ r_rgb_to_right @ OPTICAL_TO_BODY.T,
                               atol=1e-6)
    angle = 2 * math.degrees(math.acos(min(1.0, body.rotation[3])))
    assert angle == pytest.approx(RGB_TILT_DEG, abs=1e-3)
    # A pan about the optical y axis (down) is a yaw about the body z axis (up): only z is non-zero.
    assert abs(body.rotation[0]) < 1e-9 and abs(body.rotation[1]) < 1e-9
    # REP-103 optical frames are kept. The colour camera's centre: -R^T T in the right camera's frame
    # (p_rgb = R p_right + T), the right camera 7.5 cm right of the left, the rig origin between them.
    optical = tf["oak_rgb_camera_optical_frame"]
    assert optical.rotation == (-0.5, 0.5, -0.5, 0.5) and optical.translation == (0.0, 0.0, 0.0)
    centre = -np.array(tilt(RGB_TILT_DEG)).T @ [0.0375, 0.0, 0.0] + [0.075, 0.0, 0.0] - [0.0375, 0.0, 0.0]
    np.testing.assert_allclose(cams["rgb"].position, centre, atol=1e-7)
    np.testing.assert_allclose(body.translation, (centre[2], -centre[0], -centre[1]), atol=1e-7)
    np.testing.assert_allclose(tf["oak_left_camera_frame"].translation, (0.0, 0.0375, 0.0), atol=1e-9)


def test_rectified_streams_are_turned_by_the_rectification_rotation():
    calib_handler = dai.CalibrationHandler()
    k = [[860.0, 0, 640], [0, 860.0, 400], [0, 0, 1]]
    for socket in (S.CAM_B, S.CAM_C):
        calib_handler.setCameraIntrinsics(socket, k, dai.Size2f(1280, 800))
    eye = np.eye(3).tolist()
    calib_handler.setCameraExtrinsics(S.CAM_B, S.CAM_C, eye, [-7.5, 0, 0], [-7.5, 0, 0])
    r1 = tilt(1.5)
    calib_handler.setStereoLeft(S.CAM_B, r1)
    calib_handler.setStereoRight(S.CAM_C, r1)
    spec = parse_spec({"rgb.enabled": False})
    cams = camera_models(dai.CalibrationHandler.fromJson(calib_handler.eepromToJson()), spec)
    np.testing.assert_allclose(cams["left"].R, np.array(r1).T, atol=1e-6)        # axes of the rectified frame
    np.testing.assert_allclose(cams["right"].R, np.array(r1).T, atol=1e-6)
    assert cams["stereo"].R.tolist() == cams["right"].R.tolist()
