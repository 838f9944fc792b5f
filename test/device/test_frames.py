import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.device.frames import T, frame_array, make_frame


@pytest.mark.parametrize("shape, dtype, kind", [
    ((400, 640), np.uint8, T.GRAY8), ((400, 640), np.uint16, T.RAW16), ((72, 128, 3), np.uint8, T.BGR888i)])
def test_frame_round_trips_pixels_and_metadata(shape, dtype, kind):
    pixels = np.random.default_rng(1).integers(0, 200, shape).astype(dtype)
    frame = make_frame(pixels, kind, seq=42, timestamp=12.25, socket=dai.CameraBoardSocket.CAM_C)
    np.testing.assert_array_equal(frame_array(frame), pixels)
    assert frame.getSequenceNum() == 42
    assert frame.getTimestamp().total_seconds() == 12.25
    assert frame.getInstanceNum() == int(dai.CameraBoardSocket.CAM_C)


def test_planar_bgr_is_returned_interleaved():
    pixels = np.random.default_rng(2).integers(0, 255, (3, 20, 30)).astype(np.uint8)
    frame = dai.ImgFrame()
    frame.setFrame(pixels)
    frame.setType(T.BGR888p)
    frame.setWidth(30)
    frame.setHeight(20)
    np.testing.assert_array_equal(frame_array(frame), pixels.transpose(1, 2, 0))
