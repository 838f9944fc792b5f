"""Depth alignment: right-camera depth re-projected into the colour camera."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from depthai_ros_bridge.core.align import align_depth
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene

RIG = oakd_rig((1280, 720), (640, 400))
RGB_AT_DEPTH_SIZE = RIG.rgb.scaled(640, 360)     # what stereo.align: rgb aligns to


def reference_align(depth_m, source, target):
    """The plain per-point version: project every point, keep the nearest per pixel, fill pinholes."""
    v, u = np.nonzero(depth_m)
    points = source.backproject(u, v, depth_m[v, u]) + np.subtract(source.position, target.position)
    pixels = np.round(target.project(points)).astype(np.int64)
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < target.width) & (pixels[:, 1] >= 0) & \
             (pixels[:, 1] < target.height) & (points[:, 2] > 0)
    nearest = np.full(target.width * target.height, np.inf, np.float32)
    np.minimum.at(nearest, pixels[inside, 1] * target.width + pixels[inside, 0], points[inside, 2].astype(np.float32))
    aligned = np.where(np.isfinite(nearest), nearest, 0).astype(np.float32).reshape(target.height, target.width)
    inverse = np.divide(1.0, aligned, out=np.zeros_like(aligned), where=aligned > 0)
    filled = cv2.dilate(inverse, np.ones((3, 3), np.uint8))
    holes = (aligned == 0) & (filled > 0)
    aligned[holes] = 1.0 / filled[holes]
    return aligned


def test_aligned_depth_matches_the_depth_rendered_from_the_target_camera():
    renderer = Renderer(Scene(7))
    seen_by_right = renderer.render(RIG.right, 1.5, mono=True).depth
    truth = renderer.render(RGB_AT_DEPTH_SIZE, 1.5).depth
    aligned = align_depth(np.where(np.isfinite(seen_by_right), seen_by_right, 0).astype(np.float32),
                          RIG.right, RGB_AT_DEPTH_SIZE)
    assert aligned.shape == truth.shape
    valid = aligned > 0
    assert valid.mean() > 0.999        # the right camera sees (nearly) all the colour camera does
    rel = np.abs(aligned - truth)[valid] / truth[valid]
    assert np.median(rel) < 0.001
    assert np.mean(rel > 0.05) < 0.005     # wrong surface only along depth edges
    # Away from depth edges, only the rounding to whole pixels is left.
    spread = cv2.dilate(truth, np.ones((5, 5))) - cv2.erode(truth, np.ones((5, 5)))
    smooth = valid & (spread < 0.02 * truth)
    assert np.abs(aligned - truth)[smooth].max() < 0.02 * truth[smooth].max()
    assert (np.abs(aligned - truth) / truth)[smooth].max() < 0.02


def test_the_nearest_surface_wins_and_pinholes_are_filled():
    depth = np.full((RIG.right.height, RIG.right.width), 4.0, np.float32)
    depth[180:220, 300:340] = 1.0          # a near square, shifted over the background behind it
    aligned = align_depth(depth, RIG.right, RGB_AT_DEPTH_SIZE)
    target = RGB_AT_DEPTH_SIZE

    def column(u: float, z: float) -> float:
        return target.fx * ((u - RIG.right.cx) / RIG.right.fx + 0.0375 / z) + target.cx

    v0, v1 = (round(target.fy * (v - RIG.right.cy) / RIG.right.fy + target.cy) for v in (180, 219))
    u0, u1 = round(column(300, 1.0)), round(column(339, 1.0))
    # Background points land on the square's footprint too: the square hides them. (Through a column
    # the magnification leaves empty, a lone background point still shows, as in any forward warp.)
    assert np.mean(aligned[v0:v1 + 1, u0:u1 + 1] == 1.0) > 0.95
    assert set(np.unique(aligned)) <= {0.0, 1.0, 4.0}
    # Inside the image, the only gap is the background the square uncovers on its left.
    rows, cols = np.nonzero(aligned[20:-20, 40:-40] == 0)
    assert rows.size and v0 <= rows.min() + 20 and rows.max() + 20 <= v1
    assert round(column(300, 4.0)) <= cols.min() + 40 and cols.max() + 40 < u0


@pytest.mark.parametrize("offset", [(0.0, 0.0, 0.0), (0.0, 0.01, 0.02)])
def test_matches_the_per_point_scatter_exactly(offset):
    rng = np.random.default_rng(3)
    depth = rng.uniform(0.3, 6.0, (RIG.right.height, RIG.right.width)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.2] = 0           # no data
    target = replace(RGB_AT_DEPTH_SIZE, position=tuple(np.add(RGB_AT_DEPTH_SIZE.position, offset)))
    np.testing.assert_array_equal(align_depth(depth, RIG.right, target), reference_align(depth, RIG.right, target))
