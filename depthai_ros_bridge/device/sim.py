"""The simulated OAK-D backend: renders the scene, matches the stereo pair, emits dai.ImgFrames.

Frames leave here as the real device's do (same ImgFrame types, sequence numbers
and steady-clock timestamps), so everything downstream is the real device's code.
"""
from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import depthai as dai
import numpy as np

from ..core.align import align_depth_mm
from ..core.depth import depth_lut_mm
from ..core.faults import Corrupt, Crash, Disconnect, Drop, Fault, SlowNN, Stall, parse_fault
from ..core.imu import rate_problem
from ..core.spec import PipelineSpec
from ..nn.deployment import DeployError, Deployment
from ..nn.host_network import HostNetwork
from ..sim.imu import oakd_imu
from ..sim.motion import RigMotion
from ..sim.render import Renderer
from ..sim.rig import oakd_rig
from ..sim.scene import make_scene
from ..sim.stereo import StereoMatcher, StereoOptions
from .base import (
    DelegatedControls,
    DeviceError,
    DeviceInfo,
    DeviceLost,
    ErrorCallback,
    FrameCallback,
    FrameSet,
    StereoGeometry,
)
from .frames import SOCKETS, T, make_frame
from .sim_controls import SimControls
from .sim_imu import ImuCallback, SimImuStream
from .sim_video import SimStillCamera, SimVideoEncoder, mjpeg_frame, truncated

# Fault injection (sim.fault): a disconnected simulated device can't be opened again until its
# deadline, as an unplugged OAK isn't found. Keyed by device id (one per sim.seed), process-wide.
_vanished: dict[str, float] = {}          # device id -> time.monotonic() it can be found again
_vanished_lock = threading.Lock()
# A fault's stream -> the FrameSet keys it covers.
_FAULT_KEYS = {"rgb": ("rgb",), "left": ("left",), "right": ("right",), "stereo": ("depth", "disparity")}


def _still_vanished(device_id: str) -> float:
    """Seconds until the device can be found again (0: it can)."""
    with _vanished_lock:
        left = _vanished.get(device_id, 0.0) - time.monotonic()
        if left <= 0:
            _vanished.pop(device_id, None)
        return max(left, 0.0)


def _corrupted(frame: dai.ImgFrame | dai.EncodedFrame) -> dai.ImgFrame | dai.EncodedFrame:
    """The frame with the same metadata but half its data: what a failing link delivers."""
    if isinstance(frame, dai.EncodedFrame):          # link_format mjpeg: a JPEG cut short
        return truncated(frame)
    broken = dai.ImgFrame()
    broken.setMetadata(frame)
    data = frame.getData()
    # cast: depthai's stub types the uint8-array overload as numpy.ndarray[numpy.uint8], which no
    # array matches (ndarray's first parameter is its shape).
    broken.setData(cast(Any, data[: len(data) // 2]))
    return broken


class _LatestSlot:
    """The hand-off from the capture thread to the publisher: one frame set waits at most. A new
    one replaces a waiting one (the oldest is dropped, counted): a slow consumer costs frames,
    never memory, and never slows capture."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: FrameSet | None = None
        self._closed = False
        self.dropped = 0

    def put(self, frames: FrameSet) -> None:
        with self._cond:
            if self._waiting is not None:
                self.dropped += 1
            self._waiting = frames
            self._cond.notify()

    def take(self) -> FrameSet | None:
        """The waiting frame set; None once closed and drained."""
        with self._cond:
            while self._waiting is None and not self._closed:
                self._cond.wait()
            frames, self._waiting = self._waiting, None
            return frames

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()



def _due(tick: int, stream_fps: float, capture_fps: float) -> bool:
    """Whether a stream running at stream_fps has a frame on this tick of the capture clock."""
    return tick == 0 or math.floor(tick * stream_fps / capture_fps) != math.floor((tick - 1) * stream_fps / capture_fps)


class SimDevice(DelegatedControls):
    def __init__(self, spec: PipelineSpec):
        self._spec = spec
        device_id = f"SIM{spec.sim.seed:010d}"
        gone = _still_vanished(device_id)
        if gone:
            raise DeviceError(f"device not found: simulated OAK {device_id} is disconnected "
                              f"(sim.fault) for another {gone:.1f} s")
        rgb, mono = spec.streams["rgb"], spec.streams["left"]
        self.rig = oakd_rig((rgb.width, rgb.height), (mono.width, mono.height))
        self.scene = make_scene(spec.sim.scene, spec.sim.seed, spec.sim.motion_speed)
        self.renderer = Renderer(self.scene)
        # sim.camera_motion moves the whole rig; its BMI270 (imu.enabled) measures that motion.
        self.motion = RigMotion(spec.imu.camera_motion)
        self.imu, self._imu = None, None
        if spec.imu.enabled:
            why = rate_problem("BMI270", spec.imu.rate_hz)
            if why:
                raise DeviceError(f"imu.rate_hz: {why}")
            self.imu = oakd_imu(self.rig.left.position, spec.imu.rate_hz)
            self._imu = SimImuStream(self.motion, self.imu, spec.sim.seed)
        # Exposure, white balance, focus, IR (sim_controls.py); refuses IR on a model without it.
        self.controls = SimControls(spec, self.rig, self.renderer)
        self.info = DeviceInfo("sim", device_id, self.controls.device_name)
        self.cameras = {"rgb": self.rig.rgb, "left": self.rig.left, "right": self.rig.right}
        # Gen1 `video` (encoded while someone subscribes) and `request_jpeg` (sim_video.py).
        self.video = SimVideoEncoder(spec.video, rgb.width, rgb.height, rgb.fps) if spec.video.enabled else None
        self.still = SimStillCamera(self._render_still, self.rig.rgb) if spec.enabled("rgb") else None
        self.stereo: StereoGeometry | None = None
        self._matcher: StereoMatcher | None = None
        if spec.enabled("stereo"):
            s = spec.stereo
            try:
                self._matcher = StereoMatcher(StereoOptions(
                    confidence_threshold=s.confidence_threshold, median_filter=s.median_filter,
                    lr_check=s.lr_check, extended_disparity=s.extended_disparity, subpixel=s.subpixel))
            except ValueError as e:
                raise DeviceError(f"stereo options: {e}") from e
            # The room never moves in a resting rig's view: rows above the objects keep its disparities (see
            # sim/stereo.py). A moving rig sees it move: every row is matched.
            if not self.motion.moving:
                self._matcher.set_background(self.renderer.background(self.rig.left, mono=True),
                                             self.renderer.background(self.rig.right, mono=True))
            self.controls.attach_matcher(self._matcher)
            depth_camera = self.rig.right
            if s.align == "rgb":
                depth_camera = self.rig.rgb.scaled(*spec.depth_size)
            self.cameras["stereo"] = depth_camera
            self.stereo = StereoGeometry(focal_px=self.rig.right.fx,
                                         baseline_m=float(self.rig.right.position[0] - self.rig.left.position[0]),
                                         max_disparity=self._matcher.options.max_disparity,
                                         units_per_px=16 if s.subpixel else 1)
            self._depth_lut = depth_lut_mm(self.stereo.focal_px, self.stereo.baseline_m, self._matcher.px_per_unit)
        self.capture_fps = spec.capture_fps
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mono_worker = ThreadPoolExecutor(1, thread_name_prefix="sim-oak-mono")
        self._slot: _LatestSlot | None = None
        self._publisher: threading.Thread | None = None
        self._published_dropped = 0      # by earlier start()s
        # Injected faults (inject()), read by the capture thread under _faults_lock.
        self._faults_lock = threading.Lock()
        self._stalled: dict[str, float] = {}         # stream -> monotonic end of its stall
        self._to_drop: dict[str, int] = {}
        self._to_corrupt: dict[str, int] = {}
        self._crash = False
        self._lost: DeviceError | None = None
        self._slow_nn_s = 0.0
        self._fault_counts = {"frames dropped (sim.fault)": 0, "frames corrupted (sim.fault)": 0}
        self._networks: dict[str, HostNetwork] | None = {}        # None: closed
        self._networks_lock = threading.Lock()
        self._nn_errors: dict[str, str] = {}
        self._busy_s = 0.0       # time spent capturing, for the simulated CPU load
        self._captured = 0
        self._started = time.monotonic()

    # -- capture -------------------------------------------------------------------------
    def rig_pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Ground truth: the rig's axes R and origin p in the scene's frame at scene time t (p_world = R p_rig + p).
        Scene time is the frame's timestamp minus the stream's start, for frames and IMU samples alike."""
        return self.motion.pose(t)

    def scene_time_of(self, timestamp: float) -> float:
        """Scene time of a steady-clock stamp of this stream (a frame's or an IMU sample's)."""
        return timestamp - self._clock0

    def _pose(self, t: float) -> tuple[np.ndarray, np.ndarray] | None:
        return self.motion.pose(t) if self.motion.moving else None      # None: the cached room applies

    def scene_time(self, seq: int) -> float:
        return seq / self.capture_fps

    def capture(self, seq: int, timestamp: float) -> FrameSet:
        """Everything the device produces at capture tick `seq` (deterministic in seq)."""
        t, spec = self.scene_time(seq), self._spec
        rgb_due = spec.enabled("rgb") and _due(seq, spec.streams["rgb"].fps, self.capture_fps)
        mono_due = (spec.enabled("left") or spec.enabled("right")) and \
            _due(seq, spec.streams["left"].fps, self.capture_fps)
        # The colour branch (render, network) and the mono branch (render, stereo) share nothing:
        # they run side by side (OpenCV and onnxruntime release the GIL), each deterministic,
        # and their frames join in a fixed order.
        mono = self._mono_worker.submit(self._capture_mono, seq, t, timestamp) if mono_due else None
        try:
            parts = [self._capture_rgb(seq, t, timestamp)] if rgb_due else []
        finally:
            parts += [mono.result()] if mono is not None else []
        frames = FrameSet(seq, timestamp)
        for part in parts:
            frames.frames.update(part.frames)
            frames.nn.update(part.nn)
            frames.encoded.update(part.encoded)
        return frames

    def _capture_rgb(self, seq: int, t: float, timestamp: float) -> FrameSet:
        part = FrameSet(seq, timestamp)
        rendered = self.renderer.render(self.rig.rgb, t, rig_pose=self._pose(t))
        image = self.controls.colour(rendered.image, rendered.depth, seq)
        part.frames["rgb"] = self._frame("rgb", image, T.BGR888i, part)
        if self.video is not None:
            part.encoded["video"] = self.video.encode(image, seq, timestamp)
        if self.still is not None:
            self.still.on_colour_frame(seq, timestamp)
        self._run_network("rgb", image, part)
        return part

    def _capture_mono(self, seq: int, t: float, timestamp: float) -> FrameSet:
        part = FrameSet(seq, timestamp)
        pose = self._pose(t)
        rendered = {name: self.renderer.render(self.cameras[name], t, mono=True, rig_pose=pose)
                    for name in ("left", "right")}
        light, images = self.controls.mono({n: r.image for n, r in rendered.items()},
                                           {n: r.depth for n, r in rendered.items()}, seq)
        for name in ("left", "right"):
            if self._spec.enabled(name):
                part.frames[name] = self._frame(name, images[name], T.GRAY8, part)
        if self._matcher is not None:
            self._add_stereo(part, images["left"], images["right"], (light["left"], light["right"]))
        for name in ("left", "right"):
            if name in part.frames:
                self._run_network(name, images[name], part)
        return part

    def _render_still(self, camera, seq: int) -> np.ndarray:
        t = self.scene_time(seq)        # the rig where it was at that frame, if it moves
        return self.renderer.render(camera, t, rig_pose=self._pose(t)).image

    def set_video_wanted(self, wanted: bool) -> None:
        """Encode (from a key frame) only while ~/rgb/image_raw/ffmpeg has subscribers."""
        if self.video is not None:
            self.video.wanted = wanted

    def capture_still(self, on_done) -> None:
        """request_jpeg: a full-resolution JPEG of the next colour frame's instant, delivered to
        on_done (a sim_video.Still, or the exception why not) from another thread. DeviceError at
        once if the colour stream is off, the device is not streaming or a capture is in progress."""
        if self.still is None:
            raise DeviceError("the colour stream is disabled (rgb.enabled is false)")
        if self._thread is None or self._stop.is_set():
            raise DeviceError("the device is not streaming")
        self.still.request(on_done)

    def _run_network(self, stream: str, image: np.ndarray, frames: FrameSet) -> None:
        # Inference holds the lock, so a network is never closed while it runs (deploy swaps under it).
        with self._networks_lock:
            network = self._networks.get(stream) if self._networks is not None else None
            if network is None:
                return
            try:
                frames.nn[stream] = network.run(image, frames.seq, frames.timestamp)
            except Exception as e:  # noqa: BLE001 - one failed inference is not a device failure
                self._nn_errors[stream] = f"frame {frames.seq}: {e!r}"
            if self._slow_nn_s:          # sim.fault slow_nn: the inference took that much longer
                self._stop.wait(self._slow_nn_s)

    def _frame(self, camera: str, pixels: np.ndarray, kind, frames: FrameSet) -> dai.ImgFrame | dai.EncodedFrame:
        if self._spec.mjpeg_link(camera):       # only the device's JPEG crosses the link (core/link_spec.py)
            quality = self._spec.compressed.jpeg_quality
            return mjpeg_frame(pixels, frames.seq, frames.timestamp, SOCKETS[camera], quality)
        return make_frame(pixels, kind, frames.seq, frames.timestamp, SOCKETS[camera])

    def _add_stereo(self, frames: FrameSet, left: np.ndarray, right: np.ndarray, light=None) -> None:
        # aligned to the right camera, 0 = invalid; `light`: the pair before sensor noise
        assert self._matcher is not None, "called only when stereo runs (it has a matcher)"
        disparity = self._matcher.compute_raw(left, right, light)
        depth_mm = self._depth_lut[disparity]
        if self._spec.stereo.align == "rgb":
            depth_mm = align_depth_mm(depth_mm, self.rig.right, self.cameras["stereo"])
        frames.frames["depth"] = make_frame(depth_mm, T.RAW16, frames.seq, frames.timestamp,
                                            dai.CameraBoardSocket.CAM_C)
        frames.frames["disparity"] = make_frame(disparity, T.RAW16, frames.seq, frames.timestamp,
                                                dai.CameraBoardSocket.CAM_C)

    # -- streaming -----------------------------------------------------------------------
    def start(self, on_frames: FrameCallback, on_error: ErrorCallback, on_imu: ImuCallback | None = None) -> None:
        if self._lost is not None:
            raise self._lost
        self._stop.clear()
        self._started, self._busy_s = time.monotonic(), 0.0
        self._clock0 = time.monotonic()         # frames and IMU samples count from here, on one clock
        if self._imu is not None and on_imu is not None:
            self._imu.start(self._clock0, on_imu, lambda e: self._report(
                on_error, DeviceError(f"simulated IMU failed: {e!r}")), self._stop)
        self._slot = slot = _LatestSlot()
        self._publisher = threading.Thread(target=self._publish, args=(slot, on_frames, on_error),
                                           name="sim-oak-publish", daemon=True)
        self._publisher.start()
        self._thread = threading.Thread(target=self._run, args=(slot, on_error), name="sim-oak", daemon=True)
        self._thread.start()

    def _report(self, on_error: ErrorCallback, error: Exception) -> None:
        """Tell the node the device failed; once, and never from a stopping device."""
        with self._faults_lock:        # the capture and the publisher thread may both fail
            if self._stop.is_set():
                return
            self._stop.set()
        try:
            on_error(error)
        except Exception:  # noqa: BLE001 - the callback's own failure must not kill this thread
            pass

    def _run(self, slot: _LatestSlot, on_error: ErrorCallback) -> None:
        period = 1.0 / self.capture_fps
        start, tick = self._clock0, 0
        try:
            while not self._stop.wait(max(0.0, start + tick * period - time.monotonic())):
                if self._lost is not None:         # sim.fault disconnect: every stream stops
                    self._report(on_error, self._lost)
                    return
                began = time.monotonic()
                # stamped at the tick (the exposure), however late the capture runs
                frames = self._apply_faults(self.capture(tick, start + tick * period))
                self._busy_s += time.monotonic() - began
                self._captured += 1
                # Published on their own thread while the next set is captured, newest first (_LatestSlot).
                slot.put(frames)
                # A late tick is dropped, as a real sensor drops frames the host doesn't take.
                tick = max(tick + 1, math.floor((time.monotonic() - start) / period))
        except Exception as e:  # noqa: BLE001 - any failure (sim.fault crash too) is reported, never silent
            self._report(on_error, DeviceError(f"simulated device failed at frame {tick}: {e!r}"))
        finally:
            slot.close()

    def _publish(self, slot: _LatestSlot, on_frames: FrameCallback, on_error: ErrorCallback) -> None:
        while (frames := slot.take()) is not None:
            try:
                on_frames(frames)
            except Exception as e:  # noqa: BLE001 - a failing consumer is reported like a device failure
                self._report(on_error, DeviceError(f"publishing frame set {frames.seq} failed: {e!r}"))
                return

    # -- fault injection (sim.fault) -----------------------------------------------------
    def inject(self, fault: Fault | str) -> None:
        """Make the device show a fault (core/faults.py; a string is parsed, ValueError if malformed).
        disconnect: the capture thread reports DeviceLost through on_error and stops, and no
        SimDevice with this id opens until the seconds pass; crash: an exception inside the
        capture thread, reported through on_error; stall/drop/corrupt act on the stream's next
        frames; slow_nn adds that much to every inference (0 ends it)."""
        if isinstance(fault, str):
            fault = parse_fault(fault)
        with self._faults_lock:
            if isinstance(fault, Disconnect):
                with _vanished_lock:
                    _vanished[self.info.id] = time.monotonic() + fault.seconds
                self._lost = DeviceLost(f"simulated OAK {self.info.id} was lost: X_LINK_ERROR, the device "
                                        f"disconnected (sim.fault disconnect for {fault.seconds:g} s)")
            elif isinstance(fault, Stall):
                self._stalled[fault.stream] = time.monotonic() + fault.seconds
            elif isinstance(fault, Drop):
                self._to_drop[fault.stream] = self._to_drop.get(fault.stream, 0) + fault.count
            elif isinstance(fault, Corrupt):
                self._to_corrupt[fault.stream] = self._to_corrupt.get(fault.stream, 0) + fault.count
            elif isinstance(fault, Crash):
                self._crash = True
            elif isinstance(fault, SlowNN):
                self._slow_nn_s = fault.milliseconds / 1000.0

    def _apply_faults(self, frames: FrameSet) -> FrameSet:
        """The frame set as the injected faults leave it (called on the capture thread)."""
        with self._faults_lock:
            if self._crash:
                self._crash = False
                raise RuntimeError("simulated crash in the device thread (sim.fault crash)")
            now = time.monotonic()
            for stream, keys in _FAULT_KEYS.items():
                if not any(k in frames.frames for k in keys):
                    continue
                if self._stalled.get(stream, 0.0) > now or self._to_drop.get(stream, 0) > 0:
                    if self._stalled.get(stream, 0.0) <= now:
                        self._to_drop[stream] -= 1
                    for key in keys:
                        frames.frames.pop(key, None)
                    frames.nn.pop(stream, None)     # no frame, no inference on it
                    self._fault_counts["frames dropped (sim.fault)"] += 1
                elif self._to_corrupt.get(stream, 0) > 0:
                    self._to_corrupt[stream] -= 1
                    for key in keys:
                        if key in frames.frames:
                            frames.frames[key] = _corrupted(frames.frames[key])
                    self._fault_counts["frames corrupted (sim.fault)"] += 1
        return frames

    def set_confidence_threshold(self, value: int) -> None:
        if self._matcher is not None:
            self._matcher.set_confidence_threshold(value)

    def deploy(self, stream: str, deployment: Deployment, workdir: Path) -> float:
        """Built beside the running network, swapped between frames: the streams never pause (0 s)."""
        camera = self.cameras[stream]
        network = HostNetwork(deployment, camera.width, camera.height, workdir)   # raises DeployError
        with self._networks_lock:
            networks = self._networks
            closed = networks is None
            if networks is not None:
                previous, networks[stream] = networks.get(stream), network
        if closed:            # closed while the network was built: it must not outlive the device
            network.close()
            raise DeployError("the device was closed during the deploy")
        if previous is not None:
            previous.close()
        return 0.0

    def remove(self, stream: str) -> float:
        with self._networks_lock:
            network = self._networks.pop(stream, None) if self._networks is not None else None
        if network is None:
            raise DeployError(f"no network is deployed on {stream}")
        network.close()
        return 0.0

    def status(self) -> dict[str, str]:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        load = 100.0 * self._busy_s / elapsed if self._captured else 0.0
        dropped = self._published_dropped + (self._slot.dropped if self._slot is not None else 0)
        return {**{f"{stream} nn last error": e for stream, e in self._nn_errors.items()},
                "frames captured": str(self._captured),
                "frames dropped (publisher busy)": str(dropped),
                **{k: str(v) for k, v in self._fault_counts.items()},
                "capture load % (simulated CSS CPU)": f"{min(load, 100.0):.1f}",
                "chip temperature °C (simulated)": f"{38.0 + 0.12 * min(load, 100.0):.1f}",
                **self.controls.status()}

    def close(self) -> None:
        self._stop.set()
        if self._imu is not None:
            self._imu.join()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._thread = None
        if self.still is not None:
            self.still.cancel()
        if self.video is not None:
            self.video.close()
        self._mono_worker.shutdown()
        if self._slot is not None:
            self._slot.close()
            self._published_dropped += self._slot.dropped
            self._slot = None
        # the waiting frame set is published before close returns (unless close runs on the publisher)
        if self._publisher is not None and self._publisher is not threading.current_thread():
            self._publisher.join(timeout=5.0)
        self._publisher = None
        with self._networks_lock:     # None: closed; a deploy finishing later closes its own network
            networks, self._networks = list((self._networks or {}).values()), None
        for network in networks:
            network.close()
