"""The rig's cameras and the renderer agree on projective geometry."""
from __future__ import annotations

import math

import numpy as np
import pytest

from depthai_ros_bridge.sim.classes import LABELS
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import FLOOR_Y, ObjectTrack, Scene

MONO_800P_FX = 640 / math.tan(math.radians(71.9 / 2))


def static_box(x: float, front_z: float, size: tuple[float, float, float]) -> ObjectTrack:
    """A crate facing the rig squarely, its front face at z = front_z."""
    return ObjectTrack(LABELS.index("crate"), size, (x, front_z + size[2] / 2), 0.0, 0.0,
                       10.0, 0.0, 0.0, 0.0)


def test_focal_lengths_follow_the_fields_of_view_and_sensor_modes():
    rig400 = oakd_rig((1920, 1080), (640, 400))
    rig720 = oakd_rig((1280, 720), (1280, 720))
    rig800 = oakd_rig((3840, 2160), (1280, 800))
    assert rig800.left.fx == pytest.approx(MONO_800P_FX)
    assert rig720.left.fx == pytest.approx(MONO_800P_FX)        # 720p is a crop of 800p
    assert rig400.left.fx == pytest.approx(MONO_800P_FX / 2)    # 400p is 2x binned 800p
    assert (rig720.left.cx, rig720.left.cy) == pytest.approx((639.5, 359.5))
    assert rig400.rgb.hfov_deg == pytest.approx(68.7938)
    assert rig720.rgb.hfov_deg == pytest.approx(68.7938)
    assert rig400.rgb.fx == pytest.approx(rig720.rgb.fx * 1.5)


def test_cameras_sit_on_a_7_5_cm_baseline_with_rgb_3_75_cm_from_left():
    rig = oakd_rig((1280, 720), (640, 400))
    assert rig.left.position == pytest.approx((-0.0375, 0, 0))
    assert rig.right.position == pytest.approx((0.0375, 0, 0))
    assert rig.rgb.position[0] - rig.left.position[0] == pytest.approx(0.0375)
    assert (rig.rgb.width, rig.rgb.height, rig.left.width, rig.left.height) == (1280, 720, 640, 400)


def test_mono_modes_taller_than_the_sensor_are_refused():
    with pytest.raises(ValueError, match="height"):
        oakd_rig((1280, 720), (640, 480))


@pytest.mark.parametrize("point", [(0.3, FLOOR_Y, 2.5), (-1.2, FLOOR_Y, 3.7), (2.0, 0.2, 6.0)])
def test_room_point_projects_to_a_pixel_of_its_depth(rig, point):
    """Sub-pixel projection of a known floor / wall point lands where the rendered depth is
    the point's own z, in each camera (bilinear depth between the 4 nearest pixels)."""
    renderer = Renderer(Scene(0, tracks=[]))
    for camera, mono in ((rig.rgb, False), (rig.left, True), (rig.right, True)):
        depth = renderer.render(camera, 0.0, mono).depth
        u, v = camera.project(camera.to_camera(point))
        u0, v0 = int(u), int(v)
        a, b = u - u0, v - v0
        patch = depth[v0:v0 + 2, u0:u0 + 2]
        z = (patch[0, 0] * (1 - a) * (1 - b) + patch[0, 1] * a * (1 - b)
             + patch[1, 0] * (1 - a) * b + patch[1, 1] * a * b)
        assert z == pytest.approx(point[2], rel=2e-3), camera.name


def test_box_face_edges_project_to_the_rendered_silhouette(rig):
    """A crate squarely facing the rig, front face at 2 m: its front edges and the far edge
    of its top project exactly onto the first/last pixel centres the renderer covers."""
    size = (0.4, 0.3, 0.3)
    front_z = 2.0
    renderer = Renderer(Scene(0, tracks=[static_box(0.0, front_z, size)]))
    for camera, mono in ((rig.rgb, False), (rig.left, True), (rig.right, True)):
        result = renderer.render(camera, 0.0, mono)
        box = result.boxes[0]
        left_u, bottom_v = camera.project(camera.to_camera((-size[0] / 2, FLOOR_Y, front_z)))
        right_u, _ = camera.project(camera.to_camera((size[0] / 2, FLOOR_Y, front_z)))
        _, top_v = camera.project(camera.to_camera((0, FLOOR_Y - size[1], front_z + size[2])))
        assert (box.x0, box.x1 - 1) == (math.ceil(left_u), math.floor(right_u)), camera.name
        assert (box.y0, box.y1 - 1) == (math.ceil(top_v), math.floor(bottom_v)), camera.name
        front = result.depth[box.y1 - 2, box.x0:box.x1]
        np.testing.assert_allclose(front, front_z, rtol=1e-5)


def test_left_right_disparity_of_rendered_objects_is_f_b_over_z(views, rig):
    """Every object pixel of the right view, shifted by f*B/z, lands on the same object at
    the same depth in the left view (except where the left camera sees around an edge)."""
    right, left = views["right"], views["left"]
    fb = rig.right.fx * (rig.right.position[0] - rig.left.position[0])
    v, u = np.nonzero(right.mask >= 0)
    z = right.depth[v, u]
    u_left = np.rint(u + fb / z).astype(int)
    inside = u_left < left.mask.shape[1]
    v, u, z, u_left = v[inside], u[inside], z[inside], u_left[inside]
    same = left.mask[v, u_left] == right.mask[v, u]
    consistent = same & (np.abs(left.depth[v, u_left] - z) < 0.01 * z)
    assert consistent.mean() > 0.97
