"""The spec -> which camera outputs the pipeline requests and which host queues it reads (pure)."""
from __future__ import annotations

from dataclasses import dataclass

import depthai as dai

from ...core.spec import PipelineSpec
from ..frames import T
from .sensors import ConnectedCamera, bandwidth_check, cameras_used, check_cameras

STEREO_OUTPUTS = {"left": "rectifiedLeft", "right": "rectifiedRight", "depth": "depth", "disparity": "disparity"}


@dataclass(frozen=True)
class CameraOutput:
    camera: str                              # "rgb" | "left" | "right"
    size: tuple[int, int]
    fps: float
    type: dai.ImgFrame.Type | None           # None: the camera's choice (only its metadata is used)
    undistort: bool = False                  # the Camera node undistorts it (enableUndistortion)


@dataclass(frozen=True)
class PipelinePlan:
    outputs: dict[str, CameraOutput]         # camera outputs to request, by name ("align": depth's align-to frame)
    streams: dict[str, str]                  # FrameSet key -> an `outputs` name or "stereo.<StereoDepth output>"
    depth_size: tuple[int, int] | None       # None: no stereo; after decimation
    usb_speed: dai.UsbSpeed
    cameras: tuple[str, ...] = ()            # camera streams whose sensor runs (their calibration is needed)
    # Camera streams whose frames cross the link only as the device's MJPEG (<camera>.link_format mjpeg):
    # no host queue of their raw output; the MJPEG encoder's output is queued under the stream's key.
    mjpeg: tuple[str, ...] = ()

    def frame_size(self, stream: str) -> tuple[int, int]:
        return self.outputs[stream].size

    def queue_sizes(self) -> dict[str, tuple[tuple[int, int], float]]:
        """FrameSet key -> (size, fps) of what the host receives, for the bandwidth estimate."""
        out = {}
        for key, source in self.streams.items():
            if source.startswith("stereo."):
                mono = self.outputs["left"]
                size = self.depth_size if key in ("depth", "disparity") else mono.size
                assert size is not None, "stereo.* streams are planned only with stereo, which sets depth_size"
                out[key] = (size, mono.fps)
            else:
                out[key] = (self.outputs[source].size, self.outputs[source].fps)
        return out

    def bandwidth(self, link: str) -> tuple[float, str | None]:
        return bandwidth_check(self.queue_sizes(), link, self.mjpeg)


def clock(key: str) -> str:
    """Which sensor's sequence numbers a FrameSet key (or "nn:<stream>") counts in: the colour
    camera's, or the synchronised mono pair's (StereoDepth's outputs carry the pair's)."""
    return "rgb" if key.removeprefix("nn:") == "rgb" else "mono"


def undistorted_rgb(spec: PipelineSpec) -> bool:
    """Whether the colour camera's outputs are undistorted on the device: when depth is aligned to
    it, so depth, colour and the coloured cloud share one pinhole geometry (depthai-core's RVC2
    align example, examples/python/ImageAlign/depth_align.py, requests the align-to frame with
    enableUndistortion=True). Otherwise colour is sent as the lens sees it, with its distortion
    in CameraInfo."""
    return spec.enabled("stereo") and spec.stereo.align == "rgb"


def plan_pipeline(spec: PipelineSpec, connected: list[ConnectedCamera] | None = None) -> PipelinePlan:
    """The pipeline's outputs for `spec`; with the device's `connected` cameras, first checks that
    they can give it (DeviceError naming the parameter and the sensor)."""
    if connected is not None:
        check_cameras(spec, connected)
    outputs, streams = {}, {}
    stereo = spec.enabled("stereo")
    undistort = undistorted_rgb(spec)
    for name, kind in (("rgb", T.BGR888i), ("left", T.GRAY8), ("right", T.GRAY8)):
        s = spec.streams[name]
        if s.enabled or (stereo and name != "rgb"):
            outputs[name] = CameraOutput(name, (s.width, s.height), s.fps, kind, undistort and name == "rgb")
        if s.enabled:
            streams[name] = f"stereo.{STEREO_OUTPUTS[name]}" if stereo and name != "rgb" else name
    size = None
    if stereo:
        size = spec.depth_size
        decimation = spec.stereo.post.decimation_factor if spec.stereo.post else 1
        size = (size[0] // decimation, size[1] // decimation)
        streams.update(depth="stereo.depth", disparity="stereo.disparity")
        if spec.stereo.align == "rgb":
            # Depth comes out at the size of the frame linked to StereoDepth.inputAlignTo: a small
            # undistorted output of the colour camera, the same centre crop of the sensor as the rgb stream.
            outputs["align"] = CameraOutput("rgb", size, spec.streams["rgb"].fps, None, True)
    return PipelinePlan(outputs, streams, size, dai.UsbSpeed.HIGH if spec.device.usb2_mode else dai.UsbSpeed.SUPER,
                        tuple(cameras_used(spec)), tuple(c for c in ("rgb", "left", "right") if spec.mjpeg_link(c)))
