"""Host-built calibrations and connected-camera lists of the OAK models the presets are for.

Built with dai.CalibrationHandler's setters from each model's published geometry (sensors,
resolutions, fields of view, 7.5 cm stereo baseline, colour camera between the monos) and
read back through the EEPROM JSON, as a device's `eepromToJsonFile()` writes it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import depthai as dai
import numpy as np

S = dai.CameraBoardSocket
# A colour lens distortion (rational polynomial k1, k2, p1, p2, k3, k4, k5, k6) and a small
# calibrated tilt of the colour camera: what a real EEPROM holds, so the tests see them through.
RGB_DISTORTION = [-2.1, 4.3, 0.0008, -0.0005, -1.2, -2.0, 4.0, -1.1]
RGB_TILT_DEG = 0.8          # about the y axis (pan), rgb relative to right


@dataclass(frozen=True)
class Sensor:
    name: str
    width: int
    height: int
    hfov_deg: float
    types: tuple[str, ...]

    def k(self) -> list[list[float]]:
        f = self.width / 2 / math.tan(math.radians(self.hfov_deg) / 2)
        return [[f, 0.0, self.width / 2 - 3.5], [0.0, f * 1.001, self.height / 2 + 2.5], [0.0, 0.0, 1.0]]


IMX378 = Sensor("IMX378", 4056, 3040, 68.8, ("COLOR",))
IMX214 = Sensor("IMX214", 4208, 3120, 69.0, ("COLOR",))
OV9782_W = Sensor("OV9782", 1280, 800, 127.0, ("COLOR",))
OV9282 = Sensor("OV9282", 1280, 800, 71.9, ("MONO",))
OV9282_W = Sensor("OV9282", 1280, 800, 127.0, ("MONO",))
OV7251 = Sensor("OV7251", 640, 480, 72.0, ("MONO",))


@dataclass(frozen=True)
class Model:
    name: str
    rgb: Sensor
    mono: Sensor | None          # None: no stereo pair (OAK-1)
    link: str = "usb3"


MODELS = {
    "oak_d": Model("OAK-D", IMX378, OV9282),
    "oak_d_lite": Model("OAK-D-LITE", IMX214, OV7251),
    "oak_d_pro": Model("OAK-D-PRO", IMX378, OV9282),
    "oak_d_w": Model("OAK-D-W", OV9782_W, OV9282_W),
    "oak_1": Model("OAK-1", IMX378, None),
    "oak_d_poe": Model("OAK-D-POE", IMX378, OV9282, link="poe"),
}


def tilt(deg: float) -> list[list[float]]:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]


def calibration(model: Model) -> dai.CalibrationHandler:
    calib = dai.CalibrationHandler()
    calib.setBoardInfo(model.name, "R1")
    calib.setCameraIntrinsics(S.CAM_A, model.rgb.k(), dai.Size2f(model.rgb.width, model.rgb.height))
    calib.setDistortionCoefficients(S.CAM_A, RGB_DISTORTION + [0.0] * 6)
    calib.setFov(S.CAM_A, model.rgb.hfov_deg)
    eye = np.eye(3).tolist()
    if model.mono is not None:
        size = dai.Size2f(model.mono.width, model.mono.height)
        calib.setCameraIntrinsics(S.CAM_B, model.mono.k(), size)
        calib.setCameraIntrinsics(S.CAM_C, model.mono.k(), size)
        for socket in (S.CAM_B, S.CAM_C):
            calib.setDistortionCoefficients(socket, [-0.3, 0.1, 0.0, 0.0, -0.01] + [0.0] * 9)
            calib.setFov(socket, model.mono.hfov_deg)
        calib.setCameraExtrinsics(S.CAM_B, S.CAM_C, eye, [-7.5, 0.0, 0.0], [-7.5, 0.0, 0.0])
        calib.setCameraExtrinsics(S.CAM_C, S.CAM_A, tilt(RGB_TILT_DEG), [3.75, 0.0, 0.0], [3.75, 0.0, 0.0])
        calib.setStereoLeft(S.CAM_B, eye)
        calib.setStereoRight(S.CAM_C, eye)
    return dai.CalibrationHandler.fromJson(calib.eepromToJson())


def cameras(model: Model) -> list[dict]:
    """CAMERAS.json: what Device.getConnectedCameraFeatures() reports."""
    out = [{"socket": "CAM_A", "sensor": model.rgb.name, "width": model.rgb.width, "height": model.rgb.height,
            "types": list(model.rgb.types)}]
    if model.mono is not None:
        for socket in ("CAM_B", "CAM_C"):
            out.append({"socket": socket, "sensor": model.mono.name, "width": model.mono.width,
                        "height": model.mono.height, "types": list(model.mono.types)})
    return out


def write(model: Model, directory: Path) -> tuple[Path, Path]:
    """(CALIB.json, CAMERAS.json) of `model` in `directory`."""
    calib_path, cameras_path = directory / "calib.json", directory / "cameras.json"
    calibration(model).eepromToJsonFile(str(calib_path))
    cameras_path.write_text(json.dumps(cameras(model)))
    return calib_path, cameras_path


def dry_run_oak_d(capsys, directory: Path, *params: str) -> dict:
    """The dry run's JSON for an OAK-D (host-built calibration) with `-p` overrides `params`."""
    from depthai_ros_bridge.dry_run import main

    calib, cameras_path = write(MODELS["oak_d"], directory)
    args = ["--calibration", str(calib), "--cameras", str(cameras_path)]
    for p in params:
        args += ["-p", p]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)
