"""The simulated OAK's camera controls: each camera's optics (sim/optics.py), the OAK-D Pro's IR
illumination (sim/projector.py), and what the simulated models refuse.

With stereo on, the mono pair shares one exposure (the left camera's settings and 3A; the right
camera takes its exposure time and ISO), as an OAK runs its synchronised pair. Settings arrive on
the node's thread and apply from the next frame; the optics' 3A state lives on the capture threads.
"""
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np

from ..core.controls import (
    CONTROL_CAMERAS,
    IR_FIELDS,
    CameraControlSpec,
    IRSpec,
    device_jpeg_problem,
    ir_device_problem,
    shared_exposure_problem,
)
from ..core.spec import PipelineSpec
from ..sim.optics import IMX378, OV9282, CameraOptics
from ..sim.projector import Illuminator
from ..sim.render import Renderer
from ..sim.rig import Rig
from .base import DeviceError

SIM_MODEL_NAMES = {"oak-d": "OAK-D (simulated)", "oak-d-pro": "OAK-D Pro (simulated)"}
_IR_MODELS = ("oak-d-pro",)


class SimControls:
    def __init__(self, spec: PipelineSpec, rig: Rig, renderer: Renderer):
        self.model = spec.sim.model
        self.device_name = SIM_MODEL_NAMES[self.model]
        self.stereo = spec.enabled("stereo")
        self.device_jpeg = any(spec.mjpeg_link(c) for c in CONTROL_CAMERAS)      # <camera>.link_format mjpeg
        problems = {name: why for name, value in ((n, getattr(spec.ir, f)) for n, f in IR_FIELDS.items())
                    if (why := self.control_problem(name, value))}
        if problems:
            raise DeviceError("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.camera_controls: dict[str, CameraControlSpec] = dict(spec.controls)
        self.ir: IRSpec = spec.ir
        seed = spec.sim.seed
        self.optics = {
            "rgb": CameraOptics(IMX378, rig.rgb.width, spec.streams["rgb"].fps, seed * 3, spec.controls["rgb"]),
            "left": CameraOptics(OV9282, rig.left.width, spec.streams["left"].fps, seed * 3 + 1, spec.controls["left"]),
            "right": CameraOptics(OV9282, rig.right.width, spec.streams["right"].fps, seed * 3 + 2,
                                  spec.controls["right"]),
        }
        if self.stereo:           # the pair runs on the left camera's settings
            self.optics["right"].control = spec.controls["left"]
        self._renderer = renderer
        self._rig = rig
        self._illuminators = {"left": Illuminator(rig.left), "right": Illuminator(rig.right)}
        self._lock = threading.Lock()
        self._matcher = None
        self._matcher_ir: IRSpec | None = None

    # -- settings (node thread) ------------------------------------------------------------
    def control_problem(self, name: str, value) -> str | None:
        """Why this simulated model refuses a live setting (None: it takes it)."""
        if self.model not in _IR_MODELS and (why := ir_device_problem(name, value, self.device_name)):
            return why + "; the simulator has one with sim.model oak-d-pro"
        if getattr(self, "stereo", False) and name.startswith("right.exposure."):
            return shared_exposure_problem(name)
        if getattr(self, "device_jpeg", False) and (why := device_jpeg_problem(name, self.device_name)):
            return why + " (as an OAK does: sim_video.mjpeg_frame stands in for its encoder)"
        return None

    def set_camera_control(self, camera: str, control: CameraControlSpec) -> None:
        if camera not in CONTROL_CAMERAS:
            raise ValueError(f"no camera {camera!r}; cameras are {', '.join(CONTROL_CAMERAS)}")
        with self._lock:
            self.camera_controls[camera] = control
            self.optics[camera].control = control
            if self.stereo and camera == "left":
                self.camera_controls["right"] = replace(self.camera_controls["right"], **_exposure_of(control))
                self.optics["right"].control = control

    def set_ir(self, ir: IRSpec) -> None:
        for name, f in IR_FIELDS.items():
            why = self.control_problem(name, getattr(ir, f))
            if why:
                raise ValueError(f"{name}: {why}")
        self.ir = ir

    def trigger_autofocus(self) -> tuple[bool, str]:
        mode = self.camera_controls["rgb"].focus_mode
        if mode in ("manual", "edof"):
            return False, (f"rgb.focus.mode is {mode}: the lens does not autofocus; set rgb.focus.mode auto, macro "
                           "or continuous_*")
        self.optics["rgb"].trigger_autofocus()
        return True, (f"autofocus triggered ({mode}): focusing on the centre region" if mode in ("auto", "macro")
                      else f"autofocus triggered ({mode}): refocusing on the centre region")

    # -- frames (capture threads) ----------------------------------------------------------
    def colour(self, radiance: np.ndarray, depth: np.ndarray, seq: int) -> np.ndarray:
        """The colour camera's image of the rendered light (its IR-cut filter keeps the IR out)."""
        return self.optics["rgb"].apply(radiance, depth, seq)

    def attach_matcher(self, matcher) -> None:
        """The stereo matcher whose static-room background (set without IR) must show the IR light
        too; a matcher without a background (a moving rig) is left alone."""
        self._matcher = matcher
        self._matcher_ir = IRSpec()

    def mono(self, radiance: dict[str, np.ndarray], depth: dict[str, np.ndarray], seq: int):
        """(the light reaching each mono camera incl. IR, before the sensor: what the stereo matcher
        compares with its background; the cameras' images)."""
        ir = self.ir
        lit = {name: self._illuminators[name].apply(radiance[name], depth[name], ir.dot_projector, ir.flood)
               for name in radiance}
        if self._matcher is not None and self._matcher_ir != ir and self._matcher.has_background:
            self._matcher.set_background(*self.mono_backgrounds(ir))
            self._matcher_ir = ir
        if self.stereo and "left" in lit and "right" in lit:
            # One exposure for the pair: the left camera's 3A; the right takes the same time and ISO.
            left = self.optics["left"].apply(lit["left"], None, seq)
            return lit, {"left": left, "right": self.optics["right"].apply(lit["right"], None, seq,
                                                                           follow=self.optics["left"])}
        return lit, {name: self.optics[name].apply(image, None, seq) for name, image in lit.items()}

    def mono_backgrounds(self, ir: IRSpec | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The static room as the mono pair sees it with the IR light on."""
        ir = ir or self.ir
        out = []
        for name, camera in (("left", self._rig.left), ("right", self._rig.right)):
            image = self._renderer.background(camera, mono=True)
            out.append(self._illuminators[name].apply(image, self._renderer.background_depth(camera),
                                                      ir.dot_projector, ir.flood))
        return out[0], out[1]

    def status(self) -> dict[str, str]:
        out = {}
        names = ("rgb", "left") if self.stereo else ("rgb", "left", "right")
        for name in names:
            o = self.optics[name]
            label = "left+right" if self.stereo and name == "left" else name
            mode = "auto" if o.control.auto_exposure else "manual"
            out[f"{label} exposure"] = f"{o.time_us:.0f} us, ISO {o.iso:.0f} ({mode})"
        rgb = self.optics["rgb"]
        out["rgb white balance"] = (f"{rgb.kelvin:.0f} K ({'auto' if rgb.control.auto_white_balance else 'manual'})")
        distance = rgb.focus_distance_m
        out["rgb lens position"] = (f"{rgb.lens:.0f} ({rgb.control.focus_mode}, focused at "
                                    f"{'infinity' if distance == float('inf') else f'{distance:.2f} m'})")
        if self.model in _IR_MODELS:
            out["IR dot projector / flood"] = f"{self.ir.dot_projector:.2f} / {self.ir.flood:.2f}"
        return out


def _exposure_of(control: CameraControlSpec) -> dict:
    return {"auto_exposure": control.auto_exposure, "exposure_time_us": control.exposure_time_us,
            "iso": control.iso, "compensation": control.compensation}

