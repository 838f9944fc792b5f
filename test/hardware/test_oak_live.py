"""The oak backend on a real OAK, measured: rates, CameraInfo vs the frames' own intrinsics,
depth of a flat target, deploy/remove pause, unplug/replug recovery, dry run vs live.

Skipped unless DepthAI finds a device. Optional inputs (environment):
- DRB_TEST_PARAMS: a params file for the device (default: config/oak_d.yaml, or oak_1.yaml
  on a device without a stereo pair);
- DRB_TEST_FLAT_TARGET_M: distance (m) of a flat, textured target filling the centre of view;
- DRB_TEST_OAK_BLOB_ARCHIVE: an NN archive holding an RVC2 .blob detector (deploy/remove);
- DRB_TEST_REPLUG=1: the unplug/replug test prompts on the terminal (run with `-s`).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import depthai as dai
import numpy as np
import pytest

if not dai.Device.getAllAvailableDevices():
    pytest.skip("no OAK found by dai.Device.getAllAvailableDevices(): these tests need a device",
                allow_module_level=True)

import yaml

from depthai_ros_bridge.core.camera_info import stream_camera_info
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.frames import frame_array
from depthai_ros_bridge.device.oak import OakDevice
from depthai_ros_bridge.dry_run import dry_run, flatten
from depthai_ros_bridge.nn.deployment import build_deployment
from test.hardware.conftest import describe_device

CONFIG = Path(__file__).resolve().parents[2] / "config"
KEY_OF = {"rgb": "rgb", "left": "left", "right": "right", "stereo": "depth"}


def _params() -> dict:
    path = os.environ.get("DRB_TEST_PARAMS")
    if not path:
        with dai.Device() as device:
            sockets = {c.socket for c in device.getConnectedCameraFeatures()}
        path = CONFIG / ("oak_d.yaml" if dai.CameraBoardSocket.CAM_B in sockets else "oak_1.yaml")
    doc = yaml.safe_load(Path(path).read_text())
    return flatten(doc["/**"]["ros__parameters"])


class Collector:
    def __init__(self):
        self.sets, self.errors, self._lock = [], [], threading.Lock()

    def on_frames(self, frames):
        with self._lock:
            self.sets.append((time.monotonic(), frames))

    def on_error(self, error):
        self.errors.append(error)

    def since(self, t0: float) -> list:
        with self._lock:
            return [s for t, s in self.sets if t >= t0]

    def wait(self, seconds: float, want) -> list:
        t0 = time.monotonic()
        deadline = t0 + seconds
        while time.monotonic() < deadline:
            got = self.since(t0)
            if want(got):
                return got
            time.sleep(0.05)
        return self.since(t0)


@pytest.fixture(scope="module")
def live():
    values = _params()
    spec = parse_spec(values)
    device = OakDevice(spec)
    describe_device(f"{device.info.name} {device.info.id}, link {device.link}; cameras: "
                    + ", ".join(c.describe() for c in device.connected))
    collector = Collector()
    device.start(collector.on_frames, collector.on_error)
    yield spec, values, device, collector
    device.close()


def test_every_stream_arrives_at_its_rate(live, report):
    spec, _, device, collector = live
    sets = collector.wait(6.0, lambda s: False)
    for key in device.plan.streams:
        stamps = [s.timestamp for s in sets if key in s.frames]
        assert len(stamps) > 10, f"{key}: {len(stamps)} frames in 6 s"
        rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
        stream = "stereo" if key in ("depth", "disparity") else key
        expected = spec.expected_rate(stream)
        report(f"{key}: {rate:.1f} Hz (configured {expected:.1f})")
        assert rate > 0.8 * expected
    assert not collector.errors


def test_camera_info_matches_the_frames_own_intrinsics(live, report):
    spec, _, device, collector = live
    sets = collector.wait(5.0, lambda s: set(KEY_OF.values()) & set(device.plan.streams)
                          <= {k for x in s for k in x.frames})
    frames = {k: f for s in sets for k, f in s.frames.items()}
    for stream, key in KEY_OF.items():
        if key not in frames or stream not in device.cameras:
            continue
        k_frame = np.asarray(frames[key].getTransformation().getIntrinsicMatrix(), float)
        info = stream_camera_info(stream, device.cameras, device.stereo.baseline_m if device.stereo else None)
        diff = float(np.abs(np.asarray(info.k).reshape(3, 3) - k_frame).max())
        report(f"{stream}: CameraInfo K vs the frame's: {diff:.2f} px; {info.distortion_model} "
               f"{[round(v, 4) for v in info.d]}")
        assert diff <= 1.0, f"{stream}: {diff:.2f} px"
    report("intrinsics warnings: " + json.dumps({k: v for k, v in device.status().items() if "intrinsics" in k}))


@pytest.mark.skipif(not os.environ.get("DRB_TEST_FLAT_TARGET_M"), reason="set DRB_TEST_FLAT_TARGET_M")
def test_depth_of_a_flat_target_at_a_known_distance(live, report):
    _, _, device, collector = live
    truth = float(os.environ["DRB_TEST_FLAT_TARGET_M"])
    sets = collector.wait(3.0, lambda s: sum("depth" in x.frames for x in s) >= 10)
    depth = np.stack([frame_array(s.frames["depth"]) for s in sets if "depth" in s.frames][-10:]).astype(float)
    h, w = depth.shape[1:]
    centre = depth[:, h * 2 // 5: h * 3 // 5, w * 2 // 5: w * 3 // 5]
    valid = centre[centre > 0] / 1000.0
    median = float(np.median(valid))
    report(f"centre depth {median:.3f} m vs {truth:.3f} m ({100 * (median - truth) / truth:+.1f} %), "
           f"valid {valid.size / centre.size:.0%}")
    assert abs(median - truth) < 0.02 * truth + 0.01


def test_dry_run_camera_info_equals_what_the_live_device_publishes(live, tmp_path, report):
    spec, values, device, _ = live
    calib = tmp_path / "calib.json"
    cams = tmp_path / "cameras.json"
    with_device = device._device                       # noqa: SLF001 - its calibration, as a user saves it
    with_device.readCalibration().eepromToJsonFile(str(calib))
    cams.write_text(json.dumps([c.as_dict() for c in device.connected]))
    result = dry_run(values, str(calib), str(cams))
    for topic, entry in result["topics"].items():
        stream = topic.split("/")[1]
        live_info = stream_camera_info(stream, device.cameras,
                                       device.stereo.baseline_m if device.stereo else None).as_dict()
        for field in ("width", "height", "distortion_model"):
            assert entry["camera_info"][field] == live_info[field], (topic, field)
        for field in ("d", "k", "p"):
            np.testing.assert_allclose(entry["camera_info"][field], live_info[field], atol=1e-6,
                                       err_msg=f"{topic} {field}")
    report(f"dry run vs live: {len(result['topics'])} topics equal; bandwidth {result['bandwidth_mbps']} MB/s")


@pytest.mark.skipif(not os.environ.get("DRB_TEST_OAK_BLOB_ARCHIVE"), reason="set DRB_TEST_OAK_BLOB_ARCHIVE")
def test_deploy_and_remove_pause_the_streams_for_a_measured_time(live, tmp_path, report):
    _, _, device, collector = live
    deployment = build_deployment("rgb", {"model": os.environ["DRB_TEST_OAK_BLOB_ARCHIVE"]}, tmp_path)
    t0 = time.monotonic()
    device.deploy("rgb", deployment, tmp_path)
    deploy_s = time.monotonic() - t0
    sets = collector.wait(10.0, lambda s: sum("rgb" in x.nn for x in s) >= 10)
    assert sum("rgb" in x.nn for x in sets) >= 10
    t0 = time.monotonic()
    device.remove("rgb")
    remove_s = time.monotonic() - t0
    report(f"deploy: {deploy_s:.1f} s until frames flowed again ({device.status().get('last restart')}); "
           f"remove: {remove_s:.1f} s")
    assert not collector.errors


@pytest.mark.skipif(os.environ.get("DRB_TEST_REPLUG") != "1", reason="set DRB_TEST_REPLUG=1 and run with -s")
def test_unplug_and_replug_ends_in_an_error_or_a_resumed_stream(report):
    device = OakDevice(parse_spec(_params()))
    collector = Collector()
    device.start(collector.on_frames, collector.on_error)
    try:
        collector.wait(3.0, lambda s: len(s) > 10)
        print("\nUnplug the OAK now, wait 3 s, plug it back in, then press Enter.", file=sys.stderr)
        t0 = time.monotonic()
        input()
        resumed = collector.wait(20.0, lambda s: len(s) > 10)
        report(f"after replug: {len(resumed)} frame sets in the next 20 s; errors: {collector.errors!r}; "
               f"status: {device.status()} ({time.monotonic() - t0:.1f} s)")
        # Either depthai reconnected (frames resume, grouped) or the device was reported lost.
        assert collector.errors or len(resumed) > 10
    finally:
        device.close()
