"""Stereo matching of rendered pairs against the renderer's true depth."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from depthai_ros_bridge.core.depth import colorize_disparity, disparity_to_depth_m, disparity_to_depth_mm
from depthai_ros_bridge.sim.classes import LABELS
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.scene import ObjectTrack, Scene
from depthai_ros_bridge.sim.stereo import StereoMatcher, StereoOptions

ACCURACY_SEEDS = (0, 1, 2)


def stereo_pair(rig, scene: Scene, t: float):
    renderer = Renderer(scene)
    return renderer.render(rig.left, t, mono=True), renderer.render(rig.right, t, mono=True)


def focal_baseline(rig) -> tuple[float, float]:
    return rig.right.fx, rig.right.position[0] - rig.left.position[0]


def matchable(right, max_disparity: int) -> np.ndarray:
    """Pixels on surfaces 0.5..5 m away that the search can match at all: SGBM leaves the
    last max_disparity columns of the right view unmatched (their match would be left of
    the search range)."""
    roi = (right.depth > 0.5) & (right.depth < 5.0)
    roi[:, right.depth.shape[1] - max_disparity:] = False
    return roi


def with_background(matcher: StereoMatcher, rig, scene: Scene) -> StereoMatcher:
    renderer = Renderer(scene)
    matcher.set_background(renderer.background(rig.left, mono=True), renderer.background(rig.right, mono=True))
    return matcher


@pytest.mark.parametrize("background", [False, True], ids=["full-frame", "room-reused"])
def test_depth_from_subpixel_lr_checked_stereo_is_within_2_percent(rig, background):
    options = StereoOptions(confidence_threshold=200, subpixel=True, lr_check=True)
    matcher = StereoMatcher(options)
    fx, baseline = focal_baseline(rig)
    errors, objects, valid, total, in_range, valid_in_range = [], [], 0, 0, 0, 0
    for seed in ACCURACY_SEEDS:
        if background:
            with_background(matcher, rig, Scene(seed))
        left, right = stereo_pair(rig, Scene(seed), 2.0)
        depth = disparity_to_depth_m(matcher.compute(left.image, right.image), fx, baseline)
        roi = matchable(right, options.max_disparity)
        ok = roi & np.isfinite(depth)
        rel = np.abs(depth[ok] - right.depth[ok]) / right.depth[ok]
        errors.append(rel)
        objects.append(rel[right.mask[ok] >= 0])
        valid, total = valid + ok.sum(), total + roi.sum()
        near = (right.depth > 0.5) & (right.depth < 5.0)      # with the unmatched band
        in_range += near.sum()
        valid_in_range += (near & (depth > 0)).sum()
    rel, rel_objects = np.concatenate(errors), np.concatenate(objects)
    fraction = valid / total
    print(f"\nstereo 640x400 subpixel+LR, conf 200, {len(ACCURACY_SEEDS)} scenes"
          f"{', room rows reused' if background else ''}: "
          f"valid {100 * fraction:.1f}% of {total} matchable px at 0.5-5 m "
          f"({100 * valid_in_range / in_range:.1f}% counting the unmatched right band); "
          f"|dz|/z median {100 * np.median(rel):.2f}%, p90 {100 * np.percentile(rel, 90):.2f}%, "
          f">5%: {100 * np.mean(rel > 0.05):.2f}%; objects only: median "
          f"{100 * np.median(rel_objects):.2f}%")
    assert np.median(rel) < 0.02
    assert np.median(rel_objects) < 0.02
    assert np.mean(rel > 0.05) < 0.05
    assert fraction > 0.9
    assert valid_in_range / in_range > 0.7     # the band holds a quarter of the near floor


def test_lower_confidence_threshold_keeps_fewer_pixels(rig):
    left, right = stereo_pair(rig, Scene(0), 2.0)
    matcher = StereoMatcher(StereoOptions(confidence_threshold=255))
    roi = matchable(right, 96)
    fractions = {}
    for threshold in (255, 200, 150, 100, 50):
        matcher.set_confidence_threshold(threshold)
        fractions[threshold] = np.mean(matcher.compute(left.image, right.image)[roi] > 0)
    print("\nvalid fraction by confidence threshold:",
          ", ".join(f"{k}: {100 * v:.1f}%" for k, v in fractions.items()))
    values = list(fractions.values())
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[0] > 0.95 and values[-1] < 0.5
    # The live change is the same as a matcher built with that threshold.
    rebuilt = StereoMatcher(StereoOptions(confidence_threshold=50))
    np.testing.assert_array_equal(rebuilt.compute(left.image, right.image),
                                  matcher.compute(left.image, right.image))
    assert matcher.options.confidence_threshold == 50


@pytest.mark.parametrize("seed, t", [(0, 2.0), (3, 0.0), (5, 7.5)])
def test_reusing_the_room_changes_only_rows_near_and_below_the_objects(rig, seed, t):
    """Rows above the objects keep the room's disparities (3-way SGBM aggregates along rows and
    downwards only); below, matching restarts above the objects as in one of OpenCV's stripes."""
    left, right = stereo_pair(rig, Scene(seed), t)
    full = StereoMatcher(StereoOptions(median_filter="5x5")).compute(left.image, right.image)
    reused = with_background(StereoMatcher(StereoOptions(median_filter="5x5")), rig, Scene(seed))
    disparity = reused.compute(left.image, right.image)
    objects = np.flatnonzero((left.mask >= 0).any(1) | (right.mask >= 0).any(1))
    assert 150 < objects[0] < 300
    # An image row reaches 4 rows of a pass, 9 through the half-resolution reverse pass, the median 2 more.
    np.testing.assert_array_equal(disparity[:objects[0] - 12], full[:objects[0] - 12])
    assert np.mean(disparity != full) < 0.01
    # Live threshold changes re-match the room.
    reused.set_confidence_threshold(100)
    rebuilt = with_background(StereoMatcher(StereoOptions(confidence_threshold=100, median_filter="5x5")),
                              rig, Scene(seed))
    np.testing.assert_array_equal(reused.compute(left.image, right.image), rebuilt.compute(left.image, right.image))


def test_extended_disparity_measures_an_object_closer_than_the_default_range(rig):
    """A tall crate's front face 30 cm away has 110 px of disparity: beyond the default
    96 px search, inside the extended 192 px one."""
    crate = ObjectTrack(LABELS.index("crate"), (0.12, 1.0, 0.1), (-0.05, 0.35), 0, 0, 10, 0, 0, 0)
    left, right = stereo_pair(rig, Scene(0, tracks=[crate]), 0.0)
    fx, baseline = focal_baseline(rig)
    face = (right.mask == 0) & (right.depth < 0.301)
    assert face.sum() > 20000
    accurate = {}
    for extended in (False, True):
        matcher = StereoMatcher(StereoOptions(confidence_threshold=255,
                                              extended_disparity=extended))
        depth = disparity_to_depth_m(matcher.compute(left.image, right.image), fx, baseline)
        rel = np.abs(depth[face] - right.depth[face]) / right.depth[face]
        accurate[extended] = np.mean(rel < 0.05)       # NaN (invalid) counts as inaccurate
    assert accurate[False] < 0.05
    assert accurate[True] > 0.9


def test_lr_check_drops_pixels_the_left_camera_cannot_see_and_keeps_the_rest(rig):
    left, right = stereo_pair(rig, Scene(0), 2.0)
    fx, baseline = focal_baseline(rig)
    # True occlusions: the right pixel's point is hidden behind something nearer in the left view.
    v, u = np.nonzero(matchable(right, 96))
    z = right.depth[v, u]
    u_left = np.rint(u + fx * baseline / z).astype(int)
    hidden = left.depth[v, np.minimum(u_left, 639)] < 0.95 * z
    assert hidden.sum() > 500
    kept = {}
    for lr_check in (False, True):
        disparity = StereoMatcher(StereoOptions(lr_check=lr_check)).compute(left.image, right.image)
        valid = disparity[v, u] > 0
        kept[lr_check] = (np.mean(valid[hidden]), np.mean(valid[~hidden]))
    print(f"\nkept by LR check off / on: occluded {kept[False][0]:.2f} / {kept[True][0]:.2f}, "
          f"visible {kept[False][1]:.3f} / {kept[True][1]:.3f}")
    assert kept[True][0] < 0.75 * kept[False][0]
    assert kept[True][1] > 0.98
def test_subpixel_keeps_sixteenths_and_whole_pixel_mode_rounds(rig):
    left, right = stereo_pair(rig, Scene(1), 0.0)
    fine = StereoMatcher(StereoOptions(subpixel=True)).compute(left.image, right.image)
    whole = StereoMatcher(StereoOptions(subpixel=False)).compute(left.image, right.image)
    assert fine.dtype == whole.dtype == np.float32
    np.testing.assert_array_equal(fine * 16, np.rint(fine * 16))
    assert np.mean(fine != np.rint(fine)) > 0.5
    np.testing.assert_array_equal(whole, np.rint(whole))
    both = (fine > 0) & (whole > 0)
    assert np.median(np.abs(whole[both] - fine[both])) <= 0.5


@pytest.mark.parametrize("median, subpixel", [("3x3", True), ("5x5", True), ("7x7", False)])
def test_median_filter_runs_on_the_checked_disparity_and_fills_holes(rig, median, subpixel):
    left, right = stereo_pair(rig, Scene(2), 1.0)
    raw = StereoMatcher(StereoOptions(subpixel=subpixel)).compute(left.image, right.image)
    filtered = StereoMatcher(StereoOptions(median_filter=median, subpixel=subpixel)).compute(
        left.image, right.image)
    # The median of the final (confidence- and LR-checked) disparity, in its fixed-point form.
    fixed = (raw * 16).astype(np.uint16) if subpixel else raw.astype(np.uint8)
    expected = cv2.medianBlur(fixed, int(median[0])).astype(np.float32)
    np.testing.assert_array_equal(filtered, expected / 16 if subpixel else expected)
    roi = matchable(right, 96)
    assert np.mean(filtered[roi] > 0) > np.mean(raw[roi] > 0)
    fx, baseline = focal_baseline(rig)
    ok = roi & (filtered > 0)
    rel = np.abs(fx * baseline / filtered[ok] - right.depth[ok]) / right.depth[ok]
    assert np.median(rel) < 0.02


@pytest.mark.parametrize("kwargs, match", [
    ({"confidence_threshold": 256}, "confidence_threshold"),
    ({"confidence_threshold": -1}, "confidence_threshold"),
    ({"confidence_threshold": 1.5}, "confidence_threshold"),
    ({"median_filter": "9x9"}, "median_filter"),
    ({"median_filter": "7x7", "subpixel": True}, "median_filter '7x7'.*subpixel"),
])
def test_invalid_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StereoOptions(**kwargs)


def test_invalid_live_threshold_and_mismatched_images_are_refused():
    matcher = StereoMatcher(StereoOptions())
    with pytest.raises(ValueError, match="confidence_threshold"):
        matcher.set_confidence_threshold(300)
    assert matcher.options.confidence_threshold == StereoOptions().confidence_threshold
    with pytest.raises(ValueError, match="single-channel uint8"):
        matcher.compute(np.zeros((400, 640), np.uint8), np.zeros((400, 640, 3), np.uint8))


def test_disparity_converts_to_depth_in_metres_and_millimetres():
    disparity = np.array([[0.0, 16.55, 33.1, 0.01]], np.float32)
    metres = disparity_to_depth_m(disparity, 441.3, 0.075)
    assert np.isnan(metres[0, 0])
    np.testing.assert_allclose(metres[0, 1:3], [2.0, 1.0], rtol=1e-3)
    mm = disparity_to_depth_mm(disparity, 441.3, 0.075)
    assert mm.dtype == np.uint16
    assert mm[0].tolist()[:3] == [0, 2000, 1000] and mm[0, 3] == 65535


def test_disparity_colour_map_is_black_where_invalid():
    disparity = np.array([[0.0, 1.0, 48.0, 95.0, 200.0]], np.float32)
    bgr = colorize_disparity(disparity, 96)
    assert bgr.shape == (1, 5, 3) and bgr.dtype == np.uint8
    assert bgr[0, 0].tolist() == [0, 0, 0]
    assert bgr[0, 1, 0] > 100 and bgr[0, 1, 2] < 50       # near zero: blue
    assert bgr[0, 3, 2] > 100 and bgr[0, 3, 0] < 50       # near max: red
    assert bgr[0, 4].tolist() == colorize_disparity(np.float32([[96.0]]), 96)[0, 0].tolist()
