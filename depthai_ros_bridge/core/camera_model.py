"""Pinhole camera models of a stereo rig, in the rig's optical frame.

The rig frame has its origin at the device's base frame and uses the optical
convention (x right, y down, z forward), so a camera's pose is a translation
only: every camera on an OAK-D looks the same way, and rectified streams have
R = identity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from .tf_frames import quaternion_matrix


@dataclass(frozen=True)
class CameraModel:
    """A pinhole camera, with the lens distortion its images still carry (none if rectified or
    undistorted) and its orientation in the rig optical frame."""

    name: str
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    # Camera centre in the rig optical frame, metres.
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # Lens distortion left in the images: ROS CameraInfo model name and coefficients (empty = none).
    distortion_model: str = "plumb_bob"
    d: tuple[float, ...] = ()
    # Orientation of the camera's optical frame in the rig optical frame (quaternion x, y, z, w).
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)

    @classmethod
    def from_hfov(cls, name: str, width: int, height: int, hfov_deg: float,
                  position: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> CameraModel:
        f = 0.5 * width / math.tan(math.radians(hfov_deg) / 2)
        return cls(name, width, height, f, f, (width - 1) / 2, (height - 1) / 2, position)

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def hfov_deg(self) -> float:
        return math.degrees(2 * math.atan(0.5 * self.width / self.fx))

    def scaled(self, width: int, height: int) -> CameraModel:
        """The same camera resampled to width x height (pixel-centre convention)."""
        sx, sy = width / self.width, height / self.height
        return replace(self, width=width, height=height, fx=self.fx * sx, fy=self.fy * sy,
                       cx=(self.cx + 0.5) * sx - 0.5, cy=(self.cy + 0.5) * sy - 0.5)

    def scaled_to_width(self, width: int) -> CameraModel:
        """The same camera resampled to `width`, keeping its aspect ratio (height rounded)."""
        return self.scaled(width, round(width * self.height / self.width))

    @property
    def R(self) -> np.ndarray:
        """`rotation` as a matrix: rig-frame directions of the camera's x, y, z axes (columns)."""
        return quaternion_matrix(self.rotation)

    def to_camera(self, points_rig: np.ndarray) -> np.ndarray:
        """Rig-frame points (..., 3) to this camera's optical frame."""
        p = np.asarray(points_rig, dtype=np.float64) - np.asarray(self.position)
        return p if self.rotation == (0.0, 0.0, 0.0, 1.0) else p @ self.R

    def project(self, points_cam: np.ndarray) -> np.ndarray:
        """Camera-frame points (..., 3) to pixel coordinates (..., 2)."""
        p = np.asarray(points_cam, dtype=np.float64)
        z = p[..., 2]
        return np.stack([self.fx * p[..., 0] / z + self.cx, self.fy * p[..., 1] / z + self.cy], -1)

    def backproject(self, u: npt.ArrayLike, v: npt.ArrayLike, z: npt.ArrayLike) -> np.ndarray:
        """Pixels with depth z to camera-frame points (..., 3)."""
        u, v, z = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float), np.asarray(z, float))
        return np.stack([(u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z], -1)


def baseline_m(left: CameraModel, right: CameraModel) -> float:
    """Distance between two cameras' centres."""
    return float(np.linalg.norm(np.subtract(right.position, left.position)))
