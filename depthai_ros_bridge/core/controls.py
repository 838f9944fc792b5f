"""Live camera controls (exposure, white balance, focus) and IR illumination: parameters and specs.

ROS-free. The parameters mirror Gen1's camera controls (`setManualExposure`, `setAutoFocusMode`,
`request_af_trigger` ...) and apply while the node runs; `controls_from`/`ir_from` turn the
parameter values into the specs both backends apply.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .param import Param

CONTROL_CAMERAS = ("rgb", "left", "right")
FOCUS_MODES = ("continuous_picture", "continuous_video", "auto", "macro", "edof", "manual")
SIM_MODELS = ("oak-d", "oak-d-pro")
SIM_SCENES = ("room", "plain_wall")
EXPOSURE_MAX_US = 33000           # Gen1/v3 setManualExposure: 1..33000 us (and at most the frame time)


@dataclass(frozen=True)
class CameraControlSpec:
    """One camera's 3A settings. White balance and focus only mean something on the colour camera."""

    auto_exposure: bool = True
    exposure_time_us: int = 20000
    iso: int = 100
    compensation: int = 0         # auto-exposure target, in 1/3 EV steps
    auto_white_balance: bool = True
    kelvin: int = 5500
    focus_mode: str = "continuous_picture"
    focus_position: int = 0       # manual lens position 0 (infinity) .. 255 (closest)


@dataclass(frozen=True)
class IRSpec:
    """OAK-D Pro illumination, each 0 (off) .. 1 (full power)."""

    dot_projector: float = 0.0
    flood: float = 0.0

    @property
    def on(self) -> bool:
        return self.dot_projector > 0 or self.flood > 0


# parameter suffix -> CameraControlSpec field
_EXPOSURE_FIELDS = {"exposure.auto": "auto_exposure", "exposure.time_us": "exposure_time_us",
                    "exposure.iso": "iso", "exposure.compensation": "compensation"}
_RGB_FIELDS = {"white_balance.auto": "auto_white_balance", "white_balance.kelvin": "kelvin",
               "focus.mode": "focus_mode", "focus.position": "focus_position"}
IR_FIELDS = {"ir.dot_projector_intensity": "dot_projector", "ir.flood_intensity": "flood"}


def _camera_params(camera: str) -> dict[str, Param]:
    d = CameraControlSpec()
    p = {
        f"{camera}.exposure.auto": Param(d.auto_exposure, "Auto exposure (time and ISO) towards a mid-grey mean; "
                                                          "false = exposure.time_us and exposure.iso.", runtime=True),
        f"{camera}.exposure.time_us": Param(d.exposure_time_us, "Manual exposure time, us (at most the frame time).",
                                            runtime=True, min=1, max=EXPOSURE_MAX_US),
        f"{camera}.exposure.iso": Param(d.iso, "Manual sensitivity (ISO).", runtime=True, min=100, max=1600),
        f"{camera}.exposure.compensation": Param(d.compensation, "Auto-exposure compensation, 1/3 EV steps.",
                                                 runtime=True, min=-9, max=9),
    }
    if camera == "rgb":
        p.update({
            "rgb.white_balance.auto": Param(d.auto_white_balance, "Auto white balance; false = "
                                                                  "white_balance.kelvin.", runtime=True),
            "rgb.white_balance.kelvin": Param(d.kelvin, "Manual white balance: the light's colour temperature, K.",
                                              runtime=True, min=1000, max=12000),
            "rgb.focus.mode": Param(d.focus_mode, "Autofocus mode (Gen1 AF_MODE_*); auto and macro focus once per "
                                                  "~/rgb/trigger_autofocus.", FOCUS_MODES, runtime=True),
            "rgb.focus.position": Param(d.focus_position, "Lens position in focus.mode manual: 0 = infinity, "
                                                          "255 = closest.", runtime=True, min=0, max=255),
        })
    return p


CONTROL_PARAMETERS: dict[str, Param] = {
    **{name: rule for camera in CONTROL_CAMERAS for name, rule in _camera_params(camera).items()},
    "ir.dot_projector_intensity": Param(0.0, "OAK-D Pro IR dot projector power 0..1 (texture for stereo on "
                                             "plain surfaces); refused on devices without one.",
                                        runtime=True, min=0.0, max=1.0),
    "ir.flood_intensity": Param(0.0, "OAK-D Pro IR flood light power 0..1 (night vision for the mono cameras); "
                                     "refused on devices without one.", runtime=True, min=0.0, max=1.0),
    "sim.model": Param("oak-d", "Simulated device: oak-d, or oak-d-pro (adds the IR dot projector and flood "
                                "light).", SIM_MODELS),
    "sim.scene": Param("room", "Simulated scene: room (textured room, moving objects) or plain_wall "
                               "(a textureless wall 2 m ahead, where stereo needs the dot projector).", SIM_SCENES),
}


def control_field(name: str) -> tuple[str, str] | None:
    """(camera, CameraControlSpec field) a control parameter sets, or None for other parameters."""
    camera, _, rest = name.partition(".")
    if camera not in CONTROL_CAMERAS:
        return None
    field = _EXPOSURE_FIELDS.get(rest) or (_RGB_FIELDS.get(rest) if camera == "rgb" else None)
    return (camera, field) if field else None


def controls_from(v: Mapping[str, Any]) -> dict[str, CameraControlSpec]:
    out = {}
    for camera in CONTROL_CAMERAS:
        fields = {f: v[f"{camera}.{suffix}"] for suffix, f in _EXPOSURE_FIELDS.items()}
        if camera == "rgb":
            fields.update({f: v[f"rgb.{suffix}"] for suffix, f in _RGB_FIELDS.items()})
        out[camera] = CameraControlSpec(**fields)
    return out


def ir_from(v: Mapping[str, Any]) -> IRSpec:
    return IRSpec(**{f: float(v[name]) for name, f in IR_FIELDS.items()})


def shared_exposure_problem(name: str) -> str | None:
    """With stereo on, the mono pair shares one exposure: the left camera's settings."""
    if name.startswith("right.exposure."):
        return (f"with stereo enabled the mono pair shares one exposure: set left.{name.partition('.')[2]} "
                "(it applies to both)")
    return None


def control_problems(v: Mapping[str, Any]) -> dict[str, str]:
    """Configure-time rules that tie control parameters together."""
    problems = {}
    if v["stereo.enabled"]:
        for suffix in _EXPOSURE_FIELDS:
            name, default = f"right.{suffix}", CONTROL_PARAMETERS[f"right.{suffix}"].default
            why = shared_exposure_problem(name)
            if why and v[name] not in (default, v[f"left.{suffix}"]):
                problems[name] = why
    return problems


def ir_device_problem(name: str, value: Any, device: str) -> str | None:
    """Why a device without IR illumination refuses an ir.* value (0 = off is always fine)."""
    if name in IR_FIELDS and value:
        return f"the {device} has no IR illumination (IR is on OAK-D Pro models); leave {name} at 0"
    return None


def fixed_focus_problem(name: str, value: Any, sensor: str) -> str | None:
    """Why a fixed-focus colour camera refuses a focus setting (the defaults are harmless)."""
    if name.startswith("rgb.focus.") and value != CONTROL_PARAMETERS[name].default:
        return f"the colour camera ({sensor}) has a fixed-focus lens; {name} cannot be changed"
    return None


def device_jpeg_problem(name: str, device: str) -> str | None:
    """Why compressed.jpeg_quality cannot change live where the device makes the JPEGs (its MJPEG
    encoders): DepthAI's VideoEncoder takes its quality when the pipeline is built and offers no runtime
    control (luxonis/depthai#186, open)."""
    if name == "compressed.jpeg_quality":
        return (f"the {device} encodes ~/<camera>/image_raw/compressed itself (MJPEG), at the quality its "
                "pipeline was built with; set it while unconfigured (cleanup, set, configure)")
    return None


def with_change(controls: Mapping[str, CameraControlSpec], name: str, value: Any) -> tuple[str, CameraControlSpec]:
    """(camera, its settings after parameter `name` changes to `value`)."""
    where = control_field(name)
    if where is None:
        raise ValueError(f"{name} is not a camera control parameter")
    camera, field = where
    return camera, replace(controls[camera], **{field: value})


def ir_with_change(ir: IRSpec, name: str, value: Any) -> IRSpec:
    return replace(ir, **{IR_FIELDS[name]: float(value)})
