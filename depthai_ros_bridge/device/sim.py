"""The simulated OAK-D backend: renders the scene, matches the stereo pair, emits dai.ImgFrames.

Frames leave here as the real device's do (same ImgFrame types, sequence numbers
and steady-clock timestamps), so everything downstream is the real device's code.
"""
from __future__ import annotations

import math
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import depthai as dai
import numpy as np

from .frames import SOCKETS, T, make_frame
from ..core.spec import PipelineSpec
from ..nn.deployment import DeployError, Deployment
from ..nn.host_network import HostNetwork
from ..core.align import align_depth_mm
from ..core.depth import depth_lut_mm
from ..sim.render import Renderer
from ..sim.rig import oakd_rig
from ..sim.scene import Scene
from ..sim.stereo import StereoMatcher, StereoOptions
from .base import DeviceError, DeviceInfo, ErrorCallback, FrameCallback, FrameSet, StereoGeometry



def _due(tick: int, stream_fps: float, capture_fps: float) -> bool:
    """Whether a stream running at stream_fps has a frame on this tick of the capture clock."""
    return tick == 0 or math.floor(tick * stream_fps / capture_fps) != math.floor((tick - 1) * stream_fps / capture_fps)


class SimDevice:
    def __init__(self, spec: PipelineSpec):
        self._spec = spec
        rgb, mono = spec.streams["rgb"], spec.streams["left"]
        self.rig = oakd_rig((rgb.width, rgb.height), (mono.width, mono.height))
        self.scene = Scene(spec.sim.seed, spec.sim.motion_speed)
        self.renderer = Renderer(self.scene)
        self.info = DeviceInfo("sim", f"SIM{spec.sim.seed:010d}", "OAK-D (simulated)")
        self.cameras = {"rgb": self.rig.rgb, "left": self.rig.left, "right": self.rig.right}
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
            # The room never moves: rows above the objects keep its disparities (see sim/stereo.py).
            self._matcher.set_background(self.renderer.background(self.rig.left, mono=True),
                                         self.renderer.background(self.rig.right, mono=True))
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
        self._publisher = ThreadPoolExecutor(1, thread_name_prefix="sim-oak-publish")
        self._networks: dict[str, HostNetwork] = {}
        self._networks_lock = threading.Lock()
        self._nn_errors: dict[str, str] = {}
        self._busy_s = 0.0       # time spent capturing, for the simulated CPU load
        self._captured = 0
        self._started = time.monotonic()

    # -- capture -------------------------------------------------------------------------
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
        return frames

    def _capture_rgb(self, seq: int, t: float, timestamp: float) -> FrameSet:
        part = FrameSet(seq, timestamp)
        image = self.renderer.render(self.rig.rgb, t).image
        part.frames["rgb"] = self._frame("rgb", image, T.BGR888i, part)
        self._run_network("rgb", image, part)
        return part

    def _capture_mono(self, seq: int, t: float, timestamp: float) -> FrameSet:
        part = FrameSet(seq, timestamp)
        images = {name: self.renderer.render(self.cameras[name], t, mono=True).image
                  for name in ("left", "right")}
        for name in ("left", "right"):
            if self._spec.enabled(name):
                part.frames[name] = self._frame(name, images[name], T.GRAY8, part)
        if self._matcher is not None:
            self._add_stereo(part, images["left"], images["right"])
        for name in ("left", "right"):
            if name in part.frames:
                self._run_network(name, images[name], part)
        return part

    def _run_network(self, stream: str, image: np.ndarray, frames: FrameSet) -> None:
        # Inference holds the lock, so a network is never closed while it runs (deploy swaps under it).
        with self._networks_lock:
            network = self._networks.get(stream)
            if network is None:
                return
            try:
                frames.nn[stream] = network.run(image, frames.seq, frames.timestamp)
            except Exception as e:  # noqa: BLE001 - one failed inference is not a device failure
                self._nn_errors[stream] = f"frame {frames.seq}: {e!r}"

    def _frame(self, camera: str, pixels: np.ndarray, kind, frames: FrameSet) -> dai.ImgFrame:
        return make_frame(pixels, kind, frames.seq, frames.timestamp, SOCKETS[camera])

    def _add_stereo(self, frames: FrameSet, left: np.ndarray, right: np.ndarray) -> None:
        disparity = self._matcher.compute_raw(left, right)      # aligned to the right camera, 0 = invalid
        depth_mm = self._depth_lut[disparity]
        if self._spec.stereo.align == "rgb":
            depth_mm = align_depth_mm(depth_mm, self.rig.right, self.cameras["stereo"])
        frames.frames["depth"] = make_frame(depth_mm, T.RAW16, frames.seq, frames.timestamp,
                                            dai.CameraBoardSocket.CAM_C)
        frames.frames["disparity"] = make_frame(disparity, T.RAW16, frames.seq, frames.timestamp,
                                                dai.CameraBoardSocket.CAM_C)

    # -- streaming -----------------------------------------------------------------------
    def start(self, on_frames: FrameCallback, on_error: ErrorCallback) -> None:
        self._stop.clear()
        self._started, self._busy_s = time.monotonic(), 0.0
        self._thread = threading.Thread(target=self._run, args=(on_frames, on_error), name="sim-oak", daemon=True)
        self._thread.start()

    def _run(self, on_frames: FrameCallback, on_error: ErrorCallback) -> None:
        period = 1.0 / self.capture_fps
        start, tick = time.monotonic(), 0
        published: Future | None = None
        while not self._stop.wait(max(0.0, start + tick * period - time.monotonic())):
            began = time.monotonic()
            try:   # stamped at the tick (the exposure), however late the capture runs
                frames = self.capture(tick, start + tick * period)
            except Exception as e:  # noqa: BLE001 - reported to the node, which goes to on_error
                on_error(DeviceError(f"simulated device failed at frame {tick}: {e!r}"))
                return
            self._busy_s += time.monotonic() - began
            self._captured += 1
            # Frame sets are published on their own thread while the next one is captured; one at
            # a time, in order: a capture that is done first waits for the previous publish.
            if published is not None:
                published.result()
            published = self._publisher.submit(on_frames, frames)
            # A late tick is dropped, as a real sensor drops frames the host doesn't take.
            tick = max(tick + 1, math.floor((time.monotonic() - start) / period))

    def set_confidence_threshold(self, value: int) -> None:
        if self._matcher is not None:
            self._matcher.set_confidence_threshold(value)

    def deploy(self, stream: str, deployment: Deployment, workdir: Path) -> None:
        camera = self.cameras[stream]
        network = HostNetwork(deployment, camera.width, camera.height, workdir)   # raises DeployError
        with self._networks_lock:
            previous, self._networks[stream] = self._networks.get(stream), network
        if previous is not None:
            previous.close()

    def remove(self, stream: str) -> None:
        with self._networks_lock:
            network = self._networks.pop(stream, None)
        if network is None:
            raise DeployError(f"no network is deployed on {stream}")
        network.close()

    def status(self) -> dict[str, str]:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        load = 100.0 * self._busy_s / elapsed if self._captured else 0.0
        return {**{f"{stream} nn last error": e for stream, e in self._nn_errors.items()},
                "frames captured": str(self._captured),
                "capture load % (simulated CSS CPU)": f"{min(load, 100.0):.1f}",
                "chip temperature °C (simulated)": f"{38.0 + 0.12 * min(load, 100.0):.1f}"}

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._thread = None
        self._mono_worker.shutdown()
        self._publisher.shutdown()      # the last frame set is published before close returns
        with self._networks_lock:
            networks, self._networks = list(self._networks.values()), {}
        for network in networks:
            network.close()
