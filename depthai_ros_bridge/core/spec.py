"""The pipeline spec: every node parameter, its default and rules, parsed once into frozen dataclasses.

ROS-free: `parse_spec` takes a flat mapping of parameter name -> value (what the
node's parameters hold) and returns a `PipelineSpec` or raises `ConfigError`
naming each offending parameter and what it allows.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .controls import CONTROL_PARAMETERS, CameraControlSpec, IRSpec, control_problems, controls_from, ir_from
from .faults import FORMS as FAULT_FORMS
from .faults import parse_fault
from .imu_spec import ALL_RATES_HZ, CAMERA_MOTIONS, ImuSpec, imu_spec, rate_hz_problem
from .link_spec import LINK_PARAMETERS, link_formats
from .param import Param
from .sensors import MONO_RESOLUTIONS, RGB_RESOLUTIONS
from .spatial import SpatialConfig
from .video_spec import RATE_CONTROLS, VIDEO_CODECS, VIDEO_PROFILES, VideoSpec, video_problems, video_spec

# Caps on what one parameter may hold: values come from anyone on the DDS domain.
MAX_STRING_CHARS = 64 * 1024
MAX_LIST_ITEMS, MAX_LIST_ITEM_CHARS = 1000, 256
CAMERA_STREAMS = ("rgb", "left", "right")
STREAMS = CAMERA_STREAMS + ("stereo",)
DEVICE_TYPES = ("auto", "oak", "sim")
RELIABILITIES = ("reliable", "best_effort")
MEDIAN_FILTERS = ("off", "3x3", "5x5", "7x7")
DEPTH_ALIGNMENTS = ("right", "rgb")
DEPTH_ENCODINGS = ("16UC1", "32FC1")
RESIZE_MODES = ("letterbox", "crop", "stretch")


class ConfigError(ValueError):
    """One or more parameters are invalid; `problems` maps parameter name -> what is wrong."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems.items()))


def fault_problem(value: str) -> str | None:
    """Why a `sim.fault` string is refused ("" is no fault)."""
    if not value:
        return None
    try:
        parse_fault(value)
    except ValueError as e:
        return str(e)
    return None


def _stream_params(stream: str, resolution: str | None, resolutions: dict | None) -> dict[str, Param]:
    p = {
        f"{stream}.enabled": Param(True, f"Publish the {stream} stream."),
        f"{stream}.max_fps": Param(0.0, "Publish at most this rate (Hz); 0 = every frame.",
                                   runtime=True, min=0.0),
        f"{stream}.qos.reliability": Param("reliable", "Publisher QoS reliability.", RELIABILITIES),
        f"{stream}.qos.depth": Param(10, "Publisher QoS history depth.", min=1, max=1000),
    }
    if resolution is not None:
        assert resolutions is not None, "a camera stream comes with its resolution table"
        p.update(_nn_params(stream))
        p[f"{stream}.resolution"] = Param(resolution, "Sensor output resolution.", tuple(resolutions))
        p[f"{stream}.fps"] = Param(30.0, "Sensor frame rate (Hz).", min=0.0, min_exclusive=True)
        p[f"{stream}.frame_id"] = Param(
            "", "Optical frame id of the images; empty = <tf_prefix>_<stream>_camera_optical_frame.")
    return p


def _nn_params(stream: str) -> dict[str, Param]:
    nn = f"{stream}.nn"
    return {
        f"{nn}.model": Param("", "Network deployed at configure: path to .onnx, .blob or NN archive; "
                                 "after a deploy/remove it shows what runs."),
        f"{nn}.config": Param("", "Robopipe NNConfig JSON for a bare model (an NN archive carries its own)."),
        f"{nn}.labels": Param([], "Class names, by class index."),
        f"{nn}.resize_mode": Param("letterbox", "How frames fit the network input.", RESIZE_MODES),
        f"{nn}.spatial.bbox_scale": Param(0.5, "Central share of a box whose depth gives its position.",
                                          runtime=True, min=0.05, max=1.0),
        f"{nn}.spatial.depth_min_m": Param(0.2, "Depth below this is ignored for positions (m).",
                                           runtime=True, min=0.0),
        f"{nn}.spatial.depth_max_m": Param(10.0, "Depth beyond this is ignored for positions (m).",
                                           runtime=True, min=0.0),
        f"{nn}.tracker.enabled": Param(False, "Track detections: ~/<stream>/nn/tracks with stable ids."),
        f"{nn}.tracker.max_tracklets": Param(20, "Most objects tracked at once.", min=1, max=1000),
        f"{nn}.tracker.confidence_threshold": Param(0.5, "Only detections above this are tracked.",
                                                    min=0.0, max=1.0),
    }


PARAMETERS: dict[str, Param] = {
    "autostart": Param(False, "Configure and activate at start-up."),
    "device.type": Param("auto", "Device backend: auto (first OAK found), oak, or sim (simulated OAK-D).",
                         DEVICE_TYPES),
    "device.id": Param("", "OAK to open: MXID/serial or IP address; empty = first found."),
    "device.usb2_mode": Param(False, "Force USB2 link speed (longer cables)."),
    "device.reconnect": Param(True, "After a device failure, configure and activate again by itself (backoff "
                                    "0.5 s doubling to 5 s) until the device is back."),
    "device.stall_timeout_s": Param(2.0, "An enabled stream without frames this long is an ERROR on /diagnostics; "
                                         "twice this long restarts the device.", min=0.1, max=3600.0),
    "tf_prefix": Param("", "Prefix of TF frame names and /diagnostics entries; empty = the node's namespace "
                               "and name ('/cam1/oak' -> cam1_oak)."),
    "base_frame": Param("", "Parent frame of the camera frames; empty = <tf_prefix>_base_frame."),
    # The IMU (core/imu_spec.py): ~/imu/data in <tf_prefix>_imu_frame; the device checks the rate against its IMU.
    "imu.enabled": Param(False, "Publish the IMU on ~/imu/data (sensor_msgs/Imu); a device without an IMU refuses it."),
    "imu.rate_hz": Param(200, "IMU rate (Hz): BMI270 25, 50, 100, 200, 250; BNO086 25, 33, 50, 100, 200, 400.",
                         min=min(ALL_RATES_HZ), max=max(ALL_RATES_HZ), check=rate_hz_problem),
    "imu.qos.reliability": Param("reliable", "Publisher QoS reliability of ~/imu/data.", ("reliable", "best_effort")),
    "imu.qos.depth": Param(50, "Publisher QoS history depth of ~/imu/data.", min=1, max=1000),
    "sim.camera_motion": Param("static", "How the simulated rig moves: static, handheld (sway of a few cm and "
                                         "degrees) or orbit (a +-20 deg arc around a point 2.8 m ahead); images, "
                                         "depth, detections and the IMU follow it.", CAMERA_MOTIONS),
    **_stream_params("rgb", "1080p", RGB_RESOLUTIONS),
    **_stream_params("left", "400p", MONO_RESOLUTIONS),
    **_stream_params("right", "400p", MONO_RESOLUTIONS),
    **_stream_params("stereo", None, None),
    "stereo.confidence_threshold": Param(
        200, "Disparity confidence threshold 0..255; lower rejects more pixels.", runtime=True, min=0, max=255),
    "stereo.median_filter": Param("5x5", "Median filter on disparity.", MEDIAN_FILTERS),
    "stereo.lr_check": Param(True, "Left-right consistency check."),
    "stereo.extended_disparity": Param(False, "Search 192 instead of 96 disparities (closer minimum depth)."),
    "stereo.subpixel": Param(True, "Subpixel disparity instead of whole pixels (sim: 1/16 px; "
                                      "OAK: 1/16 px, 1/8 px with a median filter)."),
    "stereo.depth_limit_m": Param(0.0, "Depth beyond this (m) is published as no data; 0 = no limit.",
                                  runtime=True, min=0.0),
    "stereo.align": Param("right", "Camera the depth map is aligned to.", DEPTH_ALIGNMENTS),
    "stereo.depth_encoding": Param("16UC1", "16UC1 = millimetres (0 = no data), 32FC1 = metres (NaN = no data).",
                                   DEPTH_ENCODINGS),
    # On-device post-processing (OAK only; the simulator ignores them). Each is set explicitly:
    # a fresh StereoDepthConfig (depthai 3.12) has hole filling and an adaptive median on.
    "stereo.decimation_factor": Param(1, "OAK: depth decimated by this factor (1..4), pixel skipping; "
                                         "needs stereo.align right.", min=1, max=4),
    "stereo.speckle_filter.enabled": Param(False, "OAK: speckle filter (removes small disparity blobs)."),
    "stereo.speckle_filter.range": Param(50, "OAK: speckle search range (device default 50).", min=0, max=240),
    "stereo.temporal_filter.enabled": Param(False, "OAK: temporal filter (averages over frames; smears motion)."),
    "stereo.temporal_filter.alpha": Param(0.4, "OAK: temporal filter weight of the current frame (device default 0.4).",
                                          min=0.0, max=1.0),
    "stereo.temporal_filter.delta": Param(3, "OAK: temporal filter step threshold in disparity units; 0 = auto "
                                             "(device default 3).", min=0, max=255),
    "stereo.spatial_filter.enabled": Param(False, "OAK: spatial edge-preserving filter with hole filling."),
    "stereo.spatial_filter.hole_filling_radius": Param(2, "OAK: spatial filter hole-filling radius, px "
                                                          "(device default 2).", min=0, max=16),
    "stereo.spatial_filter.alpha": Param(0.5, "OAK: spatial filter smoothing weight (device default 0.5).",
                                         min=0.0, max=1.0),
    "stereo.spatial_filter.delta": Param(3, "OAK: spatial filter step threshold; 0 = auto (device default 3).",
                                         min=0, max=255),
    "stereo.spatial_filter.iterations": Param(1, "OAK: spatial filter passes (device default 1).", min=1, max=5),
    "stereo.threshold_filter.min_mm": Param(0, "OAK: depth below this (mm) is no data on the device (default 0).",
                                            min=0, max=65535),
    "stereo.threshold_filter.max_mm": Param(65535, "OAK: depth beyond this (mm) is no data on the device "
                                                   "(default 65535).", min=0, max=65535),
    "compressed.jpeg_quality": Param(95, "JPEG quality of ~/<camera>/image_raw/compressed (image_transport's default); "
                                         "live where the host encodes (an OAK's MJPEG encoders keep their "
                                         "configured quality).",
                                     runtime=True, min=1, max=100),
    "compressed.png_level": Param(3, "PNG level of ~/stereo/image_raw/compressedDepth: higher = smaller, slower "
                                     "(image_transport's default).", runtime=True, min=0, max=9),
    # Gen1's `video` config (H.264/H.265 of the colour camera on ~/rgb/image_raw/ffmpeg): OAK = on-device
    # VideoEncoder, simulator = libx264/libx265 (encoding only while someone subscribes).
    "video.enabled": Param(False, "Publish H.264/H.265 of the colour camera on ~/rgb/image_raw/ffmpeg "
                                  "(ffmpeg_image_transport_msgs/FFMPEGPacket)."),
    "video.codec": Param("h264", "Video codec.", VIDEO_CODECS),
    "video.profile": Param("h264_main", "Encoder profile; must match video.codec.", VIDEO_PROFILES),
    "video.rate_control": Param("cbr", "cbr = constant bitrate at video.bitrate_kbps; vbr = video.quality, "
                                       "capped at video.bitrate_kbps.", RATE_CONTROLS),
    "video.bitrate_kbps": Param(8000, "Target (cbr) or cap (vbr) of the video bit rate, kbit/s.",
                                min=100, max=100000),
    "video.keyframe_frequency": Param(30, "A key frame every this many frames (a late subscriber starts "
                                          "decoding at the next one).", min=1, max=600),
    "video.num_b_frames": Param(0, "B-frames between reference frames (not with h264_baseline).", min=0, max=3),
    "video.quality": Param(80, "Quality 1..100 for vbr.", min=1, max=100),
    "nn.max_model_bytes": Param(256 * 1024 * 1024, "Largest model file, upload or uncompressed NN archive a deploy "
                                                   "accepts (bytes).", min=1024, max=4 * 1024 ** 3),
    "nn.allowed_model_dirs": Param([], "Directories a deploy's `model` path may lie in (resolved: symlinks and .. "
                                       "cannot leave them); empty = the package's models/. The upload cache "
                                       "(~/.cache/depthai_ros_bridge/models) is always allowed."),
    "sim.fault": Param("", "Inject a fault into the simulated device, applied when set, then reset to \"\": "
                           + ", ".join(FAULT_FORMS) + ".", runtime=True, check=fault_problem),
    "sim.seed": Param(0, "Seed of the simulated scene (sim device only).", min=0),
    "sim.motion_speed": Param(1.0, "Speed factor of the simulated objects; 0 = static scene.", min=0.0),
    **LINK_PARAMETERS,        # <camera>.link_format (core/link_spec.py)
    **CONTROL_PARAMETERS,     # <camera>.exposure.*, rgb.white_balance.*, rgb.focus.*, ir.*, sim.model, sim.scene
}


@dataclass(frozen=True)
class QoSSpec:
    reliability: str
    depth: int


@dataclass(frozen=True)
class TrackerSpec:
    enabled: bool
    max_tracklets: int
    confidence_threshold: float


@dataclass(frozen=True)
class NNSpec:
    """The network to deploy on a stream at configure (model empty = none), and how to use its results."""

    model: str
    config: str
    labels: tuple[str, ...]
    resize_mode: str
    spatial: SpatialConfig
    tracker: TrackerSpec


@dataclass(frozen=True)
class StreamSpec:
    name: str
    enabled: bool
    max_fps: float
    qos: QoSSpec
    # Camera streams only (None for stereo):
    resolution: str | None = None
    width: int = 0
    height: int = 0
    fps: float = 0.0
    frame_id: str = ""
    nn: NNSpec | None = None


@dataclass(frozen=True)
class StereoSpec:
    confidence_threshold: int
    median_filter: str
    lr_check: bool
    extended_disparity: bool
    subpixel: bool
    depth_limit_m: float
    align: str
    depth_encoding: str
    post: PostProcessingSpec | None = None     # None: every filter off


@dataclass(frozen=True)
class PostProcessingSpec:
    """The OAK's stereo post-processing filters (stereo.<filter>.* parameters)."""

    decimation_factor: int = 1
    speckle: bool = False
    speckle_range: int = 50
    temporal: bool = False
    temporal_alpha: float = 0.4
    temporal_delta: int = 3
    spatial: bool = False
    spatial_hole_filling_radius: int = 2
    spatial_alpha: float = 0.5
    spatial_delta: int = 3
    spatial_iterations: int = 1
    threshold_min_mm: int = 0
    threshold_max_mm: int = 65535


@dataclass(frozen=True)
class CompressionSpec:
    jpeg_quality: int
    png_level: int


@dataclass(frozen=True)
class DeviceSpec:
    type: str
    id: str
    usb2_mode: bool
    reconnect: bool = True
    stall_timeout_s: float = 2.0


@dataclass(frozen=True)
class ModelSourceSpec:
    max_model_bytes: int
    allowed_dirs: tuple[str, ...]


@dataclass(frozen=True)
class SimSpec:
    seed: int
    motion_speed: float
    model: str = "oak-d"
    scene: str = "room"


@dataclass(frozen=True)
class PipelineSpec:
    device: DeviceSpec
    tf_prefix: str
    base_frame: str
    streams: dict[str, StreamSpec]
    stereo: StereoSpec
    sim: SimSpec
    compressed: CompressionSpec
    imu: ImuSpec = ImuSpec()
    models: ModelSourceSpec = ModelSourceSpec(256 * 1024 * 1024, ())
    video: VideoSpec = VideoSpec()
    controls: dict[str, CameraControlSpec] = field(
        default_factory=lambda: {c: CameraControlSpec() for c in ("rgb", "left", "right")})
    ir: IRSpec = IRSpec()
    link_formats: dict[str, str] = field(default_factory=lambda: {c: "raw" for c in CAMERA_STREAMS})

    def enabled(self, stream: str) -> bool:
        return self.streams[stream].enabled

    def mjpeg_link(self, camera: str) -> bool:
        """Whether only the device's MJPEG of this enabled camera crosses the link (core/link_spec.py)."""
        return self.link_formats.get(camera) == "mjpeg" and self.enabled(camera)

    def body_frame(self, camera: str) -> str:
        return f"{self.tf_prefix}_{camera}_camera_frame"

    @property
    def imu_frame(self) -> str:
        return f"{self.tf_prefix}_imu_frame"

    def optical_frame(self, stream: str) -> str:
        """Frame id of a stream's images; depth is in the frame of the camera it is aligned to."""
        camera = self.stereo.align if stream == "stereo" else stream
        return self.streams[camera].frame_id or f"{self.tf_prefix}_{camera}_camera_optical_frame"

    @property
    def depth_size(self) -> tuple[int, int]:
        """Size of the depth image: the mono size, or aligned to rgb the mono width at rgb's aspect ratio."""
        mono, rgb = self.streams["left"], self.streams["rgb"]
        if self.stereo.align == "rgb":
            return mono.width, round(mono.width * rgb.height / rgb.width)
        return mono.width, mono.height

    def expected_rate(self, stream: str) -> float:
        """The rate a stream's topics should have: its sensor's (stereo: the mono pair's), capped by max_fps."""
        s = self.streams[stream]
        fps = self.streams["right"].fps if stream == "stereo" else s.fps
        return min(fps, s.max_fps) if s.max_fps else fps

    @property
    def capture_fps(self) -> float:
        """Rate of the device's fastest enabled sensor."""
        return max((s.fps for s in self.streams.values() if s.enabled and s.fps), default=0.0)


_KIND_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
               list: "a string array", tuple: "a string array"}


def check_value(name: str, value: Any) -> str | None:
    """Why `value` is not allowed for parameter `name`, or None if it is."""
    rule = PARAMETERS[name]
    kind = type(rule.default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is list and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        if len(value) > MAX_LIST_ITEMS or any(len(v) > MAX_LIST_ITEM_CHARS for v in value):
            return f"at most {MAX_LIST_ITEMS} entries of at most {MAX_LIST_ITEM_CHARS} characters each"
        return None
    if type(value) is not kind:
        return f"must be {_KIND_NAMES[kind]}, got {_KIND_NAMES.get(type(value), type(value).__name__)} {value!r}"
    if kind is float and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if kind is str and len(value) > MAX_STRING_CHARS:
        return f"at most {MAX_STRING_CHARS} characters, got {len(value)}"
    if rule.check is not None:
        why = rule.check(value)
        if why:
            return why
    if rule.choices and value not in rule.choices:
        return f"{value!r} is not one of {', '.join(rule.choices)}"
    if rule.min is not None and rule.min_exclusive and value <= rule.min:
        return f"must be > {rule.min}, got {value}"
    if rule.min is not None and value < rule.min:
        return f"{value} is below the minimum {rule.min}"
    if rule.max is not None and value > rule.max:
        return f"{value} is above the maximum {rule.max}"
    return None


def _nn_spec(v: dict[str, Any], stream: str) -> NNSpec:
    nn = f"{stream}.nn"
    return NNSpec(v[f"{nn}.model"], v[f"{nn}.config"], tuple(v[f"{nn}.labels"]), v[f"{nn}.resize_mode"],
                  SpatialConfig(v[f"{nn}.spatial.bbox_scale"], v[f"{nn}.spatial.depth_min_m"],
                                v[f"{nn}.spatial.depth_max_m"]),
                  TrackerSpec(v[f"{nn}.tracker.enabled"], v[f"{nn}.tracker.max_tracklets"],
                              v[f"{nn}.tracker.confidence_threshold"]))


def parse_spec(values: Mapping[str, Any], node_name: str = "oak") -> PipelineSpec:
    """Validate every parameter and build the spec; raises ConfigError listing all problems."""
    problems: dict[str, str] = {}
    for name in values:
        if name not in PARAMETERS:
            head = name.split(".")[0]
            if "." in name and head not in STREAMS + ("device", "sim", "compressed", "nn", "video", "ir", "imu"):
                problems[name] = f"unknown stream {head!r}; streams are {', '.join(STREAMS)}"
            else:
                problems[name] = "unknown parameter"
    v: dict[str, Any] = {}
    for name, rule in PARAMETERS.items():
        value = values.get(name, rule.default)
        why = check_value(name, value)
        if why:
            problems[name] = why
        v[name] = float(value) if isinstance(rule.default, float) and not isinstance(value, bool) \
            and isinstance(value, (int, float)) else value
    if problems:
        raise ConfigError(problems)

    streams = {}
    for s in STREAMS:
        qos = QoSSpec(v[f"{s}.qos.reliability"], v[f"{s}.qos.depth"])
        if s == "stereo":
            streams[s] = StreamSpec(s, v[f"{s}.enabled"], v[f"{s}.max_fps"], qos)
            continue
        table = RGB_RESOLUTIONS if s == "rgb" else MONO_RESOLUTIONS
        width, height = table[v[f"{s}.resolution"]]
        streams[s] = StreamSpec(s, v[f"{s}.enabled"], v[f"{s}.max_fps"], qos, v[f"{s}.resolution"],
                                width, height, v[f"{s}.fps"], v[f"{s}.frame_id"], _nn_spec(v, s))
        if streams[s].enabled and streams[s].fps <= 0:
            problems[f"{s}.fps"] = f"must be > 0, got {streams[s].fps}"

    if v["stereo.enabled"]:
        for mono in ("left", "right"):
            if not v[f"{mono}.enabled"]:
                problems["stereo.enabled"] = "depth needs both mono streams: set left.enabled and right.enabled"
        if v["left.resolution"] != v["right.resolution"]:
            problems["right.resolution"] = "must equal left.resolution when stereo is enabled"
        if v["left.fps"] != v["right.fps"]:
            problems["right.fps"] = "must equal left.fps when stereo is enabled (the mono pair is synchronised)"
        if v["stereo.decimation_factor"] > 1 and v["stereo.align"] == "rgb":
            problems["stereo.decimation_factor"] = ("must be 1 with stereo.align rgb "
                                                    "(aligned depth has the colour frame's size)")
        if v["stereo.threshold_filter.min_mm"] >= v["stereo.threshold_filter.max_mm"]:
            problems["stereo.threshold_filter.min_mm"] = "must be below stereo.threshold_filter.max_mm"
        if v["stereo.subpixel"] and v["stereo.median_filter"] == "7x7":
            problems["stereo.median_filter"] = "7x7 is not available with stereo.subpixel; use off, 3x3 or 5x5"
    problems.update(video_problems(v))
    problems.update(control_problems(v))
    if problems:
        raise ConfigError(problems)

    tf_prefix = v["tf_prefix"] or node_name
    return PipelineSpec(
        device=DeviceSpec(v["device.type"], v["device.id"], v["device.usb2_mode"], v["device.reconnect"],
                          v["device.stall_timeout_s"]),
        tf_prefix=tf_prefix,
        base_frame=v["base_frame"] or f"{tf_prefix}_base_frame",
        imu=imu_spec(v),
        streams=streams,
        stereo=StereoSpec(v["stereo.confidence_threshold"], v["stereo.median_filter"], v["stereo.lr_check"],
                          v["stereo.extended_disparity"], v["stereo.subpixel"], v["stereo.depth_limit_m"],
                          v["stereo.align"], v["stereo.depth_encoding"], PostProcessingSpec(
                              v["stereo.decimation_factor"], v["stereo.speckle_filter.enabled"],
                              v["stereo.speckle_filter.range"], v["stereo.temporal_filter.enabled"],
                              v["stereo.temporal_filter.alpha"], v["stereo.temporal_filter.delta"],
                              v["stereo.spatial_filter.enabled"], v["stereo.spatial_filter.hole_filling_radius"],
                              v["stereo.spatial_filter.alpha"], v["stereo.spatial_filter.delta"],
                              v["stereo.spatial_filter.iterations"], v["stereo.threshold_filter.min_mm"],
                              v["stereo.threshold_filter.max_mm"])),
        sim=SimSpec(v["sim.seed"], v["sim.motion_speed"], v["sim.model"], v["sim.scene"]),
        compressed=CompressionSpec(v["compressed.jpeg_quality"], v["compressed.png_level"]),
        models=ModelSourceSpec(v["nn.max_model_bytes"], tuple(v["nn.allowed_model_dirs"])),
        video=video_spec(v),
        controls=controls_from(v),
        ir=ir_from(v),
        link_formats=link_formats(v),
    )
