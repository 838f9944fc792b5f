"""The OAK's connected cameras, and whether a spec fits them (pure; no device needed).

`Device.getConnectedCameraFeatures()` reports, per camera, its socket, sensor name, largest size
and the image types it produces; `CAMERAS.json` for the dry run holds the same, one object each:
`{"socket": "CAM_A", "sensor": "IMX378", "width": 4056, "height": 3040, "types": ["COLOR"]}` (and
optionally `"autofocus": false` for a fixed-focus lens).
A spec asking for more than a sensor gives fails here, at configure, naming the parameter and
the sensor -- not at pipeline start with a firmware message.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import depthai as dai

from ...core.link_spec import MJPEG_RATIO
from ...core.sensors import MONO_RESOLUTIONS, RGB_RESOLUTIONS
from ...core.spec import PipelineSpec
from ..base import DeviceError
from .discovery import is_ip

STREAM_SOCKETS = {"rgb": "CAM_A", "left": "CAM_B", "right": "CAM_C"}
SENSOR_TYPES = ("COLOR", "MONO", "RAW", "TOF", "THERMAL")
# CAMERAS.json entries without "autofocus": the sensors Luxonis ships with an AF lens (the -FF/-W models'
# IMX378s are fixed focus: give "autofocus": false for those).
AUTOFOCUS_SENSORS = ("IMX378", "IMX214", "IMX582")


@dataclass(frozen=True)
class ConnectedCamera:
    socket: str                  # "CAM_A" ...
    sensor: str                  # "IMX378", "OV9282", "OV7251" ...
    width: int                   # the sensor's largest output
    height: int
    types: tuple[str, ...]       # of SENSOR_TYPES
    autofocus: bool = False      # the lens moves (CameraFeatures.hasAutofocus)

    @classmethod
    def from_features(cls, f: dai.CameraFeatures) -> ConnectedCamera:
        # CameraSensorType has no RAW member: every colour/mono sensor also gives RAW frames.
        return cls(f.socket.name, f.sensorName, int(f.width), int(f.height), tuple(t.name for t in f.supportedTypes),
                   bool(f.hasAutofocus))

    @classmethod
    def from_json(cls, entry, index: int = 0) -> ConnectedCamera:
        """One CAMERAS.json entry, checked field by field (ValueError says which)."""
        where = f"camera {index}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be an object with socket, sensor, width, height, types")
        missing = [k for k in ("socket", "sensor", "width", "height", "types") if k not in entry]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        socket, sensor, width, height, types = (entry[k] for k in ("socket", "sensor", "width", "height", "types"))
        if socket not in dai.CameraBoardSocket.__members__ or socket == "AUTO":
            raise ValueError(f"{where}: socket {socket!r} is not a camera socket (CAM_A, CAM_B, ...)")
        if not isinstance(sensor, str) or not sensor or len(sensor) > 64:
            raise ValueError(f"{where}: sensor must be the sensor's name, e.g. IMX378")
        for name, v in (("width", width), ("height", height)):
            if type(v) is not int or not 0 < v <= 16384:
                raise ValueError(f"{where}: {name} must be an integer in 1..16384, got {v!r}")
        if not isinstance(types, list) or not types or any(t not in SENSOR_TYPES for t in types):
            raise ValueError(f"{where}: types must be a non-empty list of {', '.join(SENSOR_TYPES)}")
        autofocus = entry.get("autofocus", sensor in AUTOFOCUS_SENSORS)
        if not isinstance(autofocus, bool):
            raise ValueError(f"{where}: autofocus must be true or false, got {autofocus!r}")
        return cls(socket, sensor, width, height, tuple(types), autofocus)

    def as_dict(self) -> dict:
        return {"socket": self.socket, "sensor": self.sensor, "width": self.width, "height": self.height,
                "types": list(self.types), "autofocus": self.autofocus}

    def describe(self) -> str:
        return f"{self.sensor} on {self.socket} ({self.width}x{self.height}, {'/'.join(self.types)})"


def cameras_used(spec: PipelineSpec) -> list[str]:
    """Camera streams whose sensor the pipeline runs: enabled ones, the mono pair for depth, the
    colour camera when depth is aligned to it."""
    stereo = spec.enabled("stereo")
    used = [s for s in ("rgb", "left", "right") if spec.enabled(s) or (stereo and s != "rgb")]
    if stereo and spec.stereo.align == "rgb" and "rgb" not in used:
        used.insert(0, "rgb")
    return used


def check_cameras(spec: PipelineSpec, connected: list[ConnectedCamera]) -> None:
    """DeviceError naming each parameter the device's sensors cannot honour, and what they offer."""
    by_socket = {c.socket: c for c in connected}
    present = ", ".join(c.describe() for c in connected) or "none"
    problems: dict[str, str] = {}
    stereo = spec.enabled("stereo")
    if stereo and not {"CAM_B", "CAM_C"} <= set(by_socket):
        problems["stereo.enabled"] = (f"this device has no stereo pair (cameras on CAM_B and CAM_C); connected: "
                                      f"{present}. Set stereo.enabled false")
    for stream in cameras_used(spec):
        socket = STREAM_SOCKETS[stream]
        camera = by_socket.get(socket)
        if camera is None:
            if not (stereo and stream != "rgb" and "stereo.enabled" in problems):
                param = f"{stream}.enabled" if spec.enabled(stream) else "stereo.align"
                problems[param] = f"{stream} needs a camera on {socket}, which this device lacks; connected: {present}"
            continue
        if stream == "rgb" and "COLOR" not in camera.types:
            param = "rgb.enabled" if spec.enabled("rgb") else "stereo.align"
            problems[param] = f"rgb needs a colour sensor; {camera.describe()} is not one"
            continue
        s = spec.streams[stream]
        if s.width > camera.width or s.height > camera.height:
            table = RGB_RESOLUTIONS if stream == "rgb" else MONO_RESOLUTIONS
            fits = [n for n, (w, h) in table.items() if w <= camera.width and h <= camera.height]
            problems[f"{stream}.resolution"] = (
                f"{s.resolution} ({s.width}x{s.height}) is larger than the {camera.sensor} on {socket} gives "
                f"({camera.width}x{camera.height}); it supports {', '.join(fits) or 'none of ' + ', '.join(table)}")
    if problems:
        raise DeviceError("; ".join(f"{k}: {v}" for k, v in problems.items()))


# -- link bandwidth ------------------------------------------------------------------------------
# Usable payload rates, MB/s (1e6 bytes/s): what XLink moves in practice, below the line rates
# (USB2 480 Mbit/s, PoE 1 Gbit/s, USB3 5 Gbit/s).
LINK_MBPS = {"usb2": 40.0, "poe": 110.0, "usb3": 400.0}
BYTES_PER_PIXEL = {"rgb": 3, "left": 1, "right": 1, "depth": 2, "disparity": 2}


def link_kind(spec: PipelineSpec, protocol: str | None = None) -> str:
    """"poe" for a TCP/IP device (or a device.id that is an IP), "usb2" when forced, else "usb3"."""
    if protocol == "X_LINK_TCP_IP" or (protocol is None and is_ip(spec.device.id)):
        return "poe"
    return "usb2" if spec.device.usb2_mode else "usb3"


def bandwidth_check(sizes: dict[str, tuple[tuple[int, int], float]], link: str,
                    mjpeg: Collection[str] = ()) -> tuple[float, str | None]:
    """(estimated MB/s of the frames sent to the host, a warning if the link cannot carry it).

    `sizes`: FrameSet key -> ((width, height), fps) of what the host queues receive; keys in `mjpeg`
    cross as the device's MJPEG, counted as 1/MJPEG_RATIO of their raw bytes (core/link_spec.py)."""
    total = sum(w * h * BYTES_PER_PIXEL[key] * fps / (MJPEG_RATIO if key in mjpeg else 1.0)
                for key, ((w, h), fps) in sizes.items()) / 1e6
    capacity = LINK_MBPS[link]
    if total <= capacity:
        return total, None
    raw = [c for c in ("rgb", "left", "right") if c in sizes and c not in mjpeg]
    what = "frames" if any(k in mjpeg for k in sizes) else "raw frames"
    fixes = ([f"set {' / '.join(c + '.link_format' for c in raw)} to mjpeg"] if raw else []) + \
        ["lower rgb.resolution or the fps", "disable streams"]
    fix = ", or ".join(fixes)
    return total, (f"the streams need ~{total:.0f} MB/s of {what}, over a {link} link's ~{capacity:.0f} MB/s: "
                   f"frames will be dropped. {fix[0].upper()}{fix[1:]}")
