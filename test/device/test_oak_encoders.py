"""The OAK's on-device encoders offline: the video.* -> VideoEncoder settings mapping, the nodes and
links the dry run describes (dai.Pipeline(False) refuses VideoEncoder and Camera nodes), and the
host-side still hand-off."""
from __future__ import annotations

from datetime import timedelta

import depthai as dai
import pytest

from depthai_ros_bridge.core.camera_model import CameraModel
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.base import DeviceError, Still
from depthai_ros_bridge.device.oak.encoders import StillGate, mjpeg_settings, video_settings
from test.device.oak_models import dry_run_oak_d

P, RC = dai.VideoEncoderProperties.Profile, dai.VideoEncoderProperties.RateControlMode


@pytest.mark.parametrize("values, expected", [
    ({}, (P.H264_MAIN, RC.CBR, 8000, 30, 0, 80)),
    ({"video.codec": "h265", "video.profile": "h265_main", "video.rate_control": "vbr", "video.quality": 60,
      "video.bitrate_kbps": 4000, "video.keyframe_frequency": 15}, (P.H265_MAIN, RC.VBR, 4000, 15, 0, 60)),
    ({"video.profile": "h264_high", "video.num_b_frames": 2}, (P.H264_HIGH, RC.CBR, 8000, 30, 2, 80)),
    ({"video.profile": "h264_baseline"}, (P.H264_BASELINE, RC.CBR, 8000, 30, 0, 80))])
def test_video_parameters_map_to_videoencoder_settings(values, expected):
    s = video_settings(parse_spec(values).video, 30.0)
    assert (s.profile, s.rate_control, s.bitrate_kbps, s.keyframe_frequency, s.num_b_frames, s.quality) == expected
    assert s.fps == 30.0
    assert mjpeg_settings(95, 15.0).profile == P.MJPEG and mjpeg_settings(95, 15.0).quality == 95


def _dry_run(capsys, tmp_path, *params: str) -> dict:
    return dry_run_oak_d(capsys, tmp_path, *params)["pipeline"]


def test_dry_run_describes_video_mjpeg_and_still_encoders(capsys, tmp_path):
    pipeline = _dry_run(capsys, tmp_path, "video.enabled:=true", "video.codec:=h265", "video.profile:=h265_main",
                        "video.bitrate_kbps:=6000", "compressed.jpeg_quality:=80")
    nodes, links, queues = pipeline["nodes"], pipeline["links"], pipeline["host_queues"]
    video = nodes["video_encoder"]
    assert video["type"] == "VideoEncoder" and video["profile"] == "H265_MAIN" and video["bitrate_kbps"] == 6000
    assert nodes["camera_rgb"]["outputs"]["rgb_nv12"]["type"] == "NV12"      # the encoders take NV12, not BGR
    assert ["camera_rgb.rgb_nv12", "video_encoder.input"] in links
    assert queues["video"] == "video_encoder.out"
    for camera in ("rgb", "left", "right"):
        assert nodes[f"mjpeg_{camera}"]["profile"] == "MJPEG" and nodes[f"mjpeg_{camera}"]["quality"] == 80
        assert queues[f"mjpeg:{camera}"] == f"mjpeg_{camera}.out"
    # Mono JPEGs encode what image_raw carries: the rectified frames when stereo runs.
    assert ["stereo.rectifiedLeft", "mjpeg_left.input"] in links
    assert nodes["camera_rgb"]["outputs"]["still"]["size"] == "full resolution"
    assert ["camera_rgb.still", "still_encoder.input"] in links and queues["still"] == "still_encoder.out"


def test_no_video_encoder_unless_enabled(capsys, tmp_path):
    pipeline = _dry_run(capsys, tmp_path)
    assert "video_encoder" not in pipeline["nodes"] and "video" not in pipeline["host_queues"]


def _jpeg(seq: int) -> dai.EncodedFrame:
    frame = dai.EncodedFrame()
    frame.setSequenceNum(seq)
    frame.setWidth(4056)
    frame.setHeight(3040)
    frame.setTimestamp(timedelta(seconds=12.5 + seq))
    return frame


def test_still_gate_hands_the_first_frame_after_the_request_once():
    model = CameraModel.from_hfov("rgb", 1920, 1080, 68.8, (0.0, 0.0, 0.0))
    gate = StillGate(lambda w, h: model.scaled(w, h))
    got = []
    gate.add(_jpeg(1))                           # before any request: only remembered
    gate.request(got.append)
    with pytest.raises(DeviceError, match="in progress"):
        gate.request(got.append)
    gate.add(_jpeg(2))
    gate.add(_jpeg(3))
    assert len(got) == 1 and isinstance(got[0], Still)
    assert got[0].frame.getSequenceNum() == 2 and got[0].timestamp == 14.5
    assert (got[0].camera.width, got[0].camera.height) == (4056, 3040)
    gate.request(got.append)
    gate.cancel()
    assert isinstance(got[1], DeviceError)
