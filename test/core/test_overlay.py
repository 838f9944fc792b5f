"""The overlay: a box per detection in its class colour, and a legible tag scaled to the image."""
from types import SimpleNamespace

import cv2
import numpy as np

from depthai_ros_bridge.core.overlay import class_colour, draw_overlay, label_text, text_style


def _det(label, box, score=0.87, z=None, track_id=""):
    spatial = SimpleNamespace(centre=(0.0, 0.0, z)) if z is not None else None
    return SimpleNamespace(label=label, score=score, box=box, spatial=spatial, track_id=track_id)


def test_text_and_lines_grow_with_the_image():
    small, large = text_style(400), text_style(1080)
    assert large[0] > small[0] and large[2] >= small[2]
    (_, th), _ = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, large[0], large[1])
    assert th >= 0.015 * 1080          # a line of text is >= 1.5 % of a 1080p frame's height


def test_box_in_class_colour_and_a_filled_tag_above_it():
    image = np.full((720, 1280, 3), 128, np.uint8)
    det = _det("person", (400, 300, 600, 650), z=2.345)
    out = draw_overlay(image, [det])
    assert out is not image and (image == 128).all()                 # the input is not drawn on
    colour = class_colour("person")
    assert tuple(out[475, 400]) == colour                              # left edge of the box
    tag = out[300 - 30:300 - 3, 402:560].reshape(-1, 3)
    is_colour = (tag == colour).all(axis=1).mean()
    assert is_colour > 0.5                                             # filled background
    ink = ((tag == 0).all(axis=1) | (tag == 255).all(axis=1)).mean()
    assert ink > 0.03                                                  # and text on it
    assert label_text(det) == "person 87% 2.35 m"


def test_tag_goes_inside_a_box_touching_the_top_and_mono_becomes_bgr():
    image = np.zeros((400, 640), np.uint8)
    out = draw_overlay(image, [_det("car", (10, 0, 200, 120), track_id="3")])
    assert out.shape == (400, 640, 3)
    assert (out[5:20, 15:100] == class_colour("car")).all(axis=2).mean() > 0.4
    assert label_text(_det("car", (0, 0, 1, 1), track_id="3")) == "#3 car 87%"
