"""The simulated OAK-D's capture: fixed-point stereo outputs equal to the float formulas, determinism."""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from depthai_ros_bridge.core.align import align_depth, align_depth_mm
from depthai_ros_bridge.core.depth import depth_lut_mm, disparity_to_depth_mm
from depthai_ros_bridge.core.spec import parse_spec
from depthai_ros_bridge.device.sim import SimDevice
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene
from depthai_ros_bridge.sim.stereo import StereoMatcher, StereoOptions

RIG = oakd_rig((1280, 720), (640, 400))
RGB_AT_DEPTH_SIZE = RIG.rgb.scaled(640, 360)
FOCAL, BASELINE = RIG.right.fx, RIG.right.position[0] - RIG.left.position[0]


def float_align_mm(depth_mm: np.ndarray, target) -> np.ndarray:
    """What the device computed before: metres, align_depth, back to millimetres."""
    return np.rint(align_depth(depth_mm / np.float32(1000), RIG.right, target) * 1000).astype(np.uint16)


@pytest.mark.parametrize("subpixel", [True, False])
def test_raw_disparity_and_its_depth_lookup_equal_the_float_formulas(subpixel):
    renderer = Renderer(Scene(4))
    left, right = (renderer.render(c, 1.0, mono=True).image for c in (RIG.left, RIG.right))
    matcher = StereoMatcher(StereoOptions(median_filter="5x5" if subpixel else "7x7", subpixel=subpixel))
    raw, disparity = matcher.compute_raw(left, right), matcher.compute(left, right)
    assert raw.dtype == np.uint16
    np.testing.assert_array_equal(raw, np.round(disparity / matcher.px_per_unit).astype(np.uint16))
    lut = depth_lut_mm(FOCAL, BASELINE, matcher.px_per_unit)
    np.testing.assert_array_equal(lut[raw], disparity_to_depth_mm(disparity, FOCAL, BASELINE))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_alignment_equals_the_float_alignment_on_stereo_depth(seed):
    renderer = Renderer(Scene(seed))
    left, right = (renderer.render(c, 2.0, mono=True).image for c in (RIG.left, RIG.right))
    matcher = StereoMatcher(StereoOptions(median_filter="5x5"))
    depth_mm = depth_lut_mm(FOCAL, BASELINE, matcher.px_per_unit)[matcher.compute_raw(left, right)]
    aligned = align_depth_mm(depth_mm, RIG.right, RGB_AT_DEPTH_SIZE)
    assert aligned.dtype == np.uint16 and aligned.shape == (360, 640)
    np.testing.assert_array_equal(aligned, float_align_mm(depth_mm, RGB_AT_DEPTH_SIZE))


@pytest.mark.parametrize("offset", [(0.0, 0.0, 0.0), (0.0, 0.01, 0.02)])
def test_integer_alignment_equals_the_float_alignment_on_any_depth(offset):
    rng = np.random.default_rng(5)
    depth_mm = rng.integers(1, 65536, (400, 640)).astype(np.uint16)
    depth_mm[rng.random(depth_mm.shape) < 0.2] = 0
    depth_mm[:3] = 65535                                  # saturated depth still fills pinholes
    target = replace(RGB_AT_DEPTH_SIZE, position=tuple(np.add(RGB_AT_DEPTH_SIZE.position, offset)))
    np.testing.assert_array_equal(align_depth_mm(depth_mm, RIG.right, target), float_align_mm(depth_mm, target))


def test_capture_is_a_function_of_seed_and_sequence_number():
    values = {"device.type": "sim", "rgb.resolution": "720p", "rgb.fps": 15.0, "left.fps": 15.0,
              "right.fps": 15.0, "stereo.median_filter": "5x5", "stereo.align": "rgb", "sim.seed": 3}
    devices = [SimDevice(parse_spec(values)) for _ in range(2)]
    try:
        first = {name: f.getCvFrame() for name, f in devices[0].capture(7, 0.5).frames.items()}
        devices[1].capture(3, 0.2)                         # another frame first changes nothing
        second = {name: f.getCvFrame() for name, f in devices[1].capture(7, 0.5).frames.items()}
    finally:
        for device in devices:
            device.close()
    assert sorted(first) == ["depth", "disparity", "left", "rgb", "right"]
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    assert first["depth"].shape == (360, 640) and np.mean(first["depth"] > 0) > 0.5


def test_a_moving_rig_streams_whole_frame_sets_in_order_each_as_capture_makes_it():
    # Streamed (the colour branch on the capture thread, the mono one beside it; late ticks dropped), not called.
    values = {"device.type": "sim", "rgb.fps": 10.0, "left.fps": 10.0, "right.fps": 10.0, "stereo.align": "rgb",
              "sim.camera_motion": "handheld", "sim.seed": 2}
    sets, errors, enough = [], [], threading.Event()

    def on_frames(frames):
        sets.append(frames)
        if len(sets) >= 6:
            enough.set()

    device = SimDevice(parse_spec(values))
    try:
        device.start(on_frames, errors.append)
        assert enough.wait(60), f"{len(sets)} frame sets in 60 s"
    finally:
        device.close()
    assert not errors
    seqs = [s.seq for s in sets]
    assert seqs == sorted(set(seqs)), seqs
    assert all(sorted(s.frames) == ["depth", "disparity", "left", "rgb", "right"] for s in sets)
    reference = SimDevice(parse_spec(values))
    try:
        for streamed in (sets[2], sets[5]):
            captured = reference.capture(streamed.seq, streamed.timestamp)
            for name, frame in streamed.frames.items():
                np.testing.assert_array_equal(frame.getCvFrame(), captured.frames[name].getCvFrame(), err_msg=name)
    finally:
        reference.close()
