"""Camera controls on an OAK: the spec's exposure / white balance / focus as dai.CameraControl
messages (the Camera node's initialControl at build, its inputControl queue live), and the IR
illumination of OAK-D Pro models.

Read from depthai-core: CameraControl's setters each add a command to one message
(src/pipeline/datatype/CameraControl.cpp), so one message carries a camera's whole state;
setManualFocus (MOVE_LENS) does not switch autofocus off in v3 (measured on the 3.12 wheel:
autoFocusMode keeps its value), so manual focus also sends AF_MODE OFF. The AF trigger is
setAutoFocusMode + setAutoFocusTrigger, as depthai-ros's FocusControl sends it. IR: the device's
setIrLaserDotProjectorIntensity / setIrFloodLightIntensity (0..1, after the pipeline has started:
examples/python/Misc/Projectors/projectors.py); getIrDrivers() is empty on models without IR.
"""
from __future__ import annotations

import depthai as dai

from ...core.controls import (
    CameraControlSpec,
    IRSpec,
    device_jpeg_problem,
    fixed_focus_problem,
    ir_device_problem,
    shared_exposure_problem,
)

AF_MODES = {"continuous_picture": dai.CameraControl.AutoFocusMode.CONTINUOUS_PICTURE,
            "continuous_video": dai.CameraControl.AutoFocusMode.CONTINUOUS_VIDEO,
            "auto": dai.CameraControl.AutoFocusMode.AUTO,
            "macro": dai.CameraControl.AutoFocusMode.MACRO,
            "edof": dai.CameraControl.AutoFocusMode.EDOF,
            "manual": dai.CameraControl.AutoFocusMode.OFF}


def camera_control(spec: CameraControlSpec, colour: bool, autofocus: bool = True,
                   into: dai.CameraControl | None = None) -> dai.CameraControl:
    """One message setting a camera's exposure and, for a colour camera, its white balance and (if
    its lens moves) focus. `into`: fill an existing message (a Camera node's initialControl)."""
    c = into if into is not None else dai.CameraControl()
    if spec.auto_exposure:
        c.setAutoExposureEnable()
        c.setAutoExposureCompensation(spec.compensation)
    else:
        c.setManualExposure(spec.exposure_time_us, spec.iso)
    if colour:
        if spec.auto_white_balance:
            c.setAutoWhiteBalanceMode(dai.CameraControl.AutoWhiteBalanceMode.AUTO)
        else:
            c.setManualWhiteBalance(spec.kelvin)
        if autofocus:
            c.setAutoFocusMode(AF_MODES[spec.focus_mode])
            if spec.focus_mode == "manual":
                c.setManualFocus(spec.focus_position)
    return c


def autofocus_trigger(spec: CameraControlSpec) -> dai.CameraControl:
    c = dai.CameraControl()
    c.setAutoFocusMode(AF_MODES[spec.focus_mode])
    c.setAutoFocusTrigger()
    return c


def control_summary(spec: CameraControlSpec, colour: bool, autofocus: bool) -> dict:
    """What the dry run shows of a camera's initial control."""
    out = {"exposure": "auto" if spec.auto_exposure else f"{spec.exposure_time_us} us ISO {spec.iso}"}
    if spec.auto_exposure and spec.compensation:
        out["exposure"] += f" {spec.compensation:+d}/3 EV"
    if colour:
        out["white_balance"] = "auto" if spec.auto_white_balance else f"{spec.kelvin} K"
        out["focus"] = "fixed" if not autofocus else (
            f"manual {spec.focus_position}" if spec.focus_mode == "manual" else spec.focus_mode)
    return out


class OakControlRules:
    """What an OAK refuses: IR on a model without it, focus on a fixed-focus colour lens, the right
    camera's exposure while the stereo pair shares the left's, a new JPEG quality while its MJPEG
    encoders run (encoders.add_encoders gives every enabled camera one)."""

    def __init__(self, device_name: str, has_ir: bool, rgb_sensor: str | None, rgb_autofocus: bool, stereo: bool):
        self.device_name, self.has_ir = device_name, has_ir
        self.rgb_sensor, self.rgb_autofocus, self.stereo = rgb_sensor, rgb_autofocus, stereo

    def problem(self, name: str, value) -> str | None:
        if not self.has_ir and (why := ir_device_problem(name, value, self.device_name)):
            return why
        if why := device_jpeg_problem(name, self.device_name):
            return why
        if self.rgb_sensor is not None and not self.rgb_autofocus \
                and (why := fixed_focus_problem(name, value, self.rgb_sensor)):
            return why
        if self.stereo and name.startswith("right.exposure."):
            return shared_exposure_problem(name)
        return None

    def configure_problems(self, controls: dict[str, CameraControlSpec], ir: IRSpec) -> dict[str, str]:
        """The spec's settings this device cannot honour, by parameter (checked at configure)."""
        rgb = controls["rgb"]
        values = {"ir.dot_projector_intensity": ir.dot_projector, "ir.flood_intensity": ir.flood,
                  "rgb.focus.mode": rgb.focus_mode, "rgb.focus.position": rgb.focus_position}
        problems = {}
        for name, value in values.items():
            why = self.problem(name, value)
            if why:
                problems[name] = why
        return problems


def apply_ir(device, ir: IRSpec) -> None:
    """Both IR emitters to the spec's intensities (a running device of a model that has them)."""
    device.setIrLaserDotProjectorIntensity(float(ir.dot_projector))
    device.setIrFloodLightIntensity(float(ir.flood))


class OakControls:
    """An OAK's live controls: the current settings, the Camera nodes' control queues of the running
    pipeline, and the IR emitters. A new pipeline (deploy, reconnect) starts with the current settings."""

    def __init__(self, spec, connected, device_name: str, ir_drivers: list):
        rgb = next((c for c in connected if c.socket == "CAM_A"), None)
        self.rules = OakControlRules(device_name, bool(ir_drivers), rgb.sensor if rgb else None,
                                     rgb.autofocus if rgb else False, spec.enabled("stereo"))
        problems = self.rules.configure_problems(spec.controls, spec.ir)
        if problems:
            from ..base import DeviceError
            raise DeviceError("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.camera_controls: dict[str, CameraControlSpec] = dict(spec.controls)
        self.ir = spec.ir
        self._queues: dict = {}
        self._device = None
        self._seen: dict[str, str] = {}

    def control_problem(self, name: str, value) -> str | None:
        return self.rules.problem(name, value)

    @property
    def rgb_autofocus(self) -> bool:
        return self.rules.rgb_autofocus

    def attach(self, queues: dict, device) -> None:
        """A pipeline started: its control queues, and the IR as set."""
        self._queues, self._device = dict(queues), device
        if self.rules.has_ir:
            self._send_ir()

    def detach(self) -> None:
        self._queues, self._device = {}, None

    def reapply(self) -> None:
        """After depthai reconnected the device: its pipeline ran its initial controls again."""
        for camera in ("rgb", "left", "right"):
            self._send(camera)
        if self.rules.has_ir:
            self._send_ir()

    def set_camera_control(self, camera: str, control: CameraControlSpec) -> None:
        self.camera_controls[camera] = control
        targets = [camera]
        if self.rules.stereo and camera == "left":        # the pair runs on one exposure
            self.camera_controls["right"] = control
            targets.append("right")
        for target in targets:
            self._send(target)

    def _send(self, camera: str) -> None:
        queue = self._queues.get(camera)
        if queue is None:
            return                # not streaming or not running that camera: the next pipeline starts with it
        try:
            queue.send(camera_control(self.camera_controls[camera], camera == "rgb", self.rgb_autofocus))
        except (RuntimeError, dai.MessageQueue.QueueException):
            pass                  # restarting: the next pipeline starts with the current settings

    def set_ir(self, ir: IRSpec) -> None:
        for name, value in (("ir.dot_projector_intensity", ir.dot_projector), ("ir.flood_intensity", ir.flood)):
            why = self.rules.problem(name, value)
            if why:
                raise ValueError(f"{name}: {why}")
        self.ir = ir
        if self.rules.has_ir:
            self._send_ir()

    def _send_ir(self) -> None:
        if self._device is None:
            return
        try:
            apply_ir(self._device, self.ir)
        except RuntimeError:
            pass                  # restarting: attach() applies it to the next pipeline

    def trigger_autofocus(self) -> tuple[bool, str]:
        control = self.camera_controls["rgb"]
        if not self.rgb_autofocus:
            return False, f"the colour camera ({self.rules.rgb_sensor}) has a fixed-focus lens"
        if control.focus_mode in ("manual", "edof"):
            return False, (f"rgb.focus.mode is {control.focus_mode}: the lens does not autofocus; set "
                           "rgb.focus.mode auto, macro or continuous_*")
        queue = self._queues.get("rgb")
        if queue is None:
            return False, "the colour camera is not streaming"
        try:
            queue.send(autofocus_trigger(control))
        except (RuntimeError, dai.MessageQueue.QueueException) as e:
            return False, f"the trigger could not be sent: {e}"
        return True, f"autofocus triggered ({control.focus_mode})"

    def observe(self, frames: dict) -> None:
        """Each frame carries what the camera's 3A chose for it (ImgFrame metadata): keep the latest."""
        for key in ("rgb", "left", "right"):
            frame = frames.get(key)
            if frame is None:
                continue
            try:
                seen = f"{frame.getExposureTime().total_seconds() * 1e6:.0f} us, ISO {frame.getSensitivity()}"
                if key == "rgb":
                    seen += f", {frame.getColorTemperature()} K, lens position {frame.getLensPosition()}"
            except (RuntimeError, AttributeError):
                continue
            self._seen[key] = seen

    def status(self) -> dict[str, str]:
        out = {f"{k} frame (exposure, ISO{', colour temperature, lens' if k == 'rgb' else ''})": v
               for k, v in self._seen.items()}
        for camera, c in self.camera_controls.items():
            if self.rules.stereo and camera == "right":
                continue
            label = "left+right" if self.rules.stereo and camera == "left" else camera
            out[f"{label} exposure setting"] = control_summary(c, False, False)["exposure"]
        rgb = control_summary(self.camera_controls["rgb"], True, self.rgb_autofocus)
        out["rgb white balance setting"], out["rgb focus setting"] = rgb["white_balance"], rgb["focus"]
        if self.rules.has_ir:
            out["IR dot projector / flood"] = f"{self.ir.dot_projector:.2f} / {self.ir.flood:.2f}"
        return out
