"""<camera>.link_format mjpeg on the OAK, offline: no raw host queue for that camera, its MJPEG encoder's
output queued under the camera's key (grouped with its network like a raw frame), the network still on the
raw on-device output, and the bandwidth estimate counting the MJPEG (1/MJPEG_RATIO of raw)."""
from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import depthai as dai
import pytest

from depthai_ros_bridge.core.link_spec import MJPEG_RATIO
from depthai_ros_bridge.core.spec import ConfigError, parse_spec
from depthai_ros_bridge.device.frames import T
from depthai_ros_bridge.device.oak.graph import Graph, build_pipeline
from depthai_ros_bridge.device.oak.networks import DeviceNetwork
from depthai_ros_bridge.device.oak.plan import plan_pipeline
from depthai_ros_bridge.device.oak.sensors import bandwidth_check
from depthai_ros_bridge.dry_run import main
from depthai_ros_bridge.nn.mapping import InputMapping
from test.device.oak_models import MODELS, dry_run_oak_d, write
from test.device.test_oak_offline import YOLO_CONFIG, FakeDevicePipeline, bare_deployment

CONFIG = Path(__file__).resolve().parents[2] / "config"


def _dry_run(capsys, tmp_path, *params: str) -> dict:
    return dry_run_oak_d(capsys, tmp_path, *params)


def test_link_format_is_validated_naming_the_parameter():
    with pytest.raises(ConfigError, match="rgb.link_format: 'h264' is not one of raw, mjpeg"):
        parse_spec({"rgb.link_format": "h264"})
    spec = parse_spec({"rgb.link_format": "mjpeg", "left.link_format": "mjpeg", "right.enabled": False,
                       "stereo.enabled": False, "right.link_format": "mjpeg"})
    assert spec.link_formats == {"rgb": "mjpeg", "left": "mjpeg", "right": "mjpeg"}
    assert spec.mjpeg_link("rgb") and spec.mjpeg_link("left") and not spec.mjpeg_link("right")   # right is off
    assert parse_spec({}).link_formats == {"rgb": "raw", "left": "raw", "right": "raw"}


def test_mjpeg_rgb_has_no_raw_queue_and_its_encoder_feeds_the_rgb_key(capsys, tmp_path):
    raw = _dry_run(capsys, tmp_path)["pipeline"]
    assert raw["host_queues"]["rgb"] == "camera_rgb.rgb" and raw["host_queues"]["mjpeg:rgb"] == "mjpeg_rgb.out"
    pipeline = _dry_run(capsys, tmp_path, "rgb.link_format:=mjpeg")["pipeline"]
    queues, links, nodes = pipeline["host_queues"], pipeline["links"], pipeline["nodes"]
    assert queues["rgb"] == "mjpeg_rgb.out" and "mjpeg:rgb" not in queues
    assert "camera_rgb.rgb" not in queues.values()                  # the raw BGR frames stay on the device
    assert nodes["mjpeg_rgb"]["type"] == "VideoEncoder" and nodes["mjpeg_rgb"]["profile"] == "MJPEG"
    assert nodes["mjpeg_rgb"]["quality"] == 95
    assert ["camera_rgb.rgb_nv12", "mjpeg_rgb.input"] in links
    # The other cameras are untouched: raw frames plus their MJPEG beside them.
    assert queues["left"] == "stereo.rectifiedLeft" and queues["mjpeg:left"] == "mjpeg_left.out"


def test_mjpeg_mono_with_stereo_encodes_the_rectified_frames(capsys, tmp_path):
    pipeline = _dry_run(capsys, tmp_path, "left.link_format:=mjpeg", "right.link_format:=mjpeg")["pipeline"]
    queues, links = pipeline["host_queues"], pipeline["links"]
    assert queues["left"] == "mjpeg_left.out" and queues["right"] == "mjpeg_right.out"
    assert "stereo.rectifiedLeft" not in queues.values() and "stereo.rectifiedRight" not in queues.values()
    assert ["stereo.rectifiedLeft", "mjpeg_left.input"] in links
    assert ["camera_left.left", "stereo.left"] in links                  # stereo still gets the raw pair
    assert queues["depth"] == "stereo.depth"


def test_a_network_on_an_mjpeg_camera_still_runs_on_raw_pixels():
    """Built in a stand-in device pipeline (depthai's own node classes, autospecced): the network's
    ImageManip takes the raw BGR output; the host queue of "rgb" is the MJPEG encoder's `out`."""
    spec = parse_spec({"stereo.enabled": False, "rgb.link_format": "mjpeg"})
    deployment = bare_deployment("rgb", "net.blob", b"\x00" * 64, YOLO_CONFIG)
    network = DeviceNetwork(deployment, InputMapping.fit(1920, 1080, 416, 416, "letterbox"), T.BGR888p,
                            blob=mock.sentinel.blob)
    fake = FakeDevicePipeline()
    graph = Graph(fake)
    queues, _ = build_pipeline(fake, plan_pipeline(spec), spec.stereo, 200, {"rgb": network}, graph, spec)
    described = graph.describe()
    assert described["host_queues"]["rgb"] == "mjpeg_rgb.out" and "mjpeg:rgb" not in described["host_queues"]
    assert ["camera_rgb.rgb", "rgb_nn_manip.inputImage"] in described["links"]      # raw pixels, on the device
    assert ["camera_rgb.rgb_nv12", "mjpeg_rgb.input"] in described["links"]
    encoder = fake.nodes[queues["rgb"].removesuffix(".out")]                        # a real host queue on it
    encoder.setProfile.assert_called_once_with(dai.VideoEncoderProperties.Profile.MJPEG)
    assert queues["rgb"] in fake.queues and queues["nn:rgb"] == "DetectionNetwork0.out"
    assert len(fake.queues) == len(queues)         # rgb, nn:rgb, still: no queue of the raw colour frames


def test_bandwidth_counts_the_mjpeg_instead_of_raw():
    values = {"stereo.enabled": False, "left.enabled": False, "right.enabled": False}
    raw, warning = plan_pipeline(parse_spec(values)).bandwidth("poe")
    assert raw == pytest.approx(1920 * 1080 * 3 * 30 / 1e6) and "set rgb.link_format to mjpeg" in warning.lower()
    plan = plan_pipeline(parse_spec({**values, "rgb.link_format": "mjpeg"}))
    assert plan.mjpeg == ("rgb",)
    mjpeg, warning = plan.bandwidth("poe")
    assert mjpeg == pytest.approx(raw / MJPEG_RATIO) and warning is None
    _, warning = bandwidth_check({"rgb": ((3840, 2160), 60.0)}, "usb2", ("rgb",))
    assert "of frames, over a usb2 link" in warning and "link_format" not in warning


def test_poe_preset_sends_mjpeg_colour_and_the_dry_run_estimates_it(capsys, tmp_path):
    preset = str(CONFIG / "oak_d_poe.yaml")
    calib, cameras = write(MODELS["oak_d"], tmp_path)
    assert main(["--params-file", preset, "--calibration", str(calib), "--cameras", str(cameras),
                 "--link", "poe"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pipeline"]["host_queues"]["rgb"] == "mjpeg_rgb.out" and result["warnings"] == []
    assert main(["--params-file", preset, "-p", "rgb.link_format:=raw", "--calibration", str(calib),
                 "--cameras", str(cameras), "--link", "poe"]) == 0
    raw = json.loads(capsys.readouterr().out)
    # 720p BGR at 15 Hz is 41.5 MB/s raw, 4.1 as MJPEG; the monos, depth and disparity stay raw.
    assert raw["bandwidth_mbps"] - result["bandwidth_mbps"] == pytest.approx(1280 * 720 * 3 * 15 / 1e6 * 0.9, abs=0.2)
    print(f"oak_d_poe.yaml dry run: raw {raw['bandwidth_mbps']} MB/s, rgb mjpeg {result['bandwidth_mbps']} MB/s")
