"""OakDevice: the Device protocol on a real RVC2 OAK, through DepthAI v3.

What happens on the device, read from depthai-core's sources (not yet run on a camera):
- A running pipeline cannot be changed: `DeviceBase::startPipeline` refuses a second pipeline
  ("Pipeline is already running", src/device/DeviceBase.cpp) and `Pipeline.stop()` closes the
  device (PipelineImpl::stop, src/pipeline/Pipeline.cpp). No v3 path swaps a network in place,
  so a deploy or remove is: stop (the device reboots, up to ~5 s), open it again (searching up to
  ~10 s), start a pipeline with the new networks. Networks named at configure are built into
  the first pipeline, so configuring with one boots the device once.
- depthai reconnects to a device that dropped by itself, once (`setMaxReconnectionAttempts`);
  the restarted pipeline numbers its frames from 0 and runs its initial configs. Both are
  handled (grouping.FrameAssembler, `_restarted`); a failed reconnect is reported at once.
"""
from __future__ import annotations

import logging
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import depthai as dai

from ...core.camera_model import CameraModel
from ...core.imu import ImuInfo
from ...core.spec import PipelineSpec
from ...nn.deployment import DeployError, Deployment
from .. import base
from ..base import DelegatedControls, DeviceError, DeviceInfo, ErrorCallback, FrameCallback, FrameSet, ImuCallback
from .calibration import camera_models, intrinsics_mismatch, stereo_geometry
from .controls import OakControls
from .discovery import find_device
from .encoders import StillGate
from .graph import Graph, build_pipeline
from .grouping import FrameAssembler, pump
from .imu import check_imu, imu_info
from .networks import DeviceNetwork, device_network, startup_networks
from .plan import plan_pipeline
from .sensors import ConnectedCamera, link_kind
from .stereo import stereo_config

log = logging.getLogger(__name__)
# A device that vanished while running: the node's recovery retries opening it (base.DeviceLost
# where the recovery work defines it; a plain DeviceError before).
DeviceLost = getattr(base, "DeviceLost", DeviceError)
RECONNECT_ATTEMPTS = 1            # depthai's default; after that the node's recovery takes over
FIRST_FRAMES_TIMEOUT_S = 15.0     # how long a restart waits to measure the streams' pause
INTRINSICS_TOLERANCE_PX = 1.0
MODEL_OF_KEY = {"rgb": "rgb", "left": "left", "right": "right", "depth": "stereo"}


def same_network(a: Deployment, b: Deployment) -> bool:
    """Whether two deployments put the same network on the device (labels are the host's)."""
    return (a.package.model == b.package.model and a.config == b.config and a.resize_mode == b.resize_mode
            and a.package.format == b.package.format)


class OakDevice(DelegatedControls):
    def __init__(self, spec: PipelineSpec):
        found, notes = find_device(spec.device.id)
        for note in notes:
            log.warning(note)
        self._spec = spec
        self._target = found
        self._lock = threading.RLock()              # start / deploy / remove / close, one at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._callbacks: tuple[FrameCallback, ErrorCallback] | None = None
        self.imu: ImuInfo | None = None
        self._on_imu: ImuCallback | None = None
        self._pipeline: dai.Pipeline | None = None
        self._config_queue = None
        self._networks: dict[str, DeviceNetwork] = {}
        self._confidence = spec.stereo.confidence_threshold
        self._warnings: dict[str, str] = {}
        self._lost_lock = threading.Lock()
        self._lost_reported = False
        self._restarts: dict[str, str] = {}
        self._first_frames = threading.Event()
        self._checked: set[str] = set()
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._device: dai.Device | None = None
        self._encoded_queues: dict = {}            # FrameSet.encoded key -> host queue (encoders.py)
        self.still = StillGate(lambda w, h: self.cameras["rgb"].scaled(w, h))
        self._device = self._open(dai.UsbSpeed.HIGH if spec.device.usb2_mode else dai.UsbSpeed.SUPER)
        try:
            self._id = self._device.getDeviceId() or found.name
            self.connected = [ConnectedCamera.from_features(f) for f in self._device.getConnectedCameraFeatures()]
            self.plan = plan_pipeline(spec, self.connected)
            calib = self._device.getCalibration()
            self.cameras: dict[str, CameraModel] = camera_models(calib, spec, self.plan)
            self.stereo = stereo_geometry(calib, spec, self.cameras) if spec.enabled("stereo") else None
            # imu.enabled: the device's own IMU (imu.py), placed by the calibration; refused where there is none.
            model = check_imu(spec, self._device.getConnectedIMU() if spec.imu.enabled else "")
            if model is not None:
                self.imu, imu_warning = imu_info(calib, spec, model)
                if imu_warning:
                    self._warnings["imu"] = imu_warning
                    log.warning(imu_warning)
            # depthai's stubs type both names as object: the bindings return a str (bytes decoded as UTF-8,
            # depthai-core bindings/python/src/DeviceBindings.cpp).
            name = cast(str, self._device.getProductName()) or cast(str, self._device.getDeviceName())
            self.info = DeviceInfo("oak", self._id, name)
            self._check_link(found)
            # Exposure / white balance / focus / IR (controls.py); refuses what this model cannot do.
            self.controls = OakControls(spec, self.connected, self.info.name, self._device.getIrDrivers())
        except Exception as e:  # noqa: BLE001 - closed, then reported as a DeviceError
            self.close()
            raise e if isinstance(e, DeviceError) else DeviceError(f"OAK {found.name}: reading its cameras, "
                                                                   f"calibration or name: {e}") from e
        self._networks = self._startup_networks()

    def _open(self, speed: dai.UsbSpeed | None = None) -> dai.Device:
        # After a pipeline stops, its device reboots; DepthAI searches for it again (up to
        # DEPTHAI_SEARCH_TIMEOUT, 10 s by default) by MXID, or by IP for a PoE device.
        speed = speed or self.plan.usb_speed
        target = dai.DeviceInfo(self._id) if getattr(self, "_id", "") else self._target
        try:
            device = dai.Device(target, speed)
        except RuntimeError as e:
            raise DeviceError(f"could not open OAK {getattr(self, '_id', '') or target.name}: {e}") from e
        device.setMaxReconnectionAttempts(RECONNECT_ATTEMPTS, self._reconnection)
        return device

    def _check_link(self, found: dai.DeviceInfo) -> None:
        assert self._device is not None, "called from __init__, after the device opened"
        speed = self._device.getUsbSpeed()
        protocol = found.protocol.name
        link = link_kind(self._spec, protocol)
        if link == "usb3" and speed in (dai.UsbSpeed.HIGH, dai.UsbSpeed.FULL, dai.UsbSpeed.LOW):
            link = "usb2"                                       # a USB2 port or cable
        self.link = link
        self.bandwidth_mbps, warning = self.plan.bandwidth(link)
        if warning:
            self._warnings["bandwidth"] = warning
            log.warning(warning)

    def _startup_networks(self) -> dict[str, DeviceNetwork]:
        """The networks `<stream>.nn.model` names, for the first pipeline (no reboot to add them).
        One that does not build is left to the node's deploy, which reports why."""
        if not any(s.nn is not None and s.nn.model and s.enabled for s in self._spec.streams.values()):
            return {}
        self._workdir = tempfile.TemporaryDirectory(prefix="oak-nn-")
        networks, problems = startup_networks(self._spec, self.plan, Path(self._workdir.name))
        for param, why in problems.items():
            log.warning(f"{param} is not built into the first pipeline: {why}")
        return networks

    # -- streaming -------------------------------------------------------------------------
    def _start_streaming(self, networks: dict[str, DeviceNetwork]) -> None:
        if self._device is None or self._device.isClosed():
            self._device = self._open()
        self._pipeline = pipeline = dai.Pipeline(self._device)
        graph = Graph(pipeline, rgb_autofocus=self.controls.rgb_autofocus)
        queues, self._config_queue = build_pipeline(pipeline, self.plan, self._spec.stereo, self._confidence, networks,
                                                    graph, replace(self._spec, controls=self.controls.camera_controls),
                                                    imu=self.imu)
        # Encoded frames bypass the assembler; each frame set takes those waiting (_attach_encoded).
        self._encoded_queues = {k: queues.pop(k) for k in list(queues) if k in ("video", "still")
                                or k.startswith("mjpeg:")}
        pipeline.start()
        self.controls.attach(graph.control_queues, self._device)
        assembler = FrameAssembler(self.plan.streams, {s: n.mapping for s, n in networks.items()}, self._restarted)
        self._stop.clear()
        self._first_frames.clear()
        with self._lost_lock:
            self._lost_reported = False
        self._thread = threading.Thread(target=self._read, args=(queues, assembler, pipeline), name="oak", daemon=True)
        self._thread.start()

    def _read(self, queues, assembler: FrameAssembler, pipeline: dai.Pipeline) -> None:
        callbacks = self._callbacks
        if callbacks is None:         # closed before this thread ran: nothing to deliver to
            return
        on_frames, on_error = callbacks

        def deliver(frames: FrameSet) -> None:
            self._first_frames.set()
            self._check_intrinsics(frames)
            self._attach_encoded(frames)
            self.controls.observe(frames.frames)
            on_frames(frames)
        try:
            pump(queues, assembler, deliver, self._stop, pipeline.isRunning, self._on_imu)
        except Exception as e:  # noqa: BLE001 - reported to the node, which goes to on_error
            if not self._stop.is_set():
                self._report_lost(e if isinstance(e, DeviceError) else DeviceLost(f"OAK {self._id} failed: {e!r}"))

    def _check_intrinsics(self, frames: FrameSet) -> None:
        """Each stream's first frame against its model: the Camera node picks the sensor mode, so
        the calibration scaled to the output size may not be what the frame is. If they differ by
        more than a pixel, the frame's own intrinsics are published from then on, and said."""
        for key, frame in frames.frames.items():
            name = MODEL_OF_KEY.get(key)
            if name is None or key in self._checked or name not in self.cameras:
                continue
            self._checked.add(key)
            model = self.cameras[name]
            diff = intrinsics_mismatch(model, frame)
            if diff is None or diff <= INTRINSICS_TOLERANCE_PX:
                continue
            k = frame.getTransformation().getIntrinsicMatrix()
            message = (f"{key}: the calibration scaled to {model.width}x{model.height} differs from the frame's own "
                       f"intrinsics by {diff:.1f} px; CameraInfo now uses the frame's")
            if diff != float("inf"):
                self.cameras[name] = replace(model, fx=k[0][0], fy=k[1][1], cx=k[0][2], cy=k[1][2])
            self._warnings[f"intrinsics {key}"] = message
            log.warning(message)

    def _attach_encoded(self, frames: FrameSet) -> None:
        """The encoders' output waiting on the host: video packets as they come; a camera's MJPEG only
        if it is this frame set's frame (otherwise the host encodes that one); stills to the gate."""
        for key, queue in self._encoded_queues.items():
            if queue.isClosed():
                continue
            got = queue.tryGetAll()
            if key == "still":
                for still in got:
                    self.still.add(still)
            elif key == "video":
                frames.encoded["video"] = got
            elif got and got[-1].getSequenceNum() == frames.seq:
                frames.encoded[key] = got[-1:]

    def set_video_wanted(self, wanted: bool) -> None:
        """The VideoEncoder runs on the device whether or not anyone subscribes (no host CPU)."""

    def capture_still(self, on_done) -> None:
        """request_jpeg: the first full-resolution JPEG after the request (encoders.StillGate)."""
        if "still" not in self._encoded_queues:
            raise DeviceError("the colour stream is disabled (rgb.enabled is false)")
        if self._thread is None or self._stop.is_set():
            raise DeviceError("the device is not streaming")
        self.still.request(on_done)

    def _restarted(self) -> None:
        """The device's sequence numbers started again (depthai reconnected it): its pipeline runs
        its initial configs, so what was changed live is applied again."""
        self._restarts["reconnected"] = time.strftime("%H:%M:%S")
        if self._confidence != self._spec.stereo.confidence_threshold:
            self.set_confidence_threshold(self._confidence)
        self.controls.reapply()

    def _reconnection(self, status) -> None:
        """depthai's reconnection callback (monitor thread): a failed reconnect is a lost device,
        reported at once instead of after the queues time out."""
        if status == dai.Device.ReconnectionStatus.RECONNECT_FAILED and not self._stop.is_set():
            self._report_lost(DeviceLost(f"OAK {self._id} was lost: depthai's reconnect failed"))

    def _report_lost(self, error: DeviceError) -> None:
        """The node's on_error, once per pipeline (the reconnect callback and the reading loop
        may both see the same loss)."""
        with self._lost_lock:
            callbacks, reported = self._callbacks, self._lost_reported
            self._lost_reported = True
        if callbacks is not None and not reported:
            callbacks[1](error)

    def _stop_streaming(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._thread, self._config_queue = None, None
        if hasattr(self, "controls"):
            self.controls.detach()
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.stop()           # closes the device too (DepthAI v3): the next start reopens it
            pipeline.wait()
        if self._device is not None:
            self._device.close()

    def _restart(self, networks: dict[str, DeviceNetwork], what: str) -> float:
        """Run `networks`: stop, reopen (the device reboots), start. If that fails, the previous
        pipeline is started again; if that fails too, the device is lost (on_error). Returns how
        long the streams paused, seconds."""
        if self._callbacks is None:           # not streaming: start() builds with these
            self._networks = networks
            return 0.0
        started = time.monotonic()
        self._stop_streaming()
        try:
            self._start_streaming(networks)
        except Exception as e:        # depthai raises RuntimeErrors of every kind
            self._stop_streaming()
            try:
                self._start_streaming(self._networks)
            except Exception as again:  # noqa: BLE001
                self._report_lost(DeviceLost(f"OAK {self._id} did not come back after {what}: {again}"))
                raise DeployError(f"the OAK could not start with the network ({e}), nor restart without it "
                                  f"({again}); the device is being recovered as after a loss") from e
            raise DeployError(f"the OAK could not start the pipeline with the network: {e}; "
                              "the previous pipeline runs again") from e
        self._networks = networks
        came = self._first_frames.wait(FIRST_FRAMES_TIMEOUT_S)
        pause = time.monotonic() - started
        self.last_pause_s = pause
        self._restarts["last restart"] = (f"{what}: streams paused {pause:.1f} s (a pipeline change reboots the OAK)"
                                          + ("" if came else ", no frames yet"))
        log.warning(self._restarts["last restart"])
        return pause

    # -- the Device protocol ---------------------------------------------------------------
    def start(self, on_frames: FrameCallback, on_error: ErrorCallback, on_imu: ImuCallback | None = None) -> None:
        with self._lock:
            self._callbacks = (on_frames, on_error)
            self._on_imu = on_imu
            try:
                self._start_streaming(self._networks)
            except Exception as e:
                self._stop_streaming()
                raise DeviceError(f"OAK {self._id} could not start its pipeline: {e}") from e

    def set_confidence_threshold(self, value: int) -> None:
        self._confidence = value
        queue = self._config_queue
        if queue is not None:
            try:
                queue.send(stereo_config(self._spec.stereo, value))
            except (RuntimeError, dai.MessageQueue.QueueException):
                pass          # restarting: the next pipeline starts with self._confidence

    def deploy(self, stream: str, deployment: Deployment, workdir: Path) -> float:
        network = device_network(deployment, self.plan.frame_size(stream))     # refused before any restart
        with self._lock:
            running = self._networks.get(stream)
            if running is not None and same_network(running.deployment, deployment):
                # Already in the pipeline (a startup network): no reboot.
                self._networks = {**self._networks, stream: network}
                return 0.0
            return self._restart({**self._networks, stream: network}, f"deploy on {stream}")

    def remove(self, stream: str) -> float:
        with self._lock:
            if stream not in self._networks:
                raise DeployError(f"no network is deployed on {stream}")
            return self._restart({s: n for s, n in self._networks.items() if s != stream}, f"remove on {stream}")

    def status(self) -> dict[str, str]:
        extra = {**{f"warning: {k}": v for k, v in self._warnings.items()}, **self._restarts,
                 **(self.controls.status() if hasattr(self, "controls") else {})}
        device = self._device
        if device is None or device.isClosed() or self._pipeline is None:
            return {"device": "not streaming (starting, restarting for a network, or closed)", **extra}
        try:
            temperature = device.getChipTemperature()
            css, mss = device.getLeonCssCpuUsage(), device.getLeonMssCpuUsage()
            speed = device.getUsbSpeed().name
        except Exception as e:  # noqa: BLE001 - diagnostics report it, never raise
            return {"device": f"unavailable: {e}", **extra}
        return {"chip temperature °C": f"{temperature.average:.1f}",
                "CSS CPU load %": f"{100 * css.average:.1f}",
                "MSS CPU load %": f"{100 * mss.average:.1f}",
                "USB speed": speed,
                "link": f"{self.link}, ~{self.bandwidth_mbps:.0f} MB/s of frames",
                **{f"{s} nn": n.deployment.source for s, n in self._networks.items()}, **extra}

    def close(self) -> None:
        with self._lock:
            self._callbacks = None
            self._stop_streaming()
            self._device = None
            if self._workdir is not None:
                self._workdir.cleanup()
                self._workdir = None
