"""numpy frames -> ROS image encoding names (sensor_msgs/image_encodings), as cv_bridge maps them."""
from __future__ import annotations

import numpy as np

# (dtype, channels) -> encoding, as sensor_msgs/image_encodings names them.
_ENCODINGS = {
    (np.dtype(np.uint8), 1): "mono8",
    (np.dtype(np.uint8), 3): "bgr8",
    (np.dtype(np.uint16), 1): "16UC1",
    (np.dtype(np.float32), 1): "32FC1",
}


def encoding_of(frame: np.ndarray) -> str:
    channels = 1 if frame.ndim == 2 else frame.shape[2]
    try:
        return _ENCODINGS[(frame.dtype, channels)]
    except KeyError:
        raise ValueError(f"no image encoding for {frame.dtype} with {channels} channels") from None
