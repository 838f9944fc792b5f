"""Depth images -> organized point clouds (what depth_image_proc's point_cloud_xyz(rgb) makes). ROS-free.

A cloud is an (h, w, 3 or 4) float32 array, one point per depth pixel in the depth camera's
optical frame: x, y, z in metres (all NaN where the depth is no data), then with colour a
packed `rgb` float32 whose bytes are b, g, r, 0 (the uint32 0x00RRGGBB of depth_image_proc
and PCL, read by rviz's RGB8 colour transformer).
"""
from __future__ import annotations

import cv2
import numpy as np

from .camera_model import CameraModel

XYZ = ("x", "y", "z")
XYZRGB = XYZ + ("rgb",)


def depth_metres(depth_mm: np.ndarray, limit_m: float = 0.0) -> np.ndarray:
    """Device depth (uint16 mm, 0 = none) as float32 metres, NaN = none or beyond `limit_m` (0 = no limit)."""
    metres = depth_mm.astype(np.float32) / np.float32(1000)
    metres[depth_mm == 0] = np.nan
    if limit_m:
        metres[depth_mm > limit_m * 1000.0] = np.nan
    return metres


class CloudProjector:
    """Back-projects depth images of one camera; the rays are computed once, not per frame."""

    def __init__(self, model: CameraModel):
        self.model = model
        # x / z of each column and y / z of each row (pinhole, no distortion): a point is z times its ray.
        self._x_per_z = ((np.arange(model.width) - model.cx) / model.fx).astype(np.float32)
        self._y_per_z = ((np.arange(model.height) - model.cy) / model.fy)[:, None].astype(np.float32)

    def cloud(self, depth_m: np.ndarray, bgr: np.ndarray | None = None) -> np.ndarray:
        """Points of a float32 depth image (NaN = none), coloured by a bgr8 image of any size if given."""
        if depth_m.shape != (self.model.height, self.model.width):
            raise ValueError(f"depth image {depth_m.shape[::-1]} is not {self.model.width}x{self.model.height}")
        points = np.empty(depth_m.shape + (3 if bgr is None else 4,), np.float32)
        np.multiply(depth_m, self._x_per_z, out=points[..., 0])
        np.multiply(depth_m, self._y_per_z, out=points[..., 1])
        points[..., 2] = depth_m
        if bgr is not None:
            if bgr.shape[:2] != depth_m.shape:
                bgr = cv2.resize(bgr, depth_m.shape[::-1], interpolation=cv2.INTER_AREA)
            # Bytes b, g, r, 0 = little-endian 0x00RRGGBB; as whole 4-byte words, 4x faster than bytewise.
            bgr0 = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
            bgr0[..., 3] = 0
            points[..., 3] = bgr0.view(np.float32)[..., 0]
        return points
