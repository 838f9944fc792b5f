"""The OAK-D Pro's IR illumination in the simulated scene: a dot projector and a flood light.

Both light the scene from the front of the rig, and the mono cameras (no IR-cut filter) see it;
the colour camera's IR-cut filter keeps it out. The projector throws a fixed pseudo-random dot
pattern: each camera pixel's surface point (from the renderer's depth) is projected into the
projector, which says how much of a dot lands there. Light falls off with the square of the
distance, and a surface reflects it as it reflects the room light, so the camera sees
radiance x (1 + projector irradiance / room irradiance).
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from depthai_ros_bridge.core.camera_model import CameraModel

PROJECTOR_POSITION = (0.0, -0.012, 0.0)    # rig frame, m: centred between the monos, just above them
_PATTERN_SIZE = (1280, 800)                 # projector "pixels" over its field of view
_PATTERN_HFOV_DEG = 80.0
_DOT_FILL = 0.09                            # share of projector pixels that start a dot
_DOT_SIGMA_PX = 0.8
# Irradiance relative to the room light at 1 m, at intensity 1: a dot's peak, and the flood light.
DOT_GAIN = 6.0
FLOOD_GAIN = 1.0


@functools.cache
def dot_pattern() -> np.ndarray:
    """The projector's fixed pattern (float32, peak 1): sharp dots on black, the same for every device."""
    w, h = _PATTERN_SIZE
    rng = np.random.default_rng(0x1D07)
    dots = (rng.random((h, w)) < _DOT_FILL).astype(np.float32)
    pattern = cv2.GaussianBlur(dots, (0, 0), _DOT_SIGMA_PX)
    return pattern / pattern.max()


def _projector() -> CameraModel:
    w, h = _PATTERN_SIZE
    return CameraModel.from_hfov("projector", w, h, _PATTERN_HFOV_DEG, PROJECTOR_POSITION)


class Illuminator:
    """Adds the projector's and the flood light's light to one mono camera's rendered radiance."""

    def __init__(self, camera: CameraModel):
        proj = _projector()
        xs = (np.arange(camera.width, dtype=np.float32) - camera.cx) / camera.fx
        ys = (np.arange(camera.height, dtype=np.float32) - camera.cy) / camera.fy
        # A pixel's point at z-depth Z is camera.position + Z (x, y, 1); in the projector (same
        # orientation) that is (Z x - bx, Z y - by, Z), at u = fx_p (x - bx / Z) + cx_p: the map is
        # base - shift / Z.
        bx, by, _ = (np.asarray(proj.position) - np.asarray(camera.position)).astype(np.float32)
        self._base_u = np.broadcast_to(proj.fx * xs[None, :] + proj.cx, (camera.height, camera.width))
        self._base_v = np.broadcast_to(proj.fy * ys[:, None] + proj.cy, (camera.height, camera.width))
        self._shift_u, self._shift_v = np.float32(proj.fx * bx), np.float32(proj.fy * by)
        self._xs, self._ys = xs, ys

    def light(self, depth: np.ndarray, dots: float, flood: float) -> np.ndarray | None:
        """Projector + flood irradiance relative to the room light (float32 per pixel), None if off."""
        if dots <= 0 and flood <= 0:
            return None
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_z = np.where(np.isfinite(depth), np.float32(1.0) / depth, np.float32(0.0)).astype(np.float32)
            # squared distance from the projector, in units of z^2: (x^2 + y^2 + 1) for a ray
            ray2 = self._xs[None, :] ** 2 + self._ys[:, None] ** 2 + np.float32(1.0)
            falloff = inv_z * inv_z / ray2
        total = np.zeros(depth.shape, np.float32)
        if dots > 0:
            u = self._base_u - self._shift_u * inv_z
            v = self._base_v - self._shift_v * inv_z
            seen = cv2.remap(dot_pattern(), u.astype(np.float32), v.astype(np.float32), cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
            total += np.float32(dots * DOT_GAIN) * seen
        if flood > 0:
            total += np.float32(flood * FLOOD_GAIN)
        return total * falloff

    def apply(self, radiance: np.ndarray, depth: np.ndarray, dots: float, flood: float) -> np.ndarray:
        """The mono image with the IR light added (uint8, saturating); the input if both are off."""
        light = self.light(depth, dots, flood)
        if light is None:
            return radiance
        lit = radiance.astype(np.float32) * (np.float32(1.0) + light)
        return np.clip(lit + 0.5, 0, 255).astype(np.uint8)
