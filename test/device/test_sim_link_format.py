"""<camera>.link_format mjpeg on the simulated OAK-D: a camera's frame is the device's JPEG (a dai.EncodedFrame,
as the OAK's MJPEG encoder sends), its sequence number, stamp and socket those of the raw frame; it decodes to
the same render; stereo and networks still run on the raw pixels."""
from __future__ import annotations

import cv2
import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.frames import decode_jpeg, frame_array, frame_is_intact
from depthai_ros_bridge.device.sim import SimDevice, _corrupted
from depthai_ros_bridge.nn.deployment import build_deployment
from test.device.test_oak_offline import MODELS

BASE = {"rgb.resolution": "720p", "sim.seed": 3}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(cv2.PSNR(a, b))


@pytest.fixture
def devices():
    made = []

    def make(**values):
        made.append(SimDevice(parse_spec({**BASE, **values})))
        return made[-1]
    yield make
    for d in made:
        d.close()


def test_mjpeg_frames_decode_to_the_raw_render_and_stereo_runs_on_raw(devices):
    raw = devices().capture(5, 0.25)
    mjpeg = devices(**{"rgb.link_format": "mjpeg", "left.link_format": "mjpeg"}).capture(5, 0.25)
    for camera, encoding in (("rgb", 3), ("left", 2)):
        frame = mjpeg.frames[camera]
        assert isinstance(frame, dai.EncodedFrame) and frame.getProfile() == dai.EncodedFrame.Profile.JPEG
        assert (frame.getSequenceNum(), frame.getTimestamp()) == (5, raw.frames[camera].getTimestamp())
        assert frame.getInstanceNum() == raw.frames[camera].getInstanceNum() and frame.getQuality() == 95
        assert frame_is_intact(frame)
        pixels, truth = decode_jpeg(frame), frame_array(raw.frames[camera])
        assert pixels.shape == truth.shape and pixels.ndim == encoding
        assert psnr(pixels, truth) >= 30.0
        ratio = truth.nbytes / len(frame.getData())
        print(f"{camera} {truth.shape[1]}x{truth.shape[0]}: JPEG q95 is 1/{ratio:.1f} of raw, PSNR "
              f"{psnr(pixels, truth):.1f} dB")
    assert isinstance(mjpeg.frames["right"], dai.ImgFrame)              # raw: its own link_format
    # Stereo matched the raw pair: depth and disparity identical to the raw-link device's.
    for key in ("depth", "disparity"):
        np.testing.assert_array_equal(frame_array(mjpeg.frames[key]), frame_array(raw.frames[key]))


def test_a_network_on_an_mjpeg_camera_runs_on_the_raw_frame(devices, tmp_path):
    deployment = build_deployment("rgb", {"model": str(MODELS / "demo-colour-ssd.tar.xz")}, tmp_path)
    results = []
    for link in ("raw", "mjpeg"):
        device = devices(**{"rgb.link_format": link, "stereo.enabled": False})
        device.deploy("rgb", deployment, tmp_path)
        result = device.capture(4, 0.2).nn["rgb"]
        results.append([(d.label, round(d.confidence, 6), round(d.xmin, 6), round(d.ymin, 6))
                        for d in result.detections.detections])
    assert results[0] and results[0] == results[1]


def test_a_truncated_jpeg_is_not_intact_and_does_not_decode(devices):
    frame = devices(**{"rgb.link_format": "mjpeg"}).capture(0, 0.0).frames["rgb"]
    broken = _corrupted(frame)
    assert isinstance(broken, dai.EncodedFrame) and broken.getSequenceNum() == 0
    assert not frame_is_intact(broken)
