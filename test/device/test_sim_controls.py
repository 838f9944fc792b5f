"""The simulated device's camera controls and IR illumination, through SimDevice (no ROS)."""
from __future__ import annotations

import numpy as np
import pytest

from depthai_ros_bridge.core.controls import IRSpec, with_change
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError
from depthai_ros_bridge.device.sim import SimDevice

SMALL = {"device.type": "sim", "rgb.resolution": "720p", "sim.motion_speed": 0.0}


def _device(**params) -> SimDevice:
    return SimDevice(parse_spec({**SMALL, **params}))


def _frames(device: SimDevice, seq: int) -> dict[str, np.ndarray]:
    return {k: f.getCvFrame() for k, f in device.capture(seq, 0.0).frames.items()}


def test_default_output_is_the_rendered_scene():
    """Auto exposure, white balance and focus settle on the default scene where the renderer's
    image is: the simulator's default output is unchanged by the camera model."""
    device = _device()
    try:
        for seq in range(4):
            frames = _frames(device, seq)
        t = device.scene_time(3)
        assert np.array_equal(frames["rgb"], device.renderer.render(device.rig.rgb, t).image)
        assert np.array_equal(frames["left"], device.renderer.render(device.rig.left, t, mono=True).image)
        status = device.status()
        assert status["rgb exposure"] == "20000 us, ISO 100 (auto)"
        assert status["left+right exposure"] == "20000 us, ISO 100 (auto)"
        assert status["rgb white balance"] == "5500 K (auto)"
        assert status["rgb lens position"].endswith("(continuous_picture, focused at 6.00 m)")   # the back wall
    finally:
        device.close()


def test_stereo_pair_shares_the_left_cameras_exposure():
    device = _device(**{"left.exposure.auto": False, "left.exposure.iso": 400, "left.exposure.time_us": 5000})
    try:
        before = _frames(device, 0)
        device.set_camera_control(*with_change(device.camera_controls, "left.exposure.time_us", 2500))
        after = _frames(device, 1)
        for name in ("left", "right"):
            assert after[name].mean() / before[name].mean() == pytest.approx(0.5, rel=0.05), name
        assert device.camera_controls["right"].exposure_time_us == 2500
        assert device.status()["left+right exposure"] == "2500 us, ISO 400 (manual)"
        assert "left.exposure.iso" in device.control_problem("right.exposure.iso", 800)
    finally:
        device.close()


def test_manual_white_balance_and_focus_apply_live():
    device = _device()
    try:
        base = _frames(device, 0)["rgb"].reshape(-1, 3).mean(0)
        device.set_camera_control(*with_change(device.camera_controls, "rgb.white_balance.auto", False))
        device.set_camera_control(*with_change(device.camera_controls, "rgb.white_balance.kelvin", 3000))
        warm_light = _frames(device, 1)["rgb"].reshape(-1, 3).mean(0)
        assert warm_light[0] / warm_light[2] > 1.3 * base[0] / base[2]       # bluer
        assert device.status()["rgb white balance"] == "3000 K (manual)"
        assert device.trigger_autofocus()[0]
        device.set_camera_control(*with_change(device.camera_controls, "rgb.focus.mode", "manual"))
        device.set_camera_control(*with_change(device.camera_controls, "rgb.focus.position", 255))
        _frames(device, 2)
        assert device.status()["rgb lens position"] == "255 (manual, focused at 0.10 m)"
        ok, why = device.trigger_autofocus()
        assert not ok and "rgb.focus.mode" in why and "manual" in why
    finally:
        device.close()


def test_dot_projector_gives_the_plain_wall_depth():
    """A textureless wall has nothing to match: under 20 % valid depth; with the projector's dots
    over 80 %, at the wall's true distance."""
    device = _device(**{"sim.scene": "plain_wall", "sim.model": "oak-d-pro", "rgb.enabled": False})
    try:
        assert device.info.name == "OAK-D Pro (simulated)"
        depth = _frames(device, 0)["depth"]
        assert np.mean(depth > 0) < 0.2
        device.set_ir(IRSpec(dot_projector=0.8))
        frames = _frames(device, 1)
        valid = frames["depth"] > 0
        assert valid.mean() > 0.8
        # the wall is 2 m ahead: z-depth 2000 mm everywhere
        assert np.median(frames["depth"][valid]) == pytest.approx(2000, rel=0.03)
        assert frames["left"].std() > 5 and frames["right"].std() > 5     # the dots are in both views
        assert device.status()["IR dot projector / flood"] == "0.80 / 0.00"
        device.set_ir(IRSpec(flood=1.0))       # the flood light lights, but gives no texture
        frames = _frames(device, 2)
        assert np.mean(frames["depth"] > 0) < 0.2
    finally:
        device.close()


def test_a_model_without_ir_refuses_it_naming_the_device_and_parameter():
    with pytest.raises(DeviceError, match=r"ir\.dot_projector_intensity: the OAK-D \(simulated\) has no IR"):
        _device(**{"ir.dot_projector_intensity": 0.5})
    device = _device()
    try:
        why = device.control_problem("ir.flood_intensity", 0.3)
        assert "OAK-D (simulated)" in why and "ir.flood_intensity" in why
        assert device.control_problem("ir.flood_intensity", 0.0) is None
        with pytest.raises(ValueError, match="ir.dot_projector_intensity"):
            device.set_ir(IRSpec(dot_projector=1.0))
    finally:
        device.close()
