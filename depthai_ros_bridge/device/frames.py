"""dai.ImgFrame <-> numpy, for the frame types an OAK pipeline emits; a camera's MJPEG (dai.EncodedFrame,
<camera>.link_format mjpeg) -> numpy by decoding it."""
from __future__ import annotations

from datetime import timedelta

import cv2
import depthai as dai
import numpy as np

T = dai.ImgFrame.Type
# Where each camera stream sits on an OAK-D class board (both backends stamp frames with it).
SOCKETS = {"rgb": dai.CameraBoardSocket.CAM_A, "left": dai.CameraBoardSocket.CAM_B,
           "right": dai.CameraBoardSocket.CAM_C}
# Types read as plain rows of `channels` values of `dtype`.
_PLAIN: dict[dai.ImgFrame.Type, tuple[np.dtype, int]] = {
    T.GRAY8: (np.dtype(np.uint8), 1), T.RAW8: (np.dtype(np.uint8), 1), T.RAW16: (np.dtype(np.uint16), 1),
    T.BGR888i: (np.dtype(np.uint8), 3)}


class CorruptFrame(ValueError):
    """A frame whose data does not hold what its size and type say (truncated, wrong stride)."""


def _needed_bytes(kind, w: int, h: int, stride: int) -> int | None:
    """Bytes a frame of this type and size must hold; None for a type we don't read."""
    plain = _PLAIN.get(kind)
    if plain is not None:
        dtype, channels = plain
        return h * stride if stride >= w * channels * dtype.itemsize else -1
    if kind == T.BGR888p:
        return 3 * h * w
    if kind == T.NV12:
        return h * w * 3 // 2
    return None


def frame_is_intact(frame: dai.ImgFrame | dai.EncodedFrame) -> bool:
    """Whether the frame's data holds width x height pixels of its type (a truncated or
    mis-sized frame, as a failing link or `sim.fault corrupt` makes, is not). A JPEG: whether it
    runs from its start-of-image to its end-of-image marker (a truncated one lacks the end)."""
    w, h = frame.getWidth(), frame.getHeight()
    if isinstance(frame, dai.EncodedFrame):
        data = frame.getData()
        return w > 0 and h > 0 and len(data) > 4 and bytes(data[:2]) == b"\xff\xd8" and bytes(data[-2:]) == b"\xff\xd9"
    needed = _needed_bytes(frame.getType(), w, h, frame.getStride())
    return needed is not None and needed >= 0 and w > 0 and h > 0 and len(frame.getData()) >= needed


def frame_array(frame: dai.ImgFrame) -> np.ndarray:
    """The frame's pixels as (h, w) or (h, w, 3) BGR; a view of the frame's buffer where the layout allows.
    CorruptFrame if the data is shorter than the frame's size and type need."""
    kind, h, w = frame.getType(), frame.getHeight(), frame.getWidth()
    data = frame.getData()
    plain = _PLAIN.get(kind)      # one lookup: hashing a depthai enum costs as much as the numpy work here
    if plain is not None:
        dtype, channels = plain
        stride, row_bytes = frame.getStride(), w * channels * dtype.itemsize
        if stride < row_bytes or len(data) < h * stride or w <= 0 or h <= 0:
            raise CorruptFrame(f"{kind.name} frame {w}x{h} (stride {stride}) has {len(data)} bytes")
        rows = data[: h * stride].reshape(h, stride)
        if stride != row_bytes:
            rows = rows[:, :row_bytes]
        return rows.view(dtype).reshape((h, w) if channels == 1 else (h, w, channels))
    if kind in (T.BGR888p, T.NV12):
        needed = _needed_bytes(kind, w, h, 0)
        assert needed is not None, "BGR888p and NV12 have a size-only byte count"
        if len(data) < needed:
            raise CorruptFrame(f"{kind.name} frame {w}x{h} has {len(data)} bytes")
    if kind == T.BGR888p:
        return data[: 3 * h * w].reshape(3, h, w).transpose(1, 2, 0)
    if kind == T.NV12:
        return cv2.cvtColor(data[: h * w * 3 // 2].reshape(h * 3 // 2, w), cv2.COLOR_YUV2BGR_NV12)
    raise ValueError(f"unsupported ImgFrame type {kind.name}")


def decode_jpeg(frame: dai.EncodedFrame) -> np.ndarray:
    """A device-encoded JPEG's pixels as frame_array gives a raw frame's: (h, w, 3) BGR for colour, (h, w)
    for mono. CorruptFrame if it does not decode to the size the frame says."""
    pixels = cv2.imdecode(np.asarray(frame.getData(), np.uint8), cv2.IMREAD_UNCHANGED)
    w, h = frame.getWidth(), frame.getHeight()
    if pixels is None or pixels.shape[:2] != (h, w) or pixels.dtype != np.uint8:
        got = "nothing" if pixels is None else f"{pixels.shape[1]}x{pixels.shape[0]}"
        raise CorruptFrame(f"JPEG frame {w}x{h} ({len(frame.getData())} bytes) decodes to {got}")
    return pixels


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
