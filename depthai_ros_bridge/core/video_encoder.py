"""H.264 / H.265 encoding of colour frames with a real encoder (PyAV: libx264 / libx265).

ROS- and DepthAI-free. The simulated OAK uses it where a real OAK runs its on-device
VideoEncoder, with the same settings (the Gen1 `video` config: core.spec.VideoSpec).
Packets come out in decode order, each with the pts of the frame it carries and whether it
is a key frame (an IDR: a decoder can start there), which is what image_transport's ffmpeg
plugin needs (ffmpeg_image_transport's subscriber waits for a packet with flags != 0).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import av
import cv2
import numpy as np

from .video_spec import VideoSpec

# FFMPEGPacket.encoding is FFmpeg's codec name (ffmpeg_image_transport picks its decoder by it).
ENCODINGS = {"h264": "h264", "h265": "hevc"}
# Literal values: PyAV's stubs then type CodecContext.create's result as a VideoCodecContext.
_ENCODERS: dict[str, Literal["libx264", "libx265"]] = {"h264": "libx264", "h265": "libx265"}
_PROFILES = {"h264_baseline": "baseline", "h264_main": "main", "h264_high": "high", "h265_main": "main"}
KEY_FLAG = 1        # AV_PKT_FLAG_KEY, the value FFMPEGPacket.flags carries for a key frame


@dataclass(frozen=True)
class Packet:
    data: bytes
    pts: int            # index of the frame it carries (presentation order)
    keyframe: bool


def crf_of_quality(quality: int) -> float:
    """VBR: Gen1's quality 1..100 as x264/x265's constant rate factor (51 = worst .. 12 = near lossless)."""
    return round(51.0 - (min(max(quality, 1), 100) - 1) * 39.0 / 99.0, 1)


def _x26x_params(spec: VideoSpec) -> dict[str, str]:
    """Encoder-private settings that keep the GOP exactly what the parameters say."""
    kbps = spec.bitrate_kbps
    p = {"keyint": str(spec.keyframe_frequency), "min-keyint": str(spec.keyframe_frequency),
         "scenecut": "0", "bframes": str(spec.num_b_frames)}
    if spec.rate_control == "cbr":
        # Constant bit rate: ABR at the target with a 1 s VBV buffer of the same rate.
        p.update({"bitrate": str(kbps), "vbv-maxrate": str(kbps), "vbv-bufsize": str(kbps)})
        if spec.codec == "h264":
            p["nal-hrd"] = "cbr"
        else:
            p["strict-cbr"] = "1"
    else:
        # Variable bit rate: quality-driven (CRF), capped at bitrate_kbps.
        p.update({"crf": str(crf_of_quality(spec.quality)), "vbv-maxrate": str(kbps), "vbv-bufsize": str(2 * kbps)})
    if spec.codec == "h264":
        p["open-gop"] = "0"         # every key frame is an IDR
    else:
        p.update({"open-gop": "0", "log-level": "error", "repeat-headers": "1"})   # VPS/SPS/PPS at each key frame
    return p


class VideoEncoder:
    """One encoder session: frames in (BGR, fixed size), packets out. Start a new one to restart
    the stream at a key frame (a new subscriber after none)."""

    def __init__(self, spec: VideoSpec, width: int, height: int, fps: float):
        if width % 2 or height % 2:
            raise ValueError(f"video needs an even frame size, got {width}x{height}")
        self.spec, self.width, self.height = spec, width, height
        self.encoding = ENCODINGS[spec.codec]
        ctx = av.CodecContext.create(_ENCODERS[spec.codec], "w")
        ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
        rate = Fraction(fps).limit_denominator(1001)
        ctx.time_base, ctx.framerate = 1 / rate, rate          # pts counts frames
        ctx.gop_size = spec.keyframe_frequency
        ctx.max_b_frames = spec.num_b_frames
        ctx.profile = _PROFILES[spec.profile]
        params = _x26x_params(spec)
        # ultrafast + zerolatency: a host CPU stands in for the OAK's hardware encoder and must keep
        # up with the stream; B-frames (when asked for) need the look-ahead zerolatency turns off.
        options = {"preset": "ultrafast"}
        if spec.num_b_frames == 0:
            options["tune"] = "zerolatency"
        if spec.codec == "h264":
            options["x264-params"] = ":".join(f"{k}={v}" for k, v in params.items())
        else:
            options["x265-params"] = ":".join(f"{k}={v}" for k, v in params.items())
        ctx.options = options
        ctx.open()
        self._ctx = ctx
        self._closed = False

    def encode(self, bgr: np.ndarray, pts: int) -> list[Packet]:
        """Encode one frame (pts: its index, increasing); returns the packets the encoder has ready
        (none while it holds frames back for B-frames)."""
        if bgr.shape != (self.height, self.width, 3) or bgr.dtype != np.uint8:
            raise ValueError(f"expected a {self.width}x{self.height} BGR uint8 frame, got {bgr.shape} {bgr.dtype}")
        # OpenCV's I420 conversion (BT.601, video range, what decoders assume when untagged) is ~3x
        # faster than swscale's from bgr24.
        i420 = cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2YUV_I420)
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts = pts
        return self._packets(self._ctx.encode(frame))

    def flush(self) -> list[Packet]:
        """The frames still held back (B-frames); the encoder takes no more after this."""
        if self._closed:
            return []
        self._closed = True
        return self._packets(self._ctx.encode(None))

    @staticmethod
    def _packets(packets) -> list[Packet]:
        return [Packet(bytes(p), int(p.pts), bool(p.is_keyframe)) for p in packets]
