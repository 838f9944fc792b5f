"""The simulated OAK's VideoEncoder, still capture (Gen1 `video` and `request_jpeg`) and the MJPEG a
camera sends instead of raw frames with <camera>.link_format mjpeg.

Both hand out what the real device sends: `dai.EncodedFrame`s (H.264/H.265 packets; a JPEG
still) with the sequence number and timestamp of the colour frame they encode.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import cv2
import depthai as dai
import numpy as np

from ..core.camera_model import CameraModel
from ..core.video_encoder import VideoEncoder
from ..core.video_spec import VideoSpec
from .base import DeviceError, Still
from .frames import SOCKETS

STILL_SIZE = (4056, 3040)          # the OAK-D colour sensor's (IMX378) full resolution
STILL_JPEG_QUALITY = 95
_PROFILE = {"h264": dai.EncodedFrame.Profile.AVC, "h265": dai.EncodedFrame.Profile.HEVC}


def encoded_frame(data: bytes, profile, frame_type, seq: int, timestamp: float, width: int, height: int,
                  quality: int = 0, bitrate_kbps: int = 0, socket=SOCKETS["rgb"]) -> dai.EncodedFrame:
    """An EncodedFrame as the device's encoder sends it."""
    ef = dai.EncodedFrame()
    # cast: depthai's stub types the uint8-array overload as numpy.ndarray[numpy.uint8], which no
    # array matches (ndarray's first parameter is its shape).
    ef.setData(cast(Any, np.frombuffer(data, np.uint8)))
    ef.setProfile(profile)
    ef.setFrameType(frame_type)
    ef.setSequenceNum(seq)
    ef.setTimestamp(timedelta(seconds=timestamp))
    ef.setWidth(width)
    ef.setHeight(height)
    ef.setQuality(quality)
    ef.setBitrate(bitrate_kbps * 1000)
    ef.setInstanceNum(int(socket))
    return ef


def mjpeg_frame(pixels: np.ndarray, seq: int, timestamp: float, socket, quality: int) -> dai.EncodedFrame:
    """What the OAK's MJPEG encoder of a camera with link_format mjpeg sends (device/oak/encoders.py, the
    encoder's `out`): the frame as a JPEG at compressed.jpeg_quality, with its sequence number, timestamp
    and socket. OpenCV's colour JPEG is 4:2:0, as the OAK's (it encodes NV12)."""
    ok, jpeg = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DeviceError(f"JPEG encoding of a {pixels.shape[1]}x{pixels.shape[0]} frame failed")
    return encoded_frame(jpeg.tobytes(), dai.EncodedFrame.Profile.JPEG, dai.EncodedFrame.FrameType.I, seq, timestamp,
                         pixels.shape[1], pixels.shape[0], quality=quality, socket=socket)


def truncated(frame: dai.EncodedFrame) -> dai.EncodedFrame:
    """The JPEG cut to half its bytes, same metadata: what a failing link delivers (sim.fault corrupt)."""
    data = bytes(frame.getData())
    return encoded_frame(data[: len(data) // 2], frame.getProfile(), frame.getFrameType(), frame.getSequenceNum(),
                         frame.getTimestamp().total_seconds(), frame.getWidth(), frame.getHeight(),
                         frame.getQuality(), socket=dai.CameraBoardSocket(frame.getInstanceNum()))


class SimVideoEncoder:
    """Encodes the colour frames while `wanted` (someone subscribes): a real encoder costs host CPU
    the OAK's hardware encoder doesn't. Each (re)start begins with a key frame. pts = the colour
    frame's sequence number, so it increases across restarts. Called on the capture thread."""

    def __init__(self, spec: VideoSpec, width: int, height: int, fps: float):
        self.spec, self._size, self._fps = spec, (width, height), fps
        self.wanted = False
        self._encoder: VideoEncoder | None = None
        self._stamps: dict[int, float] = {}          # pts -> timestamp, until its packet leaves (B-frames)
        self.encode_s = 0.0                          # time spent encoding, for the bench and /diagnostics
        self.encoded = 0

    def close(self) -> None:
        """Free the encoder now (x264/x265 keep worker threads until their context is freed)."""
        self._encoder, self._stamps = None, {}

    def encode(self, image: np.ndarray, seq: int, timestamp: float) -> list[dai.EncodedFrame]:
        if not self.wanted:
            self._encoder, self._stamps = None, {}
            return []
        began = time.perf_counter()
        if self._encoder is None:
            self._encoder = VideoEncoder(self.spec, *self._size, self._fps)
        self._stamps[seq] = timestamp
        packets = self._encoder.encode(image, seq)
        self.encode_s += time.perf_counter() - began
        self.encoded += 1
        out = []
        for p in packets:
            kind = dai.EncodedFrame.FrameType.I if p.keyframe else dai.EncodedFrame.FrameType.P
            out.append(encoded_frame(p.data, _PROFILE[self.spec.codec], kind, p.pts, self._stamps.pop(p.pts, timestamp),
                                     *self._size, self.spec.quality, self.spec.bitrate_kbps))
        return out


class SimStillCamera:
    """request_jpeg: renders the scene at the sensor's full resolution at the instant of a colour
    frame, on its own thread (streams keep flowing), one capture at a time."""

    def __init__(self, render: Callable[[CameraModel, int], np.ndarray], rgb: CameraModel):
        self._render = render
        self.camera = rgb.scaled(*STILL_SIZE)
        self._busy = threading.Lock()                # held from request until the still is delivered
        self._pending: Callable[[Still | Exception], None] | None = None

    def request(self, on_done: Callable[[Still | Exception], None]) -> None:
        """Ask for a still of the next colour frame's instant; DeviceError if one is already in progress."""
        if not self._busy.acquire(blocking=False):
            raise DeviceError("a still capture is already in progress")
        self._pending = on_done

    def on_colour_frame(self, seq: int, timestamp: float) -> None:
        """Called by the capture thread for each colour frame: starts a requested capture of its instant."""
        on_done, self._pending = self._pending, None
        if on_done is None:
            return
        threading.Thread(target=self._run, args=(seq, timestamp, on_done), name="sim-oak-still",
                         daemon=True).start()

    def cancel(self) -> None:
        """The device stopped: a requested capture that never started is answered with why."""
        on_done, self._pending = self._pending, None
        if on_done is not None:
            self._busy.release()
            on_done(DeviceError("the device stopped before the still was taken"))

    def _run(self, seq: int, timestamp: float, on_done) -> None:
        try:
            try:
                image = self._render(self.camera, seq)
                ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, STILL_JPEG_QUALITY])
                if not ok:
                    raise DeviceError("JPEG encoding of the still failed")
                result: Still | Exception = Still(encoded_frame(
                    jpeg.tobytes(), dai.EncodedFrame.Profile.JPEG, dai.EncodedFrame.FrameType.I, seq, timestamp,
                    *STILL_SIZE, quality=STILL_JPEG_QUALITY), self.camera, timestamp)
            except Exception as e:  # noqa: BLE001 - a failed still is reported to the caller, never raised here
                result = e
        finally:
            self._busy.release()
        try:
            on_done(result)
        except Exception:  # noqa: BLE001, S110 - the callback's failure must not kill this thread
            pass
