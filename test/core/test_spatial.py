import numpy as np
import pytest

from depthai_ros_bridge.core.camera_model import CameraModel
from depthai_ros_bridge.core.spatial import SpatialConfig, locate

CAMERA = CameraModel("right", 640, 400, 441.0, 441.0, 319.5, 199.5)


def test_object_on_a_far_wall_is_located_at_its_own_depth():
    depth = np.full((400, 640), 5.0, np.float32)          # wall
    depth[150:250, 300:380] = 2.0                          # object, 100 x 80 px at 2 m
    spatial = locate(depth, (300, 150, 380, 250), CAMERA, SpatialConfig())
    assert spatial.centre[2] == pytest.approx(2.0)
    u, v = 340, 200
    assert spatial.centre[0] == pytest.approx((u - CAMERA.cx) * 2.0 / CAMERA.fx)
    assert spatial.centre[1] == pytest.approx((v - CAMERA.cy) * 2.0 / CAMERA.fy)
    assert spatial.size[:2] == pytest.approx((80 * 2.0 / 441, 100 * 2.0 / 441))


def test_background_in_the_box_corners_does_not_move_the_median():
    depth = np.full((400, 640), 6.0, np.float32)
    yy, xx = np.mgrid[:400, :640]
    depth[(xx - 320) ** 2 + (yy - 200) ** 2 < 50 ** 2] = 1.5      # a disc filling the box centre
    spatial = locate(depth, (270, 150, 370, 250), CAMERA, SpatialConfig(bbox_scale=1.0))
    assert spatial.centre[2] == pytest.approx(1.5)


def test_depth_limits_and_missing_depth_give_no_position():
    depth = np.zeros((400, 640), np.float32)
    assert locate(depth, (0, 0, 100, 100), CAMERA, SpatialConfig()) is None
    depth[:] = 12.0
    assert locate(depth, (0, 0, 100, 100), CAMERA, SpatialConfig(depth_max_m=10.0)) is None


def test_device_millimetres_give_the_position_metres_give():
    rng = np.random.default_rng(3)
    depth_mm = rng.integers(1500, 2500, (400, 640)).astype(np.uint16)
    depth_mm[::7] = 0                                      # holes
    box, config = (200, 100, 330, 260), SpatialConfig(bbox_scale=0.8)
    in_mm = locate(depth_mm, box, CAMERA, config, metres_per_unit=0.001)
    in_m = locate(depth_mm.astype(np.float64) / 1000.0, box, CAMERA, config)
    assert in_mm.valid_pixels == in_m.valid_pixels
    np.testing.assert_allclose(in_mm.centre + in_mm.size, in_m.centre + in_m.size, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 2, 5, 10, 101, 1000])
def test_quantiles_equal_numpys_linear_interpolation(n):
    from depthai_ros_bridge.core.spatial import _quantile
    values = np.sort(np.random.default_rng(n).random(n).astype(np.float32))
    for q in (0.1, 0.5, 0.9):
        assert _quantile(values, q) == pytest.approx(float(np.quantile(values.astype(np.float64), q)), abs=1e-6)


def test_depth_extent_is_the_visible_surfaces_spread_over_the_whole_box():
    # A ball of radius 0.25 m at 2 m in front of a wall at 5 m: its visible surface spans 2.0..2.25 m.
    r, zc = 0.25, 2.25
    yy, xx = np.mgrid[:400, :640].astype(np.float32)
    x, y = (xx - CAMERA.cx) / CAMERA.fx, (yy - CAMERA.cy) / CAMERA.fy
    # ray-sphere intersection along (x, y, 1): nearest root of |t*(x,y,1) - (0,0,zc)|^2 = r^2
    a, b, c = x * x + y * y + 1, -2 * zc, zc * zc - r * r
    disc = b * b - 4 * a * c
    t = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
    depth = np.where(disc > 0, t, 5.0).astype(np.float32)
    half = r / (zc - r) * CAMERA.fx
    box = (CAMERA.cx - half, CAMERA.cy - half, CAMERA.cx + half, CAMERA.cy + half)
    spatial = locate(depth, box, CAMERA, SpatialConfig())
    assert spatial.centre[2] == pytest.approx(2.0, abs=0.05)       # the front, as the camera sees it
    assert 0.4 * r < spatial.size[2] < r             # the front half's spread, not 1-4 cm, not the wall
