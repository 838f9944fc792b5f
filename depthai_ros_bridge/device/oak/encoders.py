"""The OAK's on-device encoders: H.264/H.265 of the colour camera (Gen1 `video`), MJPEG of each
camera for `~/<camera>/image_raw/compressed`, and the full-resolution still (Gen1 `request_jpeg`).

The settings map from the spec in pure functions (tested offline; `dai.Pipeline(False)` refuses
VideoEncoder and Camera nodes), and `add_encoders` records them in the graph the dry run prints.
Setters: depthai-core include/depthai/pipeline/node/VideoEncoder.hpp (setProfile, setBitrateKbps,
setKeyframeFrequency, setNumBFrames, setQuality, setRateControlMode, setFrameRate). The host reads each
encoder's `out` (dai.EncodedFrame: profile, frame type, sequence number) -- what outputs.py, ros/video.py
and StillGate read and the simulator sends; `bitstream` (the same header's other, mutually exclusive
output) would hand over ImgFrames of type BITSTREAM without them.
With <camera>.link_format mjpeg the camera's MJPEG is its only frame on the link: queued under the
camera's own FrameSet key, grouped with its network's results like a raw frame (plan.PipelinePlan.mjpeg).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import depthai as dai

from ...core.video_spec import VideoSpec
from ..base import DeviceError, Still
from .plan import STEREO_OUTPUTS

Profile = dai.VideoEncoderProperties.Profile
RateControl = dai.VideoEncoderProperties.RateControlMode
PROFILES = {"h264_baseline": Profile.H264_BASELINE, "h264_main": Profile.H264_MAIN,
            "h264_high": Profile.H264_HIGH, "h265_main": Profile.H265_MAIN}
RATE_CONTROLS = {"cbr": RateControl.CBR, "vbr": RateControl.VBR}
STILL_FPS = 1.0          # the full-resolution output feeding the still encoder: ~1-2 MB/s of JPEG on the link
ENCODED_KEYS = ("video", "still")       # host queues of encoded frames (plus "mjpeg:<camera>" for raw links)


@dataclass(frozen=True)
class EncoderSettings:
    profile: dai.VideoEncoderProperties.Profile
    rate_control: dai.VideoEncoderProperties.RateControlMode
    bitrate_kbps: int
    keyframe_frequency: int
    num_b_frames: int
    quality: int
    fps: float

    def describe(self) -> dict:
        return {"profile": self.profile.name, "rate_control": self.rate_control.name, "bitrate_kbps": self.bitrate_kbps,
                "keyframe_frequency": self.keyframe_frequency, "num_b_frames": self.num_b_frames,
                "quality": self.quality, "fps": self.fps}

    def apply(self, encoder) -> None:
        encoder.setProfile(self.profile)
        encoder.setRateControlMode(self.rate_control)
        encoder.setBitrateKbps(self.bitrate_kbps)
        encoder.setKeyframeFrequency(self.keyframe_frequency)
        encoder.setNumBFrames(self.num_b_frames)
        encoder.setQuality(self.quality)
        encoder.setFrameRate(self.fps)


def video_settings(video: VideoSpec, fps: float) -> EncoderSettings:
    """The Gen1 video config as VideoEncoder settings (CBR: bitrate; VBR: quality, bitrate as the cap)."""
    return EncoderSettings(PROFILES[video.profile], RATE_CONTROLS[video.rate_control], video.bitrate_kbps,
                           video.keyframe_frequency, video.num_b_frames, video.quality, fps)


def mjpeg_settings(quality: int, fps: float) -> EncoderSettings:
    """MJPEG for image_raw/compressed at compressed.jpeg_quality (fixed when the pipeline is built)."""
    return EncoderSettings(Profile.MJPEG, RateControl.CBR, 0, 1, 0, quality, fps)


def add_encoders(g, out: dict, cams: dict, spec, still_camera: str | None = "rgb") -> dict:
    """VideoEncoder nodes on the camera outputs `out` (graph Ports), recorded in graph `g`; their host
    queues by FrameSet.encoded key."""
    from .graph import Port  # graph imports this module

    queues = {}

    def encoder(name: str, source: Port, settings: EncoderSettings, key: str) -> None:
        node = g.node(name, dai.node.VideoEncoder, **settings.describe())
        if node is not None:
            settings.apply(node)
        g.link(source, Port(f"{name}.input", None if node is None else node.input))
        queues[key] = g.queue(key, Port(f"{name}.out", None if node is None else node.out))

    rgb = spec.streams["rgb"]
    if spec.enabled("rgb") and "rgb" in cams:
        # The encoders take NV12 (the rgb stream is BGR): a second output of the same size and geometry.
        name, undistort = "camera_rgb", bool(g.nodes["camera_rgb"]["outputs"]["rgb"]["undistorted"])
        g.nodes[name]["outputs"]["rgb_nv12"] = {"size": [rgb.width, rgb.height], "type": "NV12", "fps": rgb.fps,
                                                "undistorted": undistort}
        obj = None if cams["rgb"] is None else cams["rgb"].requestOutput(
            (rgb.width, rgb.height), dai.ImgFrame.Type.NV12, fps=rgb.fps, enableUndistortion=undistort)
        out["rgb_nv12"] = Port(f"{name}.rgb_nv12", obj)
    if spec.video.enabled and "rgb_nv12" in out:
        encoder("video_encoder", out["rgb_nv12"], video_settings(spec.video, rgb.fps), "video")
    for camera in ("rgb", "left", "right"):
        if not spec.enabled(camera):
            continue
        # Mono: what image_raw carries (rectified when stereo runs), GRAY8, which the encoder takes.
        source = "rgb_nv12" if camera == "rgb" else (f"stereo.{STEREO_OUTPUTS[camera]}" if spec.enabled("stereo")
                                                     else camera)
        if source in out:
            encoder(f"mjpeg_{camera}", out[source], mjpeg_settings(spec.compressed.jpeg_quality,
                                                                   spec.streams[camera].fps),
                    camera if spec.mjpeg_link(camera) else f"mjpeg:{camera}")
    if still_camera and spec.enabled(still_camera) and still_camera in cams:
        # The sensor's largest output (depthai-core examples/python/Camera/camera_max_resolution.py) at a
        # low rate; the host keeps the newest and hands out the first one after a request.
        name = f"camera_{still_camera}"
        cam = cams[still_camera]
        g.nodes[name]["outputs"]["still"] = {"size": "full resolution", "fps": STILL_FPS}
        obj = None if cam is None else cam.requestFullResolutionOutput(fps=STILL_FPS, useHighestResolution=True)
        encoder("still_encoder", Port(f"{name}.still", obj), mjpeg_settings(95, STILL_FPS), "still")
    return queues


class StillGate:
    """Host side of the still: the newest full-resolution JPEG, handed to the request that came before it."""

    def __init__(self, camera_of_size):
        self._lock = threading.Lock()
        self._pending = None            # (on_done, requested after this sequence number)
        self._camera_of_size = camera_of_size     # (width, height) -> CameraModel at that size
        self.last_seq = -1

    def request(self, on_done) -> None:
        with self._lock:
            if self._pending is not None:
                raise DeviceError("a still capture is already in progress")
            self._pending = (on_done, self.last_seq)

    def add(self, frame: dai.EncodedFrame) -> None:
        with self._lock:
            self.last_seq = frame.getSequenceNum()
            pending = self._pending
            if pending is None or frame.getSequenceNum() <= pending[1]:
                return
            self._pending = None
        try:
            still = Still(frame, self._camera_of_size(frame.getWidth(), frame.getHeight()),
                          frame.getTimestamp().total_seconds())
        except Exception as e:  # noqa: BLE001 - reported to the caller
            pending[0](e)
            return
        pending[0](still)

    def cancel(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending[0](DeviceError("the device stopped before the still was taken"))
