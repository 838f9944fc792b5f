"""dai.ImgFrame <-> numpy, for the frame types an OAK pipeline emits."""
from __future__ import annotations

from datetime import timedelta

import cv2
import depthai as dai
import numpy as np

T = dai.ImgFrame.Type
# Where each camera stream sits on an OAK-D class board (both backends stamp frames with it).
SOCKETS = {"rgb": dai.CameraBoardSocket.CAM_A, "left": dai.CameraBoardSocket.CAM_B,
           "right": dai.CameraBoardSocket.CAM_C}
_PLAIN = {T.GRAY8: (np.dtype(np.uint8), 1), T.RAW8: (np.dtype(np.uint8), 1), T.RAW16: (np.dtype(np.uint16), 1),
          T.BGR888i: (np.dtype(np.uint8), 3)}


def frame_array(frame: dai.ImgFrame) -> np.ndarray:
    """The frame's pixels as (h, w) or (h, w, 3) BGR; a view of the frame's buffer where the layout allows."""
    kind, h, w = frame.getType(), frame.getHeight(), frame.getWidth()
    data = frame.getData()
    plain = _PLAIN.get(kind)      # one lookup: hashing a depthai enum costs as much as the numpy work here
    if plain is not None:
        dtype, channels = plain
        stride, row_bytes = frame.getStride(), w * channels * dtype.itemsize
        rows = data[: h * stride].reshape(h, stride)
        if stride != row_bytes:
            rows = rows[:, :row_bytes]
        return rows.view(dtype).reshape((h, w) if channels == 1 else (h, w, channels))
    if kind == T.BGR888p:
        return data[: 3 * h * w].reshape(3, h, w).transpose(1, 2, 0)
    if kind == T.NV12:
        return cv2.cvtColor(data[: h * w * 3 // 2].reshape(h * 3 // 2, w), cv2.COLOR_YUV2BGR_NV12)
    raise ValueError(f"unsupported ImgFrame type {kind.name}")


def make_frame(pixels: np.ndarray, kind: dai.ImgFrame.Type, seq: int, timestamp: float,
               socket: dai.CameraBoardSocket = dai.CameraBoardSocket.CAM_A) -> dai.ImgFrame:
    """An ImgFrame as a device would send it: pixels, type, size, sequence number, timestamp."""
    frame = dai.ImgFrame()
    frame.setFrame(np.ascontiguousarray(pixels))
    frame.setType(kind)
    frame.setWidth(pixels.shape[1])
    frame.setHeight(pixels.shape[0])
    frame.setStride(pixels.strides[0])
    frame.setSequenceNum(seq)
    frame.setTimestamp(timedelta(seconds=timestamp))
    frame.setInstanceNum(int(socket))
    return frame
