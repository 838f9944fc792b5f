"""Depth colours over the scene's own range; the metre scale bar."""
import numpy as np

from depthai_ros_bridge.core.colour import colorize, colorize_scene, metre_scale_bar, valid_range


def test_range_is_the_valid_pixels_percentiles():
    values = np.zeros((40, 40), np.uint16)
    values[:, :20] = 100
    values[:, 20:36] = 200          # columns 36..39 stay 0: no data, not part of the range
    low, high = valid_range(values)
    assert (low, high) == (100.0, 200.0)
    assert valid_range(np.zeros((8, 8), np.uint16)) is None
    assert valid_range(np.full((8, 8), np.nan, np.float32)) is None


def test_near_is_red_far_is_blue_no_data_black_for_disparity_and_depth():
    disparity = np.array([[10, 20, 0]], np.uint16)
    bgr = colorize(disparity, 10, 20)
    assert bgr[0, 1, 2] > 100 and bgr[0, 1, 0] < 50        # largest disparity (nearest): red
    assert bgr[0, 0, 0] > 100 and bgr[0, 0, 2] < 50        # smallest (farthest): blue
    assert bgr[0, 2].tolist() == [0, 0, 0]
    depth = np.array([[1.0, 3.0, np.nan]], np.float32)
    bgr = colorize(depth, 1.0, 3.0, near_is_high=False)
    assert bgr[0, 0, 2] > 100 and bgr[0, 1, 0] > 100 and bgr[0, 2].tolist() == [0, 0, 0]


def test_a_narrow_scene_uses_the_whole_map():
    # A room 2-4 m away: 9..18 px of 96 searched. Over 0..96 it would all be blue; here it spans red..blue.
    disparity = np.linspace(9, 18, 64 * 64).reshape(64, 64).astype(np.float32)
    bgr, span = colorize_scene(disparity)
    assert span[0] < 9.5 and span[1] > 17.5
    assert (bgr[..., 2] > 200).mean() > 0.1 and (bgr[..., 0] > 200).mean() > 0.1


def test_scale_bar_has_ticks_and_runs_red_to_blue():
    bar = metre_scale_bar(400, 0.8, 4.2)
    assert bar.shape == (28, 400, 3)
    assert bar[2, 0, 2] > 100 and bar[2, -1, 0] > 100
    assert (bar[:14] == 255).all(axis=2).any()               # white tick lines
