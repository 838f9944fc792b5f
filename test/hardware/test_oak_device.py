"""OakDevice against a real OAK (RVC2, OAK-D family). Skipped unless DepthAI discovery finds one.

The deploy test needs a detector built for RVC2: set DRB_TEST_OAK_BLOB_ARCHIVE to an NN
archive holding a `.blob` (config.json with a detection head); it is skipped otherwise.
"""
from __future__ import annotations

import itertools
import os
import threading
import time

import depthai as dai
import numpy as np
import pytest

os.environ.setdefault("DEPTHAI_TELEMETRY", "0")

if not dai.Device.getAllAvailableDevices():
    pytest.skip("no OAK found by dai.Device.getAllAvailableDevices(): these tests need a device",
                allow_module_level=True)

from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.frames import T, frame_array
from depthai_ros_bridge.device.oak import OakDevice
from depthai_ros_bridge.nn.deployment import DeployError, build_deployment

MODELS = os.path.join(os.path.dirname(__file__), "..", "..", "models")


class Collector:
    def __init__(self):
        self.sets, self.errors = [], []
        self._lock = threading.Lock()

    def on_frames(self, frames):
        with self._lock:
            self.sets.append(frames)

    def on_error(self, error):
        self.errors.append(error)

    def take(self, seconds: float, want=lambda sets: False) -> list:
        """Frame sets from now on, for `seconds` or until `want(sets)`."""
        with self._lock:
            start = len(self.sets)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self._lock:
                got = self.sets[start:]
            if want(got):
                break
            time.sleep(0.05)
        assert not self.errors, self.errors
        return got


@pytest.fixture(scope="module")
def oak():
    device = OakDevice(parse_spec({"device.type": "oak"}))
    collector = Collector()
    device.start(collector.on_frames, collector.on_error)
    yield device, collector
    device.close()


def frames_of(sets, key):
    return [s.frames[key] for s in sets if key in s.frames]


def valid_fraction(sets) -> float:
    depth = [frame_array(f) for f in frames_of(sets, "depth")[-5:]]
    return float(np.mean([np.count_nonzero(d) / d.size for d in depth]))


def test_open_and_close_twice():
    # Runs first: the module's device (fixture `oak`) is not open yet.
    device = OakDevice(parse_spec({"device.type": "oak", "stereo.enabled": False}))
    device.close()
    device.close()


def test_frames_arrive_at_the_planned_sizes_and_encodings(oak):
    _, collector = oak
    sets = collector.take(5.0, lambda s: len(frames_of(s, "depth")) >= 30)
    expected = {"rgb": ((1920, 1080), {T.BGR888i}), "left": ((640, 400), {T.GRAY8, T.RAW8}),
                "right": ((640, 400), {T.GRAY8, T.RAW8}), "depth": ((640, 400), {T.RAW16}),
                "disparity": ((640, 400), {T.RAW16})}
    for key, (size, kinds) in expected.items():
        frames = frames_of(sets, key)
        assert len(frames) >= 20, f"{key}: {len(frames)} frames in 5 s"
        for f in frames:
            assert (f.getWidth(), f.getHeight()) == size and f.getType() in kinds, key
    mono = [s for s in sets if "depth" in s.frames]
    complete = [s for s in mono if {"left", "right", "disparity"} <= set(s.frames)]
    assert len(complete) >= 0.9 * len(mono), "the mono pair and depth should share sequence numbers"
    stamps = [s.timestamp for s in sets if "rgb" in s.frames]
    assert all(b > a for a, b in itertools.pairwise(stamps))
    assert abs(stamps[-1] - time.monotonic()) < 1.0        # host steady clock, seconds


def test_camera_models_match_the_frames_own_intrinsics(oak):
    device, collector = oak
    sets = collector.take(3.0, lambda s: {"rgb", "depth"} <= {k for x in s for k in x.frames})
    frames = {k: f for s in sets for k, f in s.frames.items()}
    for key, camera in (("rgb", "rgb"), ("left", "left"), ("right", "right"), ("depth", "stereo")):
        k = np.array(frames[key].getTransformation().getIntrinsicMatrix())
        np.testing.assert_allclose(device.cameras[camera].K, k, atol=1.0, err_msg=f"{key} vs cameras[{camera}]")


def test_depth_is_plausible_and_agrees_with_disparity(oak):
    device, collector = oak
    sets = collector.take(3.0, lambda s: len([x for x in s if {"depth", "disparity"} <= set(x.frames)]) >= 5)
    pair = next(s for s in reversed(sets) if {"depth", "disparity"} <= set(s.frames))
    depth, disparity = frame_array(pair.frames["depth"]), frame_array(pair.frames["disparity"])
    valid = (depth > 0) & (disparity > 0)
    assert valid.mean() > 0.2, "less than a fifth of the depth map is valid"
    assert 150 < np.median(depth[valid]) < 20000
    g = device.stereo
    from_disparity = 1000 * g.focal_px * g.baseline_m * g.units_per_px / disparity[valid]
    assert np.median(np.abs(from_disparity - depth[valid]) / depth[valid]) < 0.05
    assert disparity.max() <= g.max_disparity * g.units_per_px


def test_confidence_threshold_change_applies_live(oak):
    device, collector = oak
    device.set_confidence_threshold(255)        # most permissive
    time.sleep(1.0)
    loose = valid_fraction(collector.take(1.0))
    device.set_confidence_threshold(20)         # strict
    time.sleep(1.0)
    strict = valid_fraction(collector.take(1.0))
    device.set_confidence_threshold(200)
    assert strict < loose


def test_status_reports_temperature_and_cpu_loads(oak):
    device, _ = oak
    status = device.status()
    assert 0 < float(status["chip temperature °C"]) < 110
    assert 0 <= float(status["CSS CPU load %"]) <= 100 and 0 <= float(status["MSS CPU load %"]) <= 100


def test_onnx_is_refused_without_interrupting_the_streams(oak, tmp_path):
    device, collector = oak
    deployment = build_deployment("rgb", {"model": os.path.join(MODELS, "demo-colour-ssd.tar.xz")}, tmp_path)
    with pytest.raises(DeployError, match="MyriadX blobs"):
        device.deploy("rgb", deployment, tmp_path)
    assert len(collector.take(1.0)) > 10


@pytest.mark.skipif(not os.environ.get("DRB_TEST_OAK_BLOB_ARCHIVE"),
                    reason="set DRB_TEST_OAK_BLOB_ARCHIVE to an NN archive holding an RVC2 .blob detector")
def test_deploy_and_remove_a_blob_archive(oak, tmp_path):
    device, collector = oak
    deployment = build_deployment("rgb", {"model": os.environ["DRB_TEST_OAK_BLOB_ARCHIVE"]}, tmp_path)
    device.deploy("rgb", deployment, tmp_path)
    sets = collector.take(15.0, lambda s: len([x for x in s if "rgb" in x.nn]) >= 10)
    results = [s for s in sets if "rgb" in s.nn]
    assert len(results) >= 10
    assert all(s.nn["rgb"].detections is not None for s in results)
    assert sum("rgb" in s.frames for s in results) >= 0.5 * len(results)   # results ride with their frame
    assert results[0].nn["rgb"].mapping.src_w == 1920
    device.remove("rgb")
    sets = collector.take(3.0)
    assert sets and not any(s.nn for s in sets[5:])
    with pytest.raises(DeployError, match="no network"):
        device.remove("rgb")

