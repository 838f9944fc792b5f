"""The real-OAK backend: an RVC2 OAK (OAK-D family) driven through DepthAI v3.

What can be checked without a device is kept in small pure functions, tested
offline: the spec -> pipeline plan, calibration -> camera models and stereo
geometry, the stereo options and confidence conversion, the network's
preprocessing, and grouping the device's messages by sequence number. The
`OakDevice` class only wires them to a device.

Frames: "rgb" comes from the colour camera (BGR888i); with stereo on, "left" and
"right" are StereoDepth's rectified outputs (so their CameraInfo is the rectified
pinhole model the publisher declares: both use the right camera's intrinsics, as
depthai rectifies), otherwise the mono cameras' own GRAY8 outputs. Networks run on
the device behind an ImageManip that fits the stream's frame to the network input
exactly as `InputMapping` describes, so boxes map back the same way as on the
simulated device. Messages are grouped into FrameSets by sequence number per sensor
clock (the colour camera's; the synchronised mono pair's, which StereoDepth's outputs
carry); a stream's frames wait (a few sets at most) for its network's result, so a
FrameSet carries both, as the simulator's do.
"""
from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import depthai as dai
import numpy as np

from ..core.camera_model import CameraModel
from .frames import SOCKETS, T, frame_array, make_frame
from ..core.spec import PipelineSpec, StereoSpec
from ..nn.deployment import DeployError, Deployment
from ..nn.results import NNResult
from ..nn.mapping import InputMapping
from ..nn.nnconfig import NNConfig
from .base import DeviceError, DeviceInfo, ErrorCallback, FrameCallback, FrameSet, StereoGeometry

S = dai.CameraBoardSocket
MEDIAN = {"off": dai.MedianFilter.MEDIAN_OFF, "3x3": dai.MedianFilter.KERNEL_3x3,
          "5x5": dai.MedianFilter.KERNEL_5x5, "7x7": dai.MedianFilter.KERNEL_7x7}
STEREO_OUTPUTS = {"left": "rectifiedLeft", "right": "rectifiedRight", "depth": "depth", "disparity": "disparity"}
DEVICE_FORMATS = "MyriadX blobs (.blob, or an NN archive holding one)"
QUEUE_SIZE = 4            # host-side output queues: non-blocking, the newest frames win
MAX_PENDING = 8           # frame sets held waiting for a network's result before they go without it


def find_device(device_id: str) -> dai.DeviceInfo:
    """The OAK named by `device_id` (MXID/serial or IP), or the first one found if empty."""
    found = dai.Device.getAllAvailableDevices()
    for info in found:
        if not device_id or device_id in (info.getDeviceId(), info.name):
            return info
    seen = ", ".join(f"{i.getDeviceId()} ({i.name})" for i in found) or "none"
    wanted = f"device.id={device_id!r}" if device_id else "any OAK"
    raise DeviceError(f"no OAK found for {wanted}: searched USB and the local network with DepthAI "
                      f"discovery, found {seen}. Set device.type to 'sim' for the simulated OAK-D.")


# -- the plan: which outputs the pipeline needs (pure) ------------------------------------
@dataclass(frozen=True)
class CameraOutput:
    camera: str                              # "rgb" | "left" | "right"
    size: tuple[int, int]
    fps: float
    type: dai.ImgFrame.Type | None           # None: the camera's choice (only its metadata is used)


@dataclass(frozen=True)
class PipelinePlan:
    outputs: dict[str, CameraOutput]         # camera outputs to request, by name ("align": depth's align-to frame)
    streams: dict[str, str]                  # FrameSet key -> an `outputs` name or "stereo.<StereoDepth output>"
    depth_size: tuple[int, int] | None       # None: no stereo
    usb_speed: dai.UsbSpeed

    def frame_size(self, stream: str) -> tuple[int, int]:
        return self.outputs[stream].size


def clock(key: str) -> str:
    """Which sensor's sequence numbers a FrameSet key (or "nn:<stream>") counts in: the colour
    camera's, or the synchronised mono pair's (StereoDepth's outputs carry the pair's)."""
    return "rgb" if key.removeprefix("nn:") == "rgb" else "mono"


def plan_pipeline(spec: PipelineSpec) -> PipelinePlan:
    outputs, streams = {}, {}
    stereo = spec.enabled("stereo")
    for name, kind in (("rgb", T.BGR888i), ("left", T.GRAY8), ("right", T.GRAY8)):
        s = spec.streams[name]
        if s.enabled or (stereo and name != "rgb"):
            outputs[name] = CameraOutput(name, (s.width, s.height), s.fps, kind)
        if s.enabled:
            streams[name] = f"stereo.{STEREO_OUTPUTS[name]}" if stereo and name != "rgb" else name
    size = None
    if stereo:
        size = spec.depth_size
        streams.update(depth="stereo.depth", disparity="stereo.disparity")
        if spec.stereo.align == "rgb":
            # Depth comes out at the size of the frame linked to StereoDepth.inputAlignTo: a small
            # output of the colour camera, the same centre crop of the sensor as the rgb stream.
            outputs["align"] = CameraOutput("rgb", size, spec.streams["rgb"].fps, None)
    return PipelinePlan(outputs, streams, size, dai.UsbSpeed.HIGH if spec.device.usb2_mode else dai.UsbSpeed.SUPER)


# -- stereo options (pure) -----------------------------------------------------------------
def device_confidence(threshold: int) -> int:
    """Our `stereo.confidence_threshold` -> StereoDepthConfig.setConfidenceThreshold's value.

    Ours keeps Gen1/DepthAI-v2 semantics: a disparity is kept when its confidence *cost* is
    below the threshold, so 255 keeps (nearly) everything and lower is stricter. DepthAI v3
    inverted RVC2's confidence to match RVC4 ("disparities with confidence value OVER this
    threshold are accepted", default 55; depthai-core ab4e2dd): v3 confidence = 255 - v2 cost,
    and cost < t  <=>  confidence > 255 - t. Our default 200 is v3's default 55.
    """
    if not 0 <= threshold <= 255:
        raise ValueError(f"confidence threshold must be in 0..255, got {threshold}")
    return 255 - threshold


def subpixel_bits(median: str) -> int:
    """Fractional disparity bits with subpixel on: 4 (1/16 px), but the device runs a median
    filter only with 3 (StereoDepthConfig.setSubpixelFractionalBits: 'Median filter
    postprocessing is supported only for 3 fractional bits')."""
    return 3 if median != "off" else 4


def stereo_config(options: StereoSpec, confidence: int, cfg: dai.StereoDepthConfig | None = None
                  ) -> dai.StereoDepthConfig:
    """Our stereo options on a StereoDepthConfig (the node's initialConfig, or a new one to send
    live: a config sent to inputConfig replaces the whole config, so both are made here)."""
    cfg = dai.StereoDepthConfig() if cfg is None else cfg
    cfg.setConfidenceThreshold(device_confidence(confidence))
    cfg.setMedianFilter(MEDIAN[options.median_filter])
    cfg.setLeftRightCheck(options.lr_check)
    cfg.setExtendedDisparity(options.extended_disparity)
    cfg.setSubpixel(options.subpixel)
    if options.subpixel:
        cfg.setSubpixelFractionalBits(subpixel_bits(options.median_filter))
    if options.align == "right":
        cfg.setDepthAlign(dai.StereoDepthConfig.AlgorithmControl.DepthAlign.RECTIFIED_RIGHT)
    return cfg


# -- calibration -> camera models (pure) ---------------------------------------------------
def _intrinsics(calib: dai.CalibrationHandler, camera: str, name: str, size: tuple[int, int],
                position: tuple[float, float, float]) -> CameraModel:
    # keepAspectRatio: scale to cover, centre-crop the rest, as the Camera node's default CROP does.
    k = np.asarray(calib.getCameraIntrinsics(SOCKETS[camera], size[0], size[1]), float)
    return CameraModel(name, size[0], size[1], k[0, 0], k[1, 1], k[0, 2], k[1, 2], position)


def camera_models(calib: dai.CalibrationHandler, spec: PipelineSpec) -> dict[str, CameraModel]:
    """Pinhole models at each stream's output size, positioned in the rig optical frame.

    The rig frame is the left camera's optical frame moved to the middle of the stereo pair
    (as the simulated rig): positions come from the calibrated extrinsics (camera centre in the
    left camera's frame), rotations between the cameras are taken as identity. With stereo on,
    left and right are the rectified streams, which depthai rectifies to the right camera's
    intrinsics; "stereo" is the camera depth is aligned to, at the depth size.
    """
    try:
        centre = {c: np.asarray(calib.getCameraExtrinsics(s, S.CAM_B, False, dai.LengthUnit.METER), float)[:3, 3]
                  for c, s in SOCKETS.items()}
        origin = (centre["left"] + centre["right"]) / 2
        rectified = spec.enabled("stereo")
        models = {}
        for name in SOCKETS:
            s = spec.streams[name]
            source = "right" if rectified and name != "rgb" else name
            models[name] = _intrinsics(calib, source, name, (s.width, s.height),
                                       tuple(float(v) for v in centre[name] - origin))
        if rectified:
            align = spec.stereo.align
            models["stereo"] = _intrinsics(calib, align if align == "rgb" else "right", align, spec.depth_size,
                                           models[align].position)
    except RuntimeError as e:   # depthai: missing camera data or extrinsic link
        raise DeviceError(f"the OAK's calibration lacks what the enabled streams need: {e}") from e
    return models


def stereo_geometry(calib: dai.CalibrationHandler, spec: PipelineSpec, cameras: dict[str, CameraModel]
                    ) -> StereoGeometry:
    """Depth on the device is f * B / d with the rectified right focal length (at the mono size)
    and the calibrated baseline (StereoDepth's default: not the spec translation)."""
    cfg = stereo_config(spec.stereo, spec.stereo.confidence_threshold)
    scale = 2 ** subpixel_bits(spec.stereo.median_filter) if spec.stereo.subpixel else 1
    baseline = calib.getBaselineDistance(S.CAM_C, S.CAM_B, False, dai.LengthUnit.METER)
    return StereoGeometry(focal_px=cameras["right"].fx, baseline_m=float(baseline),
                          max_disparity=cfg.getMaxDisparity() / scale, units_per_px=scale)


# -- networks (pure parts) -----------------------------------------------------------------
@dataclass(frozen=True)
class DeviceNetwork:
    deployment: Deployment
    mapping: InputMapping                    # stream frame -> network input, as the device's ImageManip does
    planar: bool                             # network input BGR888p (else BGR888i)
    blob: dai.OpenVINO.Blob | None           # a bare blob (an archive carries its own)


def device_network(deployment: Deployment, frame_size: tuple[int, int]) -> DeviceNetwork:
    """Check that the device can run the deployment (DeployError if not) and work out its input."""
    package = deployment.package
    if package.format != "blob":
        raise DeployError(f"an OAK (RVC2) runs {DEVICE_FORMATS}; {package.name!r} is a {package.format} "
                          "model, which runs on the simulated device (device.type sim)")
    blob = None
    if package.archive is not None:
        width, height = package.archive.getInputWidth(), package.archive.getInputHeight()
        planar = package.archive_config["model"]["inputs"][0].get("layout", "NCHW").upper() != "NHWC"
    else:
        try:
            blob = dai.OpenVINO.Blob(package.model)
            tensor = next(iter(blob.networkInputs.values()))
            width, height = tensor.getWidth(), tensor.getHeight()
        except (RuntimeError, StopIteration) as e:
            raise DeployError(f"{package.name!r} is not a usable MyriadX blob: {e}") from None
        planar = tensor.order not in (dai.TensorInfo.StorageOrder.NHWC, dai.TensorInfo.StorageOrder.HWC)
    mapping = InputMapping.fit(frame_size[0], frame_size[1], width, height, deployment.resize_mode)
    return DeviceNetwork(deployment, mapping, planar, blob)


def preprocess_config(mapping: InputMapping, frame_type: dai.ImgFrame.Type,
                      cfg: dai.ImageManipConfig | None = None) -> dai.ImageManipConfig:
    """ImageManip operations that turn a stream frame into the network input `mapping` describes."""
    cfg = dai.ImageManipConfig() if cfg is None else cfg
    resize = dai.ImageManipConfig.ResizeMode
    if mapping.mode == "crop":
        x0, y0, x1, y1 = mapping.crop
        cfg.addCrop(x0, y0, x1 - x0, y1 - y0)      # the crop has the input's aspect: stretch == exact scale
    cfg.setOutputSize(mapping.nn_w, mapping.nn_h, resize.LETTERBOX if mapping.mode == "letterbox" else resize.STRETCH)
    cfg.setFrameType(frame_type)
    return cfg


def add_preprocessing(pipeline: dai.Pipeline, mapping: InputMapping, planar: bool, mono: bool):
    """ImageManip(s) from a stream frame to the network input: (their input, their output).

    ImageManip cannot turn GRAY8 into BGR, but GRAY8 -> NV12 -> BGR it can: a mono stream
    goes through two (the first does the geometry)."""
    frame_type, size = (T.BGR888p if planar else T.BGR888i), mapping.nn_w * mapping.nn_h * 3
    manips = [pipeline.create(dai.node.ImageManip) for _ in range(2 if mono else 1)]
    preprocess_config(mapping, T.NV12 if mono else frame_type, manips[0].initialConfig)
    if mono:
        manips[1].initialConfig.setFrameType(frame_type)
        manips[0].out.link(manips[1].inputImage)
    for manip in manips:
        manip.setMaxOutputFrameSize(size)
    return manips[0].inputImage, manips[-1].out


def configure_parser(parser: dai.node.DetectionParser, config: NNConfig) -> None:
    """Decoding of a bare blob's detections from its Robopipe nn_config (an archive brings its own)."""
    if config.type == "YOLO":
        parser.setNNFamily(dai.DetectionNetworkType.YOLO)
        parser.setNumClasses(config.num_classes)
        parser.setCoordinateSize(config.coordinate_size)
        parser.setAnchors(list(config.anchors))
        parser.setAnchorMasks({k: list(v) for k, v in config.anchor_masks.items()})
        parser.setIouThreshold(config.iou_threshold)
    else:
        parser.setNNFamily(dai.DetectionNetworkType.MOBILENET)
    parser.setConfidenceThreshold(config.confidence_threshold)


# -- grouping the device's messages into frame sets (pure) ---------------------------------
class SequenceGrouper:
    """Messages from several sources, each in increasing sequence order, into sets by sequence number.

    Set N is released once every source has delivered N or a later number (what a source skipped
    will not come), in order; a source that falls more than `max_pending` sets behind (a slow or
    stalled network) no longer holds them back. Late messages are released on their own.
    """

    def __init__(self, sources, max_pending: int = MAX_PENDING):
        self._latest = {s: -1 for s in sources}
        self._pending: dict[int, dict[str, Any]] = {}
        self._released = -1
        self._max_pending = max_pending

    def add(self, source: str, seq: int, item) -> list[tuple[int, dict[str, Any]]]:
        self._latest[source] = max(self._latest[source], seq)
        if seq <= self._released:
            return [(seq, {source: item})]
        self._pending.setdefault(seq, {})[source] = item
        ready = min(self._latest.values())
        out = []
        for n in sorted(self._pending):
            if n > ready and len(self._pending) <= self._max_pending:
                break
            out.append((n, self._pending.pop(n)))
            self._released = n
        return out


def as_raw16(frame: dai.ImgFrame) -> dai.ImgFrame:
    """Disparity as FrameSet promises it (RAW16): StereoDepth sends RAW8 without subpixel."""
    if frame.getType() != T.RAW8:
        return frame
    return make_frame(frame_array(frame).astype(np.uint16), T.RAW16, frame.getSequenceNum(),
                      frame.getTimestamp().total_seconds(), S(frame.getInstanceNum()))


class FrameAssembler:
    """The device's messages (FrameSet keys, and "nn:<stream>") -> FrameSets, grouped per clock."""

    def __init__(self, keys, mappings: dict[str, InputMapping]):
        self._mappings = mappings
        keys = list(keys) + [f"nn:{s}" for s in mappings]
        self._groups = {c: SequenceGrouper([k for k in keys if clock(k) == c]) for c in {clock(k) for k in keys}}

    def add(self, key: str, msg) -> list[FrameSet]:
        if key == "disparity":
            msg = as_raw16(msg)
        sets = []
        for seq, items in self._groups[clock(key)].add(key, msg.getSequenceNum(), msg):
            frames = {k: m for k, m in items.items() if not k.startswith("nn:")}
            stamp = next(iter(frames.values() or items.values())).getTimestamp().total_seconds()
            nn = {k[3:]: NNResult(m if isinstance(m, dai.ImgDetections) else None,
                                  m if isinstance(m, dai.NNData) else None, self._mappings[k[3:]])
                  for k, m in items.items() if k.startswith("nn:")}
            sets.append(FrameSet(seq, stamp, frames, nn))
        return sets


def pump(queues: dict[str, dai.MessageQueue], assembler: FrameAssembler, on_frames: FrameCallback,
         stop: threading.Event, is_running: Callable[[], bool]) -> None:
    """Read every queue until `stop`; raise DeviceError if the device stops delivering."""
    wait = datetime.timedelta(milliseconds=100)
    while not stop.is_set():
        messages = dai.MessageQueue.getAny(queues, wait)
        if stop.is_set():
            return
        if not messages and (not is_running() or all(q.isClosed() for q in queues.values())):
            raise DeviceError("the OAK stopped sending frames (disconnected, or its pipeline stopped)")
        for key, msg in messages.items():
            for frames in assembler.add(key, msg):
                on_frames(frames)


# -- the pipeline ----------------------------------------------------------------------------
def build_pipeline(pipeline: dai.Pipeline, plan: PipelinePlan, stereo_options: StereoSpec, confidence: int,
                   networks: dict[str, DeviceNetwork]):
    """Create the plan's nodes (and each network's) in `pipeline`: (host queues by message key,
    StereoDepth's config input queue or None)."""
    cameras = dict.fromkeys(c.camera for c in plan.outputs.values())     # one Camera node per sensor
    cams = {name: pipeline.create(dai.node.Camera).build(SOCKETS[name]) for name in cameras}
    out = {name: cams[c.camera].requestOutput(c.size, c.type, fps=c.fps) for name, c in plan.outputs.items()}
    config_queue = None
    if plan.depth_size is not None:
        stereo = pipeline.create(dai.node.StereoDepth)   # no build(): no preset, the config is all ours
        out["left"].link(stereo.left)
        out["right"].link(stereo.right)
        stereo_config(stereo_options, confidence, stereo.initialConfig)
        if "align" in out:
            out["align"].link(stereo.inputAlignTo)
        config_queue = stereo.inputConfig.createInputQueue()
        out.update({f"stereo.{o}": getattr(stereo, o) for o in STEREO_OUTPUTS.values()})
    queues = {key: out[source].createOutputQueue(QUEUE_SIZE, False) for key, source in plan.streams.items()}
    for stream, network in networks.items():
        queues[f"nn:{stream}"] = add_network(pipeline, out[plan.streams[stream]], stream, network)
    return queues, config_queue


def add_network(pipeline: dai.Pipeline, source: dai.Node.Output, stream: str, network: DeviceNetwork):
    """Preprocessing and the network on `source`; the queue of its results."""
    manip_in, manip_out = add_preprocessing(pipeline, network.mapping, network.planar, mono=stream != "rgb")
    source.link(manip_in)
    d = network.deployment
    detector = d.config.type != "Generic"
    nn = pipeline.create(dai.node.DetectionNetwork if detector else dai.node.NeuralNetwork)
    if network.blob is None:
        nn.build(manip_out, d.package.archive)
    else:
        nn.setBlob(network.blob)
        manip_out.link(nn.input)
        if detector:
            configure_parser(nn.detectionParser, d.config)
    if detector:
        nn.setConfidenceThreshold(d.config.confidence_threshold)
    nn.setNumInferenceThreads(d.config.num_inference_threads)
    nn.input.setBlocking(False)       # infer on the newest frame; the streams never wait for it
    nn.input.setMaxSize(1)
    return nn.out.createOutputQueue(QUEUE_SIZE, False)


# -- the device ----------------------------------------------------------------------------
class OakDevice:
    def __init__(self, spec: PipelineSpec):
        found = find_device(spec.device.id)
        if found.platform != dai.XLinkPlatform.X_LINK_MYRIAD_X:
            raise DeviceError(f"found OAK {found.getDeviceId()} ({found.platform.name}); the oak backend "
                              "drives RVC2 (Myriad X) OAKs only")
        self._spec, self.plan = spec, plan_pipeline(spec)
        self._id = found.getDeviceId()
        self._lock = threading.RLock()              # start / deploy / remove / close, one at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._callbacks: tuple[FrameCallback, ErrorCallback] | None = None
        self._pipeline: dai.Pipeline | None = None
        self._config_queue = None
        self._networks: dict[str, DeviceNetwork] = {}
        self._confidence = spec.stereo.confidence_threshold
        self._device: dai.Device | None = self._open()
        try:
            calib = self._device.getCalibration()
            self.cameras = camera_models(calib, spec)
            self.stereo = stereo_geometry(calib, spec, self.cameras) if spec.enabled("stereo") else None
            self.info = DeviceInfo("oak", self._id, self._device.getProductName() or self._device.getDeviceName())
        except Exception as e:  # noqa: BLE001 - closed, then reported as a DeviceError
            self.close()
            raise e if isinstance(e, DeviceError) else DeviceError(f"OAK {self._id}: reading its calibration or name: {e}")

    def _open(self) -> dai.Device:
        # After a pipeline stops, its device reboots; DepthAI searches for it again (up to
        # DEPTHAI_SEARCH_TIMEOUT, 10 s by default) when given just its id.
        try:
            return dai.Device(dai.DeviceInfo(self._id), self.plan.usb_speed)
        except RuntimeError as e:
            raise DeviceError(f"could not open OAK {self._id}: {e}") from e

    # -- streaming -------------------------------------------------------------------------
    def _start_streaming(self, networks: dict[str, DeviceNetwork]) -> None:
        if self._device is None or self._device.isClosed():
            self._device = self._open()
        self._pipeline = pipeline = dai.Pipeline(self._device)
        queues, self._config_queue = build_pipeline(pipeline, self.plan, self._spec.stereo, self._confidence, networks)
        pipeline.start()
        assembler = FrameAssembler(self.plan.streams, {s: n.mapping for s, n in networks.items()})
        self._stop.clear()
        self._thread = threading.Thread(target=self._read, args=(queues, assembler, pipeline), name="oak", daemon=True)
        self._thread.start()

    def _read(self, queues, assembler: FrameAssembler, pipeline: dai.Pipeline) -> None:
        on_frames, on_error = self._callbacks
        try:
            pump(queues, assembler, on_frames, self._stop, pipeline.isRunning)
        except Exception as e:  # noqa: BLE001 - reported to the node, which goes to on_error
            if not self._stop.is_set():
                on_error(e if isinstance(e, DeviceError) else DeviceError(f"OAK {self._id} failed: {e!r}"))

    def _stop_streaming(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._thread, self._config_queue = None, None
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.stop()           # closes the device too (DepthAI v3): the next start reopens it
            pipeline.wait()
        if self._device is not None:
            self._device.close()

    def _restart(self, networks: dict[str, DeviceNetwork]) -> None:
        """Run `networks`: a real OAK loads networks only at pipeline start, so stop, rebuild,
        start; if that fails, the previous pipeline is started again."""
        if self._callbacks is None:           # not streaming: start() builds with these
            self._networks = networks
            return
        self._stop_streaming()
        try:
            self._start_streaming(networks)
        except Exception as e:        # depthai raises RuntimeErrors of every kind
            self._stop_streaming()
            try:
                self._start_streaming(self._networks)
            except Exception as again:  # noqa: BLE001
                self._callbacks[1](DeviceError(f"OAK {self._id} could not restart its previous pipeline: {again}"))
                raise DeployError(f"the OAK could not start with the network ({e}), nor restart without it "
                                  f"({again})") from e
            raise DeployError(f"the OAK could not start the pipeline with the network: {e}; "
                              "the previous pipeline runs again") from e
        self._networks = networks

    # -- the Device protocol ---------------------------------------------------------------
    def start(self, on_frames: FrameCallback, on_error: ErrorCallback) -> None:
        with self._lock:
            self._callbacks = (on_frames, on_error)
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

    def deploy(self, stream: str, deployment: Deployment, workdir: Path) -> None:
        network = device_network(deployment, self.plan.frame_size(stream))     # refused before any restart
        with self._lock:
            self._restart({**self._networks, stream: network})

    def remove(self, stream: str) -> None:
        with self._lock:
            if stream not in self._networks:
                raise DeployError(f"no network is deployed on {stream}")
            self._restart({s: n for s, n in self._networks.items() if s != stream})

    def status(self) -> dict[str, str]:
        device = self._device
        if device is None or device.isClosed() or self._pipeline is None:
            return {"device": "not streaming (starting, restarting for a network, or closed)"}
        try:
            temperature, css, mss = device.getChipTemperature(), device.getLeonCssCpuUsage(), device.getLeonMssCpuUsage()
            speed = device.getUsbSpeed().name
        except Exception as e:  # noqa: BLE001 - diagnostics report it, never raise
            return {"device": f"unavailable: {e}"}
        return {"chip temperature °C": f"{temperature.average:.1f}",
                "CSS CPU load %": f"{100 * css.average:.1f}",
                "MSS CPU load %": f"{100 * mss.average:.1f}",
                "USB speed": speed,
                **{f"{s} nn": n.deployment.source for s, n in self._networks.items()}}

    def close(self) -> None:
        with self._lock:
            self._callbacks = None
            self._stop_streaming()
            self._device = None
