"""The real-OAK backend's device-independent parts, checked without an OAK.

Calibration comes from a `dai.CalibrationHandler` built here the way an OAK-D's
EEPROM describes its cameras (and read back through the EEPROM JSON form);
ImageManip, DetectionParser and MessageQueue are depthai's own, run on the host.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import threading
from pathlib import Path
from unittest import mock

import cv2
import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError
from depthai_ros_bridge.device.frames import T, frame_array, make_frame
from depthai_ros_bridge.device.oak import (
    DeviceNetwork,
    FrameAssembler,
    SequenceGrouper,
    add_preprocessing,
    build_pipeline,
    camera_models,
    configure_parser,
    device_confidence,
    device_network,
    plan_pipeline,
    pump,
    stereo_config,
    stereo_geometry,
)
from depthai_ros_bridge.nn.deployment import DeployError, Deployment, build_deployment
from depthai_ros_bridge.nn.mapping import InputMapping
from depthai_ros_bridge.nn.model_source import ModelPackage
from depthai_ros_bridge.nn.nnconfig import NNConfig, parse_nn_config

S = dai.CameraBoardSocket
MODELS = Path(__file__).resolve().parents[2] / "models"
def bare_deployment(stream: str, name: str, model: bytes, config: str) -> Deployment:
    """A deployment of a bare blob as build_deployment makes it (without its model-directory rules)."""
    return Deployment(stream, ModelPackage("blob", name, model, None, None), parse_nn_config(config), (),
                      "letterbox", name)


YOLO_CONFIG = json.dumps({"type": "YOLO", "nn_config": {"num_classes": 2, "iou_threshold": 0.4,
                                                        "confidence_threshold": 0.3, "coordinate_size": 4,
                                                        "anchors": [10, 14, 23, 27, 37, 58],
                                                        "anchor_masks": {"side26": [0, 1], "side13": [2]}}})


# -- plan ------------------------------------------------------------------------------------
def test_default_spec_plans_rgb_and_rectified_mono_from_stereo():
    plan = plan_pipeline(parse_spec({}))
    assert {n: (o.camera, o.size, o.fps, o.type) for n, o in plan.outputs.items()} == {
        "rgb": ("rgb", (1920, 1080), 30.0, T.BGR888i),
        "left": ("left", (640, 400), 30.0, T.GRAY8),
        "right": ("right", (640, 400), 30.0, T.GRAY8)}
    assert plan.streams == {"rgb": "rgb", "left": "stereo.rectifiedLeft", "right": "stereo.rectifiedRight",
                            "depth": "stereo.depth", "disparity": "stereo.disparity"}
    assert plan.depth_size == (640, 400)
    assert plan.usb_speed == dai.UsbSpeed.SUPER


def test_depth_aligned_to_rgb_gets_a_small_align_to_output_of_the_colour_camera():
    plan = plan_pipeline(parse_spec({"stereo.align": "rgb", "rgb.enabled": False, "rgb.fps": 15.0}))
    assert "rgb" not in plan.streams and "rgb" not in plan.outputs
    align = plan.outputs["align"]
    assert (align.camera, align.size, align.fps) == ("rgb", (640, 360), 15.0)
    assert plan.depth_size == (640, 360)


def test_without_stereo_the_mono_streams_come_straight_from_the_cameras():
    plan = plan_pipeline(parse_spec({"stereo.enabled": False, "right.enabled": False, "device.usb2_mode": True}))
    assert plan.streams == {"rgb": "rgb", "left": "left"}
    assert set(plan.outputs) == {"rgb", "left"} and plan.depth_size is None
    assert plan.usb_speed == dai.UsbSpeed.HIGH


# -- stereo options ---------------------------------------------------------------------------
def test_confidence_threshold_is_inverted_for_depthai_v3():
    assert device_confidence(200) == 55 == dai.StereoDepthConfig().getConfidenceThreshold()  # both defaults
    assert device_confidence(255) == 0          # most permissive: every confidence is over 0
    assert device_confidence(0) == 255          # strictest: nothing is over 255
    with pytest.raises(ValueError, match="0..255"):
        device_confidence(256)


@pytest.mark.parametrize("values, median, bits, max_disparity", [
    ({}, dai.MedianFilter.KERNEL_5x5, 3, 95),
    ({"stereo.median_filter": "off"}, dai.MedianFilter.MEDIAN_OFF, 4, 95),
    ({"stereo.extended_disparity": True, "stereo.median_filter": "3x3"}, dai.MedianFilter.KERNEL_3x3, 3, 190),
    ({"stereo.subpixel": False, "stereo.median_filter": "7x7"}, dai.MedianFilter.KERNEL_7x7, None, 95),
])
def test_stereo_options_land_in_the_depthai_config(values, median, bits, max_disparity):
    spec = parse_spec(values)
    cfg = stereo_config(spec.stereo, 230)
    assert cfg.getConfidenceThreshold() == 25
    assert cfg.getMedianFilter() == median
    assert cfg.getLeftRightCheck() is True
    assert cfg.getExtendedDisparity() == spec.stereo.extended_disparity
    assert cfg.getSubpixel() == spec.stereo.subpixel
    if bits:
        assert cfg.getSubpixelFractionalBits() == bits
    assert cfg.algorithmControl.depthAlign == dai.StereoDepthConfig.AlgorithmControl.DepthAlign.RECTIFIED_RIGHT
    geometry = stereo_geometry(oakd_calibration(), spec, camera_models(oakd_calibration(), spec))
    assert geometry.units_per_px == (2 ** bits if bits else 1)
    assert geometry.max_disparity == max_disparity


# -- calibration -> camera models -------------------------------------------------------------
RGB_K = [[3080.0, 0.0, 2010.0], [0.0, 3078.0, 1530.0], [0.0, 0.0, 1.0]]      # at 4056x3040
LEFT_K = [[862.0, 0.0, 636.0], [0.0, 861.0, 404.0], [0.0, 0.0, 1.0]]         # at 1280x800
RIGHT_K = [[856.0, 0.0, 648.0], [0.0, 855.0, 396.0], [0.0, 0.0, 1.0]]


def oakd_calibration() -> dai.CalibrationHandler:
    """An OAK-D as its EEPROM has it: left -> right 7.5 cm (a little off axis), right -> rgb 3.75 cm."""
    calib = dai.CalibrationHandler()
    calib.setBoardInfo("OAK-D", "R3")
    calib.setCameraIntrinsics(S.CAM_A, RGB_K, dai.Size2f(4056, 3040))
    calib.setCameraIntrinsics(S.CAM_B, LEFT_K, dai.Size2f(1280, 800))
    calib.setCameraIntrinsics(S.CAM_C, RIGHT_K, dai.Size2f(1280, 800))
    eye = np.eye(3).tolist()
    calib.setCameraExtrinsics(S.CAM_B, S.CAM_C, eye, [-7.5, 0.1, 0.2], [-7.5, 0.0, 0.0])
    calib.setCameraExtrinsics(S.CAM_C, S.CAM_A, eye, [3.75, -0.4, 0.0], [3.75, 0.0, 0.0])
    calib.setStereoLeft(S.CAM_B, eye)
    calib.setStereoRight(S.CAM_C, eye)
    return dai.CalibrationHandler.fromJson(calib.eepromToJson())       # as read from a device's EEPROM


def test_camera_models_come_from_calibration_at_each_output_size():
    cams = camera_models(oakd_calibration(), parse_spec({}))
    s = 1920 / 4056                     # 16:9 from a 4:3 calibration: scale to the width, crop rows
    rgb = cams["rgb"]
    assert (rgb.width, rgb.height) == (1920, 1080)
    np.testing.assert_allclose([rgb.fx, rgb.fy, rgb.cx, rgb.cy],
                               [3080 * s, 3078 * s, 2010 * s, 1530 * s - (3040 * s - 1080) / 2], rtol=1e-5)
    # Rectified streams: both at the right camera's intrinsics (depthai rectifies to them), 2x binned.
    for name in ("left", "right"):
        np.testing.assert_allclose([cams[name].fx, cams[name].fy, cams[name].cx, cams[name].cy],
                                   [428.0, 427.5, 324.0, 198.0], rtol=1e-6)
    assert cams["stereo"] == cams["right"]


def test_camera_positions_are_centres_in_the_rig_frame_between_the_mono_pair():
    cams = camera_models(oakd_calibration(), parse_spec({}))
    # Camera centres in the left camera's frame: right at -T(left->right), rgb 3.75 cm back from right.
    left, right, rgb = np.zeros(3), np.array([0.075, -0.001, -0.002]), np.array([0.0375, 0.003, -0.002])
    middle = (left + right) / 2
    for name, centre in (("left", left), ("right", right), ("rgb", rgb)):
        np.testing.assert_allclose(cams[name].position, centre - middle, atol=1e-6)
    geometry = stereo_geometry(oakd_calibration(), parse_spec({}), cams)
    assert geometry.baseline_m == pytest.approx(np.linalg.norm(right - left), abs=1e-6)
    assert geometry.focal_px == pytest.approx(428.0)


def test_unrectified_cameras_keep_their_own_intrinsics_and_720p_is_a_centre_crop():
    cams = camera_models(oakd_calibration(), parse_spec({"stereo.enabled": False, "left.resolution": "720p",
                                                         "right.resolution": "720p"}))
    np.testing.assert_allclose([cams["left"].fx, cams["left"].cx, cams["left"].cy], [862.0, 636.0, 404.0 - 40])
    np.testing.assert_allclose([cams["right"].fx, cams["right"].cy], [856.0, 396.0 - 40])
    assert "stereo" not in cams


def test_depth_aligned_to_rgb_uses_the_rgb_camera_at_the_depth_size():
    cams = camera_models(oakd_calibration(), parse_spec({"stereo.align": "rgb"}))
    stereo = cams["stereo"]
    assert (stereo.name, stereo.width, stereo.height) == ("rgb", 640, 360)
    assert stereo.position == cams["rgb"].position
    assert stereo.fx == pytest.approx(cams["rgb"].fx / 3, rel=1e-5)


def test_a_camera_missing_from_the_calibration_is_a_device_error():
    calib = dai.CalibrationHandler()
    calib.setCameraIntrinsics(S.CAM_A, RGB_K, dai.Size2f(4056, 3040))
    with pytest.raises(DeviceError, match="calibration lacks"):
        camera_models(calib, parse_spec({}))


# -- networks ---------------------------------------------------------------------------------
def test_an_onnx_model_is_refused_naming_what_the_device_runs(tmp_path):
    deployment = build_deployment("rgb", {"model": str(MODELS / "demo-colour-ssd.tar.xz")}, tmp_path)
    refusal = r"runs MyriadX blobs \(\.blob or \.superblob, or an NN archive holding one\).*onnx"
    with pytest.raises(DeployError, match=refusal):
        device_network(deployment, (1920, 1080))


def test_a_corrupt_blob_is_refused_before_the_device_restarts(tmp_path):
    deployment = bare_deployment("rgb", "net.blob", b"\x00" * 4096, YOLO_CONFIG)
    with pytest.raises(DeployError, match="not a usable MyriadX blob"):
        device_network(deployment, (1920, 1080))


def test_bare_blob_detection_parser_gets_the_nn_config():
    parser = dai.Pipeline(False).create(dai.node.DetectionParser)
    configure_parser(parser, parse_nn_config(YOLO_CONFIG))
    assert parser.getNNFamily() == dai.DetectionNetworkType.YOLO
    assert (parser.getNumClasses(), parser.getCoordinateSize()) == (2, 4)
    assert parser.getAnchors() == [10, 14, 23, 27, 37, 58]
    assert parser.getAnchorMasks() == {"side26": [0, 1], "side13": [2]}
    assert parser.getIouThreshold() == pytest.approx(0.4)
    assert parser.getConfidenceThreshold() == pytest.approx(0.3)
    configure_parser(parser, parse_nn_config('{"type": "MobileNet", "nn_config": {"confidence_threshold": 0.6}}'))
    assert parser.getNNFamily() == dai.DetectionNetworkType.MOBILENET


def _preprocess_on_host(mapping: InputMapping, mono: bool, frame: dai.ImgFrame) -> dai.ImgFrame:
    """The frame through the ImageManips OakDevice puts before a network (depthai's own
    implementation, run on the host here)."""
    pipeline = dai.Pipeline(False)
    manip_in, manip_out = add_preprocessing(pipeline, mapping, T.BGR888p, mono=mono)
    for node in pipeline.getAllNodes():
        node.setRunOnHost(True)
    inq, outq = manip_in.createInputQueue(), manip_out.createOutputQueue()
    pipeline.start()
    try:
        inq.send(frame)
        return outq.get(datetime.timedelta(seconds=10))
    finally:
        pipeline.stop()
        pipeline.wait()


def _spot_centres(gray: np.ndarray) -> np.ndarray:
    _, _, _, centroids = cv2.connectedComponentsWithStats((gray > 127).astype(np.uint8))
    return centroids[1:][np.argsort(centroids[1:, 0])]


@pytest.mark.parametrize("mode", ["letterbox", "crop", "stretch"])
@pytest.mark.parametrize("stream", ["rgb", "left"])
def test_device_preprocessing_is_what_the_input_mapping_describes(stream, mode):
    """Spots drawn in the stream frame land in the network input where InputMapping puts them."""
    width, height = (1280, 720) if stream == "rgb" else (640, 400)
    spots = np.round(np.array([[0.3, 0.3], [0.5, 0.6], [0.72, 0.4]]) * (width, height))
    gray = np.zeros((height, width), np.uint8)
    for x, y in spots:
        cv2.circle(gray, (int(x), int(y)), 12, 255, -1)
    mapping = InputMapping.fit(width, height, 416, 320, mode)
    if stream == "rgb":
        frame = make_frame(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), T.BGR888i, 42, 7.25)
    else:
        frame = make_frame(gray, T.GRAY8, 42, 7.25, S.CAM_B)
    out = _preprocess_on_host(mapping, stream != "rgb", frame)
    assert (out.getType(), out.getWidth(), out.getHeight()) == (T.BGR888p, 416, 320)
    assert out.getSequenceNum() == 42 and out.getTimestamp() == datetime.timedelta(seconds=7.25)
    pixels = frame_array(out)
    assert np.abs(pixels[..., 0].astype(int) - pixels[..., 2]).max() <= 2        # grey stays grey
    found = _spot_centres(pixels[..., 1])
    # InputMapping's continuous coordinates: pixel i spans [i, i + 1]. ImageManip scales pixel
    # centres as if at i (x' = s x + offset): up to 0.5 (1 - s) px away, under a pixel of the frame.
    expected = (spots + 0.5) * (mapping.scale_x, mapping.scale_y) + (mapping.offset_x, mapping.offset_y) - 0.5
    inside = [(0 <= x < 416) and (0 <= y < 320) for x, y in expected]
    np.testing.assert_allclose(found, expected[inside], atol=0.5)
    if mode == "letterbox":
        _, y0, _, y1 = mapping.paste
        assert not pixels[:max(y0 - 1, 0)].any() and not pixels[y1 + 1:].any()     # black bars


# -- grouping ---------------------------------------------------------------------------------
def test_sets_are_released_in_order_once_every_source_has_reached_them():
    g = SequenceGrouper(["left", "right", "depth"])
    assert g.add("left", 0, "L0") == [] and g.add("right", 0, "R0") == []
    assert g.add("depth", 0, "D0") == [(0, {"left": "L0", "right": "R0", "depth": "D0"})]
    g.add("left", 1, "L1")
    g.add("right", 1, "R1")
    # depth skipped 1 (dropped on the host): its frame 2 proves 1 is complete without it
    assert g.add("depth", 2, "D2") == [(1, {"left": "L1", "right": "R1"})]
    g.add("left", 2, "L2")
    assert g.add("right", 2, "R2") == [(2, {"depth": "D2", "left": "L2", "right": "R2"})]


def test_frames_wait_for_a_slow_network_then_go_without_it_past_the_limit():
    g = SequenceGrouper(["rgb", "nn:rgb"], max_pending=3)
    for n in range(3):
        assert g.add("rgb", n, f"F{n}") == []
    assert g.add("nn:rgb", 0, "N0") == [(0, {"rgb": "F0", "nn:rgb": "N0"})]
    assert g.add("nn:rgb", 2, "N2") == [(1, {"rgb": "F1"}), (2, {"rgb": "F2", "nn:rgb": "N2"})]  # 1 skipped
    for n in range(3, 6):
        assert g.add("rgb", n, f"F{n}") == []
    assert g.add("rgb", 6, "F6") == [(3, {"rgb": "F3"})]       # the network stalled: 4 pending > 3
    assert g.add("nn:rgb", 3, "N3") == [(3, {"nn:rgb": "N3"})]   # its late result goes on its own


def _frame(kind, shape, seq, stamp, value=0):
    dtype = np.uint16 if kind == T.RAW16 else np.uint8
    return make_frame(np.full(shape, value, dtype), kind, seq, stamp)


def test_assembler_groups_per_clock_widens_disparity_and_attaches_network_results():
    mapping = InputMapping.fit(1280, 720, 416, 416, "letterbox")
    a = FrameAssembler(["rgb", "left", "depth", "disparity"], {"rgb": mapping})
    assert a.add("rgb", _frame(T.BGR888i, (720, 1280, 3), 5, 1.0)) == []   # waits for its network
    assert a.add("left", _frame(T.GRAY8, (400, 640), 9, 1.01)) == []
    assert a.add("depth", _frame(T.RAW16, (400, 640), 9, 1.01, 1500)) == []
    [mono] = a.add("disparity", _frame(T.RAW8, (400, 640), 9, 1.01, 40))
    assert (mono.seq, set(mono.frames), mono.nn) == (9, {"left", "depth", "disparity"}, {})
    assert mono.timestamp == pytest.approx(1.01)
    disparity = mono.frames["disparity"]
    assert disparity.getType() == T.RAW16 and frame_array(disparity).max() == 40
    detections = dai.ImgDetections()
    detections.setSequenceNum(5)
    detections.setTimestamp(datetime.timedelta(seconds=1.0))
    [rgb] = a.add("nn:rgb", detections)
    assert (rgb.seq, set(rgb.frames), rgb.timestamp) == (5, {"rgb"}, pytest.approx(1.0))
    assert rgb.nn["rgb"].detections is detections and rgb.nn["rgb"].tensors is None
    assert rgb.nn["rgb"].mapping == mapping


def test_pump_reads_every_queue_and_reports_a_device_that_stopped():
    queues = {k: dai.MessageQueue(k, 4, False) for k in ("left", "right")}
    got, stop = [], threading.Event()
    for seq in range(3):
        for q in queues.values():
            q.send(_frame(T.GRAY8, (4, 4), seq, seq / 30))

    def on_frames(frames):
        got.append(frames)
        if len(got) == 3:
            for q in queues.values():
                q.close()

    with pytest.raises(DeviceError, match="stopped sending frames"):
        pump(queues, FrameAssembler(["left", "right"], {}), on_frames, stop, lambda: True)
    assert [(f.seq, set(f.frames)) for f in got] == [(n, {"left", "right"}) for n in range(3)]
    stop.set()
    pump(queues, FrameAssembler(["left", "right"], {}), on_frames, stop, lambda: False)   # stopping: no error


# -- wiring ----------------------------------------------------------------------------------
class FakeDevicePipeline:
    """Stands in for dai.Pipeline(device), which needs an OAK: nodes are autospecs of depthai's own
    node classes (a misspelt method or port fails), their configs and the detection parser are
    real depthai objects, and every link is recorded as (output, input)."""

    INPUTS = ("left", "right", "inputAlignTo", "inputConfig", "inputImage", "input")
    OUTPUTS = ("rectifiedLeft", "rectifiedRight", "depth", "disparity", "out")

    def __init__(self):
        self.nodes: dict[str, mock.NonCallableMagicMock] = {}
        self.links: list[tuple[str, str]] = []
        self.queues: list[str] = []
        self._host = dai.Pipeline(False)

    def _port(self, kind, name: str):
        port = mock.create_autospec(kind, instance=True)
        port.name = name
        if kind is dai.Node.Output:
            port.link.side_effect = lambda to: self.links.append((name, to.name))
            port.createOutputQueue.side_effect = lambda *a: self.queues.append(name) or name
        else:
            port.createInputQueue.side_effect = lambda *a: f"queue to {name}"
        return port

    def create(self, cls):
        label = f"{cls.__name__}{sum(n.startswith(cls.__name__) for n in self.nodes)}"
        node = self.nodes[label] = mock.create_autospec(cls, instance=True)
        if hasattr(cls, "build"):
            node.build.return_value = node
        for attr in self.INPUTS:
            if hasattr(cls, attr):
                setattr(node, attr, self._port(dai.Node.Input, f"{label}.{attr}"))
        for attr in self.OUTPUTS:
            if hasattr(cls, attr):
                setattr(node, attr, self._port(dai.Node.Output, f"{label}.{attr}"))
        if cls is dai.node.Camera:
            node.requestOutput.side_effect = lambda size, kind, **kw: self._port(dai.Node.Output, f"{label}{size}")
        if cls is dai.node.StereoDepth:
            node.initialConfig = dai.StereoDepthConfig()
        if cls is dai.node.ImageManip:
            node.initialConfig = dai.ImageManipConfig()
        if cls is dai.node.DetectionNetwork:
            node.detectionParser = self._host.create(dai.node.DetectionParser)
        return node


def test_default_pipeline_wires_cameras_stereo_and_queues():
    spec = parse_spec({"stereo.median_filter": "3x3", "stereo.confidence_threshold": 240})
    fake = FakeDevicePipeline()
    queues, config_queue = build_pipeline(fake, plan_pipeline(spec), spec.stereo, 240, {})
    cams = {c.build.call_args.args[0]: name for name, c in fake.nodes.items() if name.startswith("Camera")}
    assert set(cams) == {S.CAM_A, S.CAM_B, S.CAM_C}
    left, right = cams[S.CAM_B], cams[S.CAM_C]
    assert sorted(fake.links) == [(f"{left}(640, 400)", "StereoDepth0.left"),
                                  (f"{right}(640, 400)", "StereoDepth0.right")]
    assert queues == {"rgb": f"{cams[S.CAM_A]}(1920, 1080)", "left": "StereoDepth0.rectifiedLeft",
                      "right": "StereoDepth0.rectifiedRight", "depth": "StereoDepth0.depth",
                      "disparity": "StereoDepth0.disparity"}
    fake.nodes[cams[S.CAM_A]].requestOutput.assert_called_once_with((1920, 1080), T.BGR888i, fps=30.0,
                                                                    enableUndistortion=False)
    fake.nodes[left].requestOutput.assert_called_once_with((640, 400), T.GRAY8, fps=30.0, enableUndistortion=False)
    initial = fake.nodes["StereoDepth0"].initialConfig
    assert (initial.getConfidenceThreshold(), initial.getMedianFilter()) == (15, dai.MedianFilter.KERNEL_3x3)
    assert config_queue == "queue to StereoDepth0.inputConfig"
    fake.nodes["StereoDepth0"].build.assert_not_called()      # build() would apply a preset


def test_depth_aligned_to_rgb_links_a_small_colour_output_to_input_align_to():
    spec = parse_spec({"stereo.align": "rgb"})
    fake = FakeDevicePipeline()
    build_pipeline(fake, plan_pipeline(spec), spec.stereo, 200, {})
    rgb = next(n for n, c in fake.nodes.items() if n.startswith("Camera") and c.build.call_args.args[0] == S.CAM_A)
    assert (f"{rgb}(640, 360)", "StereoDepth0.inputAlignTo") in fake.links
    assert fake.nodes[rgb].requestOutput.call_count == 2       # the rgb stream and the align-to frame
    assert sum(n.startswith("Camera") for n in fake.nodes) == 3   # one Camera node per sensor


def test_a_bare_blob_detector_on_a_mono_stream_is_wired_behind_two_image_manips(tmp_path):
    spec = parse_spec({})
    deployment = bare_deployment("left", "net.blob", b"\x00" * 64, YOLO_CONFIG)
    network = DeviceNetwork(deployment, InputMapping.fit(640, 400, 416, 416, "letterbox"), T.BGR888p,
                            blob=mock.sentinel.blob)
    fake = FakeDevicePipeline()
    queues, _ = build_pipeline(fake, plan_pipeline(spec), spec.stereo, 200, {"left": network})
    assert queues["nn:left"] == "DetectionNetwork0.out"
    assert {("StereoDepth0.rectifiedLeft", "ImageManip0.inputImage"), ("ImageManip0.out", "ImageManip1.inputImage"),
            ("ImageManip1.out", "DetectionNetwork0.input")} <= set(fake.links)
    nn = fake.nodes["DetectionNetwork0"]
    nn.setBlob.assert_called_once_with(mock.sentinel.blob)
    nn.input.setBlocking.assert_called_once_with(False)
    nn.input.setMaxSize.assert_called_once_with(1)
    assert nn.detectionParser.getNNFamily() == dai.DetectionNetworkType.YOLO
    assert nn.detectionParser.getAnchorMasks() == {"side26": [0, 1], "side13": [2]}
    nn.setConfidenceThreshold.assert_called_once_with(0.3)


def test_a_generic_archive_on_rgb_uses_a_neural_network_built_from_the_archive(tmp_path):
    spec = parse_spec({"stereo.enabled": False})
    archive = build_deployment("rgb", {"model": str(MODELS / "demo-colour-ssd.tar.xz")}, tmp_path)
    deployment = dataclasses.replace(archive, config=NNConfig("Generic"))
    network = DeviceNetwork(deployment, InputMapping.fit(1920, 1080, 320, 320, "crop"), T.BGR888p, blob=None)
    fake = FakeDevicePipeline()
    queues, config_queue = build_pipeline(fake, plan_pipeline(spec), spec.stereo, 200, {"rgb": network})
    assert config_queue is None and queues["nn:rgb"] == "NeuralNetwork0.out"
    assert "ImageManip1" not in fake.nodes                     # colour: one ImageManip does it all
    fake.nodes["NeuralNetwork0"].build.assert_called_once_with(fake.nodes["ImageManip0"].out,
                                                               deployment.package.archive)
