"""The OAK's camera controls offline: the dai.CameraControl messages built from the spec (read back
with depthai's getters), the Camera nodes' initial controls and control queues, and what a model refuses."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import depthai as dai
import pytest

from depthai_ros_bridge.core.controls import CameraControlSpec, IRSpec
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError
from depthai_ros_bridge.device.oak import plan_pipeline
from depthai_ros_bridge.device.oak.controls import OakControlRules, OakControls, autofocus_trigger, camera_control
from depthai_ros_bridge.device.oak.graph import Graph, build_pipeline
from depthai_ros_bridge.device.oak.sensors import ConnectedCamera
from test.device.test_oak_offline import FakeDevicePipeline

C = dai.CameraControl
CMD = dai.CameraControl.Command
OAK_D = [ConnectedCamera("CAM_A", "IMX378", 4056, 3040, ("COLOR",), True),
         ConnectedCamera("CAM_B", "OV9282", 1280, 800, ("MONO",)),
         ConnectedCamera("CAM_C", "OV9282", 1280, 800, ("MONO",))]
OAK_D_W = [ConnectedCamera("CAM_A", "OV9782", 1280, 800, ("COLOR",), False)] + OAK_D[1:]


def test_manual_exposure_white_balance_and_focus():
    c = camera_control(CameraControlSpec(auto_exposure=False, exposure_time_us=8000, iso=400,
                                         auto_white_balance=False, kelvin=3200, focus_mode="manual",
                                         focus_position=120), colour=True)
    assert c.getExposureTime().total_seconds() == pytest.approx(0.008)
    assert (c.getSensitivity(), c.wbColorTemp, c.getLensPosition()) == (400, 3200, 120)
    assert c.awbMode == C.AutoWhiteBalanceMode.OFF and c.autoFocusMode == C.AutoFocusMode.OFF
    assert c.getCommand(CMD.AE_MANUAL) and c.getCommand(CMD.MOVE_LENS) and c.getCommand(CMD.AF_MODE)
    assert not c.getCommand(CMD.AE_AUTO)


@pytest.mark.parametrize("mode, expected", [("continuous_picture", C.AutoFocusMode.CONTINUOUS_PICTURE),
                                            ("continuous_video", C.AutoFocusMode.CONTINUOUS_VIDEO),
                                            ("auto", C.AutoFocusMode.AUTO), ("macro", C.AutoFocusMode.MACRO),
                                            ("edof", C.AutoFocusMode.EDOF)])
def test_auto_modes(mode, expected):
    c = camera_control(CameraControlSpec(compensation=-3, focus_mode=mode), colour=True)
    assert c.getCommand(CMD.AE_AUTO) and c.expCompensation == -3
    assert c.awbMode == C.AutoWhiteBalanceMode.AUTO and c.getCommand(CMD.AWB_MODE)
    assert c.autoFocusMode == expected and not c.getCommand(CMD.MOVE_LENS)


def test_mono_and_fixed_focus_cameras_get_no_focus_or_white_balance_commands():
    mono = camera_control(CameraControlSpec(auto_white_balance=False, focus_mode="manual"), colour=False)
    assert not mono.getCommand(CMD.AWB_MODE) and not mono.getCommand(CMD.AF_MODE)
    fixed = camera_control(CameraControlSpec(), colour=True, autofocus=False)
    assert fixed.getCommand(CMD.AWB_MODE) and not fixed.getCommand(CMD.AF_MODE)


def test_autofocus_trigger_message():
    c = autofocus_trigger(CameraControlSpec(focus_mode="auto"))
    assert c.getCommand(CMD.AF_TRIGGER) and c.autoFocusMode == C.AutoFocusMode.AUTO


class ControlledFake(FakeDevicePipeline):
    """The fake pipeline with real initial controls on the Camera nodes and their control inputs."""

    def create(self, cls):
        node = super().create(cls)
        if cls is dai.node.Camera:
            node.initialControl = dai.CameraControl()
            label = [k for k, v in self.nodes.items() if v is node][0]
            node.inputControl = self._port(dai.Node.Input, f"{label}.inputControl")
        return node


def test_pipeline_cameras_start_with_the_spec_and_the_pair_shares_the_left_exposure():
    spec = parse_spec({"rgb.white_balance.auto": False, "rgb.white_balance.kelvin": 4000,
                       "left.exposure.auto": False, "left.exposure.time_us": 5000, "left.exposure.iso": 800})
    fake = ControlledFake()
    graph = Graph(fake)
    build_pipeline(fake, plan_pipeline(spec), spec.stereo, 200, {}, graph, spec)
    cams = {c.build.call_args.args[0]: c for name, c in fake.nodes.items() if name.startswith("Camera")}
    rgb, left, right = (cams[s].initialControl for s in (dai.CameraBoardSocket.CAM_A, dai.CameraBoardSocket.CAM_B,
                                                         dai.CameraBoardSocket.CAM_C))
    assert rgb.wbColorTemp == 4000 and rgb.getCommand(CMD.AE_AUTO)
    for mono in (left, right):
        assert (mono.getExposureTime().total_seconds(), mono.getSensitivity()) == (pytest.approx(0.005), 800)
    assert set(graph.control_queues) == {"rgb", "left", "right"}
    described = Graph()
    build_pipeline(None, plan_pipeline(spec), spec.stereo, 200, {}, described, spec)
    assert described.nodes["camera_right"]["control"] == {"exposure": "5000 us ISO 800"}
    assert described.nodes["camera_rgb"]["control"] == {"exposure": "auto", "white_balance": "4000 K",
                                                        "focus": "continuous_picture"}


def test_refusals_name_the_device_and_the_sensor():
    rules = OakControlRules("OAK-D", has_ir=False, rgb_sensor="OV9782", rgb_autofocus=False, stereo=True)
    assert "the OAK-D has no IR illumination" in rules.problem("ir.dot_projector_intensity", 0.5)
    assert rules.problem("ir.dot_projector_intensity", 0.0) is None
    assert "OV9782" in rules.problem("rgb.focus.mode", "manual")
    assert rules.problem("rgb.exposure.iso", 400) is None
    assert "left.exposure.time_us" in rules.problem("right.exposure.time_us", 100)
    # Every enabled camera's compressed topic comes from the device's MJPEG encoder, built with the pipeline.
    why = rules.problem("compressed.jpeg_quality", 50)
    assert "the OAK-D encodes ~/<camera>/image_raw/compressed itself" in why and "unconfigured" in why
    assert rules.problem("compressed.png_level", 1) is None         # compressedDepth is the host's
    spec = parse_spec({"ir.flood_intensity": 0.2, "rgb.focus.mode": "auto"})
    with pytest.raises(DeviceError) as e:
        OakControls(spec, OAK_D_W, "OAK-D-W", [])
    assert "ir.flood_intensity: the OAK-D-W has no IR" in str(e.value)
    assert "rgb.focus.mode: the colour camera (OV9782) has a fixed-focus lens" in str(e.value)


def test_live_changes_go_to_the_running_cameras_and_the_ir_to_the_device():
    spec = parse_spec({})
    controls = OakControls(spec, OAK_D, "OAK-D-PRO-AF", [("LM3644", 2, 0x63)])
    queues = {name: mock.Mock() for name in ("rgb", "left", "right")}
    device = mock.Mock()
    controls.attach(queues, device)
    device.setIrLaserDotProjectorIntensity.assert_called_once_with(0.0)
    controls.set_camera_control("left", CameraControlSpec(auto_exposure=False, exposure_time_us=3000, iso=200))
    for name in ("left", "right"):
        sent = queues[name].send.call_args.args[0]
        assert (sent.getExposureTime().total_seconds(), sent.getSensitivity()) == (pytest.approx(0.003), 200)
    queues["rgb"].send.assert_not_called()
    controls.set_ir(IRSpec(dot_projector=0.7))
    device.setIrLaserDotProjectorIntensity.assert_called_with(0.7)
    assert controls.trigger_autofocus()[0]
    assert queues["rgb"].send.call_args.args[0].getCommand(CMD.AF_TRIGGER)
    controls.set_camera_control("rgb", CameraControlSpec(focus_mode="manual"))
    ok, why = controls.trigger_autofocus()
    assert not ok and "manual" in why
    controls.detach()
    controls.set_camera_control("rgb", CameraControlSpec(focus_mode="auto"))      # not streaming: kept for later
    assert controls.camera_controls["rgb"].focus_mode == "auto"
    assert controls.trigger_autofocus() == (False, "the colour camera is not streaming")


def test_cameras_json_autofocus():
    assert ConnectedCamera.from_json({"socket": "CAM_A", "sensor": "IMX378", "width": 4056, "height": 3040,
                                      "types": ["COLOR"]}).autofocus
    assert not ConnectedCamera.from_json({"socket": "CAM_A", "sensor": "IMX378", "width": 4056, "height": 3040,
                                          "types": ["COLOR"], "autofocus": False}).autofocus
    with pytest.raises(ValueError, match="autofocus must be true or false"):
        ConnectedCamera.from_json({"socket": "CAM_A", "sensor": "IMX378", "width": 4056, "height": 3040,
                                   "types": ["COLOR"], "autofocus": "yes"})


def test_dry_run_shows_the_controls_and_refuses_focus_on_a_fixed_focus_lens(capsys, tmp_path):
    import json

    from depthai_ros_bridge.dry_run import main
    from test.device.oak_models import MODELS, write
    calib, cameras = write(MODELS["oak_d"], tmp_path)
    base = ["--calibration", str(calib), "--cameras", str(cameras), "-p", "device.type:=oak"]
    assert main([*base, "-p", "rgb.focus.mode:=manual", "-p", "rgb.focus.position:=90"]) == 0
    nodes = json.loads(capsys.readouterr().out)["pipeline"]["nodes"]
    assert nodes["camera_rgb"]["control"]["focus"] == "manual 90"
    entries = json.loads(Path(cameras).read_text())
    for entry in entries:
        entry["autofocus"] = False
    Path(cameras).write_text(json.dumps(entries))
    assert main([*base, "-p", "rgb.focus.mode:=manual"]) == 2
    err = capsys.readouterr().err
    assert "rgb.focus.mode: the colour camera (IMX378) has a fixed-focus lens" in err
