import numpy as np
import pytest

from depthai_ros_bridge.nn.mapping import InputMapping


def _marked_frame(w, h, box):
    frame = np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = box
    frame[y0:y1, x0:x1] = 255
    return frame


def _box_in(image):
    ys, xs = np.nonzero(image > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float)


@pytest.mark.parametrize("mode", ["letterbox", "crop", "stretch"])
@pytest.mark.parametrize("src, nn", [((1280, 720), (320, 320)), ((640, 400), (416, 256)), ((300, 600), (320, 320))])
def test_a_box_seen_by_the_network_maps_back_onto_the_source_box(mode, src, nn):
    box = (src[0] * 2 // 5, src[1] // 3, src[0] * 3 // 5, src[1] * 2 // 3)   # central, inside every crop
    mapping = InputMapping.fit(*src, *nn, mode)
    seen = mapping.prepare(_marked_frame(*src, box))
    assert seen.shape == (nn[1], nn[0])
    normalised = _box_in(seen) / [nn[0], nn[1], nn[0], nn[1]]
    back = mapping.boxes_to_source(normalised)[0]
    # One network pixel is 1/scale source pixels: the round trip is exact to that.
    tolerance = 1.5 / min(mapping.scale_x, mapping.scale_y)
    np.testing.assert_allclose(back, box, atol=tolerance)


def test_letterbox_keeps_the_whole_frame_and_pads():
    m = InputMapping.fit(1280, 720, 320, 320, "letterbox")
    assert m.paste == (0, 70, 320, 250) and m.crop == (0, 0, 1280, 720)
    np.testing.assert_allclose(m.boxes_to_source([[0, 0, 1, 1]])[0], [0, 0, 1280, 720])


def test_crop_cuts_the_sides_and_boxes_outside_are_clipped():
    m = InputMapping.fit(1280, 720, 320, 320, "crop")
    assert m.crop == (280, 0, 1000, 720)
    np.testing.assert_allclose(m.boxes_to_source([[0, 0, 1, 1]])[0], [280, 0, 1000, 720])


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="letterbox, crop, stretch"):
        InputMapping.fit(10, 10, 5, 5, "zoom")
