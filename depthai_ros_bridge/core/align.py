"""Depth re-projected into another camera of the rig (what a real OAK's depth alignment does on-device)."""
from __future__ import annotations

import cv2
import numpy as np

from ..core.camera_model import CameraModel


def align_depth(depth_m: np.ndarray, source: CameraModel, target: CameraModel) -> np.ndarray:
    """Depth (m, 0 = none) seen by `source`, as `target` would see it; the nearest surface wins."""
    v, u = np.nonzero(depth_m)
    z = depth_m[v, u]
    points = source.backproject(u, v, z) + np.subtract(source.position, target.position)
    pixels = np.round(target.project(points)).astype(np.int64)
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < target.width) & (pixels[:, 1] >= 0) & \
             (pixels[:, 1] < target.height) & (points[:, 2] > 0)
    flat = pixels[inside, 1] * target.width + pixels[inside, 0]
    nearest = np.full(target.width * target.height, np.inf, np.float32)
    np.minimum.at(nearest, flat, points[inside, 2].astype(np.float32))
    aligned = np.where(np.isfinite(nearest), nearest, 0.0).astype(np.float32).reshape(target.height, target.width)
    # Resampling to another focal length leaves pinholes; fill each from its nearest neighbour.
    inverse = np.divide(1.0, aligned, out=np.zeros_like(aligned), where=aligned > 0)
    filled = cv2.dilate(inverse, np.ones((3, 3), np.uint8))
    holes = (aligned == 0) & (filled > 0)
    aligned[holes] = 1.0 / filled[holes]
    return aligned
