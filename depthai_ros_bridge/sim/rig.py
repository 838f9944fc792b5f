"""The simulated OAK-D's three cameras as ideal pinhole models in the rig frame."""
from __future__ import annotations

from dataclasses import dataclass, replace

from depthai_ros_bridge.core.camera_model import CameraModel
from depthai_ros_bridge.core.sensors import LEFT_TO_RGB_M, MONO_HFOV_DEG, RGB_HFOV_DEG, STEREO_BASELINE_M

# The OV9282's full sensor; the HFOV is specified for it.
_MONO_SENSOR = (1280, 800)


@dataclass(frozen=True)
class Rig:
    rgb: CameraModel
    left: CameraModel
    right: CameraModel


def mono_camera(name: str, width: int, height: int, x: float) -> CameraModel:
    """A mono camera at width x height: the 800p sensor binned by width/1280, centre-cropped.

    Cropping keeps the focal length, so 720p has the same fx as 800p; 400p (2x binning)
    has half of it.
    """
    sensor_w, sensor_h = _MONO_SENSOR
    full = CameraModel.from_hfov(name, sensor_w, sensor_h, MONO_HFOV_DEG, (x, 0.0, 0.0))
    scale = width / sensor_w
    binned_h = round(sensor_h * scale)
    if height > binned_h:
        raise ValueError(f"mono size {width}x{height}: height exceeds the sensor's "
                         f"{binned_h} rows at that width")
    binned = full.scaled(width, binned_h)
    return replace(binned, height=height, cy=binned.cy - (binned_h - height) / 2)


def oakd_rig(rgb_size: tuple[int, int], mono_size: tuple[int, int]) -> Rig:
    """OAK-D cameras at the given (width, height): left/right 7.5 cm apart, rgb 3.75 cm
    right of the left camera, all looking along +z of the rig optical frame."""
    left_x = -STEREO_BASELINE_M / 2
    rgb = CameraModel.from_hfov("rgb", *rgb_size, RGB_HFOV_DEG, (left_x + LEFT_TO_RGB_M, 0.0, 0.0))
    return Rig(rgb=rgb,
               left=mono_camera("left", *mono_size, left_x),
               right=mono_camera("right", *mono_size, left_x + STEREO_BASELINE_M))
