"""Organized point clouds from depth: against CameraModel.backproject and the renderer's ground truth."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from depthai_ros_bridge.core.pointcloud import CloudProjector, depth_metres
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene

RIG = oakd_rig((1280, 720), (640, 400))
RGB_AT_DEPTH_SIZE = RIG.rgb.scaled(640, 360)     # the depth camera with stereo.align: rgb


@pytest.fixture(scope="module")
def truth():
    """Ground-truth z-depth of the right camera (m, inf = nothing) and as the device sends it (mm, 0 = none)."""
    depth = Renderer(Scene(5)).render(RIG.right, 1.0, mono=True).depth
    return depth, np.where(np.isfinite(depth), np.rint(depth * 1000), 0).astype(np.uint16)


def test_depth_metres_marks_no_data_and_the_limit_as_nan():
    depth_mm = np.array([[0, 500, 2000, 2001]], np.uint16)
    np.testing.assert_array_equal(depth_metres(depth_mm), np.float32([[np.nan, 0.5, 2.0, 2.001]]))
    np.testing.assert_array_equal(depth_metres(depth_mm, 2.0), np.float32([[np.nan, 0.5, 2.0, np.nan]]))
    assert depth_metres(depth_mm).dtype == np.float32


def test_points_are_the_back_projected_pixels(truth):
    _, depth_mm = truth
    depth_m = depth_metres(depth_mm)
    points = CloudProjector(RIG.right).cloud(depth_m)
    assert points.shape == (400, 640, 3) and points.dtype == np.float32
    v, u = np.mgrid[0:400, 0:640]
    np.testing.assert_allclose(points, RIG.right.backproject(u, v, depth_m), rtol=1e-6, atol=1e-6)


def test_points_lie_on_the_rendered_surfaces(truth):
    depth, depth_mm = truth
    points = CloudProjector(RIG.right).cloud(depth_metres(depth_mm))
    valid = np.isfinite(depth)
    assert valid.mean() > 0.9
    # Each point is where its pixel's ray meets the scene: right z, and it projects onto its pixel.
    np.testing.assert_allclose(points[valid][:, 2], depth[valid], atol=0.0006)
    v, u = np.nonzero(valid)
    np.testing.assert_allclose(RIG.right.project(points[valid]), np.stack([u, v], -1), atol=1e-3)
    assert np.isnan(points[~valid]).all()       # x, y and z of a pixel without depth


def test_depth_limit_leaves_nan_points(truth):
    _, depth_mm = truth
    points = CloudProjector(RIG.right).cloud(depth_metres(depth_mm, 2.0))
    far = depth_mm > 2000
    assert far.any() and np.isnan(points[far]).all()
    assert np.nanmax(points[..., 2]) <= 2.0


def test_colour_is_packed_as_depth_image_proc_does():
    model = RGB_AT_DEPTH_SIZE
    bgr = np.zeros((720, 1280, 3), np.uint8)
    bgr[...] = (10, 20, 30)                       # b, g, r
    points = CloudProjector(model).cloud(np.ones((360, 640), np.float32), bgr)
    assert points.shape == (360, 640, 4)
    packed = points[..., 3].copy().view(np.uint32)
    assert (packed == (30 << 16) | (20 << 8) | 10).all()      # 0x00RRGGBB


def test_colour_is_the_colour_image_area_resized_to_the_depth_size():
    model = RGB_AT_DEPTH_SIZE
    bgr = Renderer(Scene(5)).render(RIG.rgb, 1.0).image
    points = CloudProjector(model).cloud(np.ones((360, 640), np.float32), bgr)
    packed = points[..., 3].copy().view(np.uint32)
    colour = np.stack([packed & 0xFF, (packed >> 8) & 0xFF, (packed >> 16) & 0xFF], -1).astype(np.uint8)
    assert np.array_equal(colour, cv2.resize(bgr, (640, 360), interpolation=cv2.INTER_AREA))
    assert (packed >> 24 == 0).all()


def test_a_depth_image_of_another_size_is_refused():
    with pytest.raises(ValueError, match="640x400"):
        CloudProjector(RIG.right).cloud(np.ones((360, 640), np.float32))
