"""Depth re-projected into another camera of the rig (what a real OAK's depth alignment does on-device)."""
from __future__ import annotations

import cv2
import numpy as np

from ..core.camera_model import CameraModel


def align_depth(depth_m: np.ndarray, source: CameraModel, target: CameraModel) -> np.ndarray:
    """Depth (m, 0 = none) seen by `source`, as `target` would see it; the nearest surface wins."""
    h, w = depth_m.shape
    z = depth_m.astype(np.float64)
    dx, dy, dz = np.subtract(source.position, target.position)
    # Whole-image arithmetic, separable in rows and columns (no per-point (n, 3) arrays).
    u, v = np.arange(w, dtype=np.float64)[None, :], np.arange(h, dtype=np.float64)[:, None]
    zt = z + dz
    with np.errstate(divide="ignore", invalid="ignore"):
        ut = np.rint(target.fx * ((u - source.cx) * z / source.fx + dx) / zt + target.cx)
        if dy or dz:
            vt = np.rint(target.fy * ((v - source.cy) * z / source.fy + dy) / zt + target.cy)
        else:    # cameras side by side (as on an OAK): a row maps to one row whatever the depth
            vt = np.rint(target.fy * (v - source.cy) / source.fy + target.cy)
    inside = (z > 0) & (zt > 0) & (ut >= 0) & (ut < target.width) & (vt >= 0) & (vt < target.height)
    flat = (vt * target.width + ut)[inside].astype(np.intp)
    zt = zt[inside].astype(np.float32)
    # A z-buffer without np.minimum.at (slow): write every point, then again those nearer than
    # what landed on their pixel, until none is. Few points collide: this takes a few rounds.
    nearest = np.zeros(target.width * target.height, np.float32)
    while flat.size:
        nearest[flat] = zt
        closer = zt < nearest[flat]
        flat, zt = flat[closer], zt[closer]
    aligned = nearest.reshape(target.height, target.width)
    # Resampling to another focal length leaves pinholes; fill each from its nearest neighbour.
    inverse = np.divide(1.0, aligned, out=np.zeros_like(aligned), where=aligned > 0)
    filled = cv2.dilate(inverse, np.ones((3, 3), np.uint8))
    np.divide(1.0, filled, out=aligned, where=(aligned == 0) & (filled > 0))
    return aligned
