"""The device seam: what the node needs from an OAK, real or simulated.

Both backends emit DepthAI's own message objects (`dai.ImgFrame`, later
`dai.ImgDetections` ...), so one set of converters serves both and the
simulator exercises the real device's downstream code.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import depthai as dai

from ..core.camera_model import CameraModel
from ..core.controls import CameraControlSpec, IRSpec
from ..core.imu import ImuInfo
from ..nn.deployment import Deployment
from ..nn.results import NNResult


class DeviceError(RuntimeError):
    """The device could not be opened, or failed while running."""


class DeviceLost(DeviceError):
    """The device vanished while running (X_LINK error, unplugged, closed link): the same device
    may be found again, so recovery retries opening it."""


@dataclass(frozen=True)
class DeviceInfo:
    kind: str   # backend name: "sim" | "oak"
    id: str     # MXID / serial / IP
    name: str   # product name


@dataclass(frozen=True)
class StereoGeometry:
    """What turns the device's raw disparity into pixels and metres."""

    focal_px: float          # of the camera depth is aligned to, at the depth resolution
    baseline_m: float
    max_disparity: float     # largest disparity searched, pixels
    units_per_px: int     # raw disparity units per pixel: 1, or 2**fractional bits with subpixel


@dataclass
class FrameSet:
    """Frames captured at one instant: they share `seq` and `timestamp`.

    `frames` keys: "rgb", "left", "right", "depth" (RAW16, mm) and "disparity"
    (RAW16, pixels x units_per_px); only those the pipeline produces this tick. A camera whose
    <camera>.link_format is mjpeg has its device-encoded JPEG there instead (a dai.EncodedFrame,
    profile JPEG): frames.decode_jpeg gives its pixels.
    """

    seq: int
    timestamp: float                      # seconds, host steady clock (device clock synced to it)
    frames: dict[str, dai.ImgFrame | dai.EncodedFrame] = field(default_factory=dict)
    nn: dict[str, NNResult] = field(default_factory=dict)   # stream -> its network's result on this frame
    # "video": H.264/H.265 packets the encoder finished this tick (0..n, decode order; each carries the
    # sequence number and timestamp of the colour frame it encodes); "mjpeg:<camera>": that camera's
    # frame encoded on the device (OAK) for ~/<camera>/image_raw/compressed.
    encoded: dict[str, list[dai.EncodedFrame]] = field(default_factory=dict)


@dataclass(frozen=True)
class Still:
    """request_jpeg's result: one full-resolution JPEG of the colour camera and its camera model."""

    frame: dai.EncodedFrame          # JPEG, with the sequence number and timestamp of its instant
    camera: CameraModel
    timestamp: float                 # exact timestamp of that instant (the frame's holds whole microseconds)


FrameCallback = Callable[[FrameSet], None]
ErrorCallback = Callable[[Exception], None]
ImuCallback = Callable[[dai.IMUData], None]


class DelegatedControls:
    """Camera controls and IR of a backend, served by its `controls` object (sim_controls.SimControls,
    oak.controls.OakControls), which holds the settings and applies them to its device."""

    controls: Any

    def control_problem(self, name: str, value) -> str | None:
        return self.controls.control_problem(name, value)

    def set_camera_control(self, camera: str, control: CameraControlSpec) -> None:
        self.controls.set_camera_control(camera, control)

    def set_ir(self, ir: IRSpec) -> None:
        self.controls.set_ir(ir)

    def trigger_autofocus(self) -> tuple[bool, str]:
        return self.controls.trigger_autofocus()

    @property
    def camera_controls(self) -> dict[str, CameraControlSpec]:
        return self.controls.camera_controls

    @property
    def ir(self) -> IRSpec:
        return self.controls.ir


class Device(Protocol):
    info: DeviceInfo
    cameras: dict[str, CameraModel]       # the cameras the pipeline runs ("rgb", "left", "right") at their
    #                                       resolutions, "stereo" = depth's camera; an OAK-1 has "rgb" only
    stereo: StereoGeometry | None
    imu: ImuInfo | None                   # the IMU the pipeline runs (imu.enabled), placed in the rig frame

    def start(self, on_frames: FrameCallback, on_error: ErrorCallback, on_imu: ImuCallback | None = None) -> None:
        """Start streaming; callbacks run on the device's own threads. A device that is lost
        while streaming (disconnected, reconnect failed, pipeline stopped) is reported once to
        on_error as a DeviceError. With an IMU, on_imu gets its dai.IMUData batches as they come
        (device/imu.py turns them into samples), on another path than the frames: never dropped
        with a frame set, never waiting for one."""

    def set_confidence_threshold(self, value: int) -> None:
        """Apply the disparity confidence threshold live."""

    # Camera controls (core/controls.py): live exposure, white balance, focus and IR. Read-only
    # (both backends expose them as properties): set_camera_control / set_ir change them.
    @property
    def camera_controls(self) -> dict[str, CameraControlSpec]:
        """Each camera's current settings."""

    @property
    def ir(self) -> IRSpec:
        """The IR dot projector and flood light as set."""

    def control_problem(self, name: str, value: object) -> str | None:
        """Why this device refuses a live control parameter's value (no IR illumination, a
        fixed-focus colour lens naming its sensor, the stereo pair's shared exposure), or None."""

    def set_camera_control(self, camera: str, control: CameraControlSpec) -> None:
        """Apply a camera's exposure / white balance / focus from its next frame; with stereo on,
        the left camera's exposure applies to the pair."""

    def set_ir(self, ir: IRSpec) -> None:
        """Set the IR dot projector and flood light (ValueError on a device without them)."""

    def trigger_autofocus(self) -> tuple[bool, str]:
        """Gen1 request_af_trigger: (started, what happens or why not). Never raises."""

    def deploy(self, stream: str, deployment: Deployment, workdir: Path) -> float:
        """Run a network on a stream, replacing any there. On failure (DeployError) the previous
        network runs again.

        Simulator: the new network is built beside the running one and swapped between frames;
        the streams never pause. Real OAK (RVC2, DepthAI v3): a running pipeline cannot change
        (DeviceBase::startPipeline refuses a second; Pipeline.stop() closes the device), and no v3
        path swaps a network in place, so a deploy stops the pipeline, the device reboots, is
        found again and starts a pipeline with the new networks: every stream pauses (seconds;
        /diagnostics reports how long). If neither the new nor the previous pipeline starts,
        on_error gets a DeviceError (the device is lost) and the DeployError says so. A network
        already built into the running pipeline (one named at configure) is not deployed again."""

    def remove(self, stream: str) -> float:
        """Stop the stream's network (DeployError if there is none); on a real OAK this reboots
        the device as deploy does. Both return how long the streams paused (s; 0: no pause)."""

    def status(self) -> dict[str, str]:
        """Health values for /diagnostics (temperatures, loads); labelled if simulated."""

    def close(self) -> None:
        """Stop streaming and release the device. Idempotent."""
