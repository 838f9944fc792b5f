"""Rendered images: right sizes and types, class colours on objects, exact ground truth."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from depthai_ros_bridge.core.sensors import MONO_RESOLUTIONS, RGB_RESOLUTIONS
from depthai_ros_bridge.sim.classes import CLASSES
from depthai_ros_bridge.sim.render import Renderer
from depthai_ros_bridge.sim.rig import oakd_rig
from depthai_ros_bridge.sim.scene import Scene


def hue_distance(a: np.ndarray, b: float) -> np.ndarray:
    d = np.abs(a.astype(int) - b) % 180            # OpenCV hue: 0..179, circular
    return np.minimum(d, 180 - d)


def class_hsv(class_index: int) -> np.ndarray:
    return cv2.cvtColor(np.uint8([[CLASSES[class_index].bgr]]), cv2.COLOR_BGR2HSV)[0, 0]


@pytest.mark.parametrize("rgb_name", ["720p", "1080p"])
@pytest.mark.parametrize("mono_name", sorted(MONO_RESOLUTIONS))
def test_images_and_ground_truth_have_the_camera_size_and_types(rgb_name, mono_name, scene):
    rig = oakd_rig(RGB_RESOLUTIONS[rgb_name], MONO_RESOLUTIONS[mono_name])
    renderer = Renderer(scene)
    for camera, mono in ((rig.rgb, False), (rig.left, True), (rig.right, True)):
        result = renderer.render(camera, 1.0, mono)
        shape = (camera.height, camera.width)
        assert result.image.shape == (shape if mono else shape + (3,))
        assert result.image.dtype == np.uint8
        assert result.depth.shape == shape and result.depth.dtype == np.float32
        assert result.mask.shape == shape and result.mask.dtype == np.int16
        assert np.isfinite(result.depth).all()       # the room is closed
        assert set(np.unique(result.mask)) == {-1, *range(len(result.objects))}


def test_objects_show_their_saturated_class_hue_on_a_grey_room(views):
    hsv = cv2.cvtColor(views["rgb"].image, cv2.COLOR_BGR2HSV)
    mask = views["rgb"].mask
    for obj in views["rgb"].objects:
        pixels = hsv[mask == obj.index]
        expected = class_hsv(obj.class_index)
        assert np.median(hue_distance(pixels[:, 0], expected[0])) <= 2, obj.label
        assert np.percentile(hue_distance(pixels[:, 0], expected[0]), 95) <= 6, obj.label
        assert np.median(pixels[:, 1]) > 150, obj.label
    assert np.percentile(hsv[mask == -1][:, 1], 99) < 60


def test_mono_views_show_the_scene_luminance(views):
    """Mono pixels are the luminance of the colour the scene has there: an object's mono
    brightness relative to the room matches its grey level in the colour view."""
    rgb_gray = cv2.cvtColor(views["rgb"].image, cv2.COLOR_BGR2GRAY)
    rgb_mask, mono, mono_mask = views["rgb"].mask, views["right"].image, views["right"].mask
    for obj in views["rgb"].objects:
        colour_level = np.mean(rgb_gray[rgb_mask == obj.index])
        mono_level = np.mean(mono[mono_mask == obj.index])
        assert mono_level == pytest.approx(colour_level, rel=0.1), obj.label


def test_every_object_is_in_all_three_views_and_mostly_unoccluded(views, scene, rig, view_time):
    for name, result in views.items():
        camera = getattr(rig, name)
        for obj, box in zip(result.objects, result.boxes):
            assert box is not None, (name, obj.label)
            # Rendered alone, the object covers hardly more pixels: nothing hides it.
            alone = Renderer(Scene(scene.seed, tracks=[scene.tracks[obj.index]]))
            alone_box = alone.render(camera, view_time, name != "rgb").boxes[0]
            assert box.pixels >= 0.9 * alone_box.pixels, (name, obj.label)
            # ... and none of it leaves the image.
            assert 0 < box.x0 and box.x1 < camera.width and 0 < box.y0 and box.y1 < camera.height


def test_boxes_and_depth_agree_with_each_objects_3d_pose(views, rig):
    for name, result in views.items():
        camera = getattr(rig, name)
        for obj, box in zip(result.objects, result.boxes):
            rows, cols = np.nonzero(result.mask == obj.index)
            assert (box.x0, box.y0, box.x1, box.y1) == (cols.min(), rows.min(),
                                                        cols.max() + 1, rows.max() + 1)
            assert box.pixels == rows.size
            u, v = camera.project(camera.to_camera(obj.centre))
            assert box.x0 <= u < box.x1 and box.y0 <= v < box.y1
            radius = np.linalg.norm(obj.size) / 2
            z = result.depth[rows, cols]
            centre_z = obj.centre[2] - camera.position[2]
            assert np.all((z > centre_z - radius) & (z < centre_z + radius)), (name, obj.label)


def test_same_seed_and_time_render_identically_and_time_moves_objects(rig, views, scene,
                                                                     view_time):
    again = Renderer(Scene(scene.seed)).render(rig.rgb, view_time)
    np.testing.assert_array_equal(again.image, views["rgb"].image)
    np.testing.assert_array_equal(again.depth, views["rgb"].depth)
    np.testing.assert_array_equal(again.mask, views["rgb"].mask)
    later = Renderer(Scene(scene.seed)).render(rig.rgb, view_time + 0.5)
    for before, after in zip(views["rgb"].boxes, later.boxes):
        assert before != after
    assert np.mean(later.mask != views["rgb"].mask) > 0.001
