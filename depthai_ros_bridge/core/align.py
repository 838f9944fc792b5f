"""Depth re-projected into another camera of the rig (what a real OAK's depth alignment does on-device)."""
from __future__ import annotations

import functools

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


def align_depth_mm(depth_mm: np.ndarray, source: CameraModel, target: CameraModel) -> np.ndarray:
    """align_depth for uint16 millimetres (0 = none): the same pixels and values as
    rint(1000 * align_depth(depth_mm / 1000)), without float depth images.

    Cameras side by side (as on an OAK) keep a point's z, so the depth values only move: a
    column shift looked up per millimetre value, a fixed row map, a z-buffer on the integers."""
    dx, dy, dz = np.subtract(source.position, target.position)
    if dy or dz:
        return np.rint(align_depth(depth_mm / np.float32(1000), source, target) * 1000).astype(np.uint16)
    column, parallax, rows = _side_by_side_maps(source, target)
    v0, v1 = np.searchsorted(rows, [-0.5, target.height - 0.5])      # source rows landing inside
    ut = parallax[depth_mm[v0:v1]]               # target columns (inf where there is no depth),
    ut += column                                 # in place: each float64 temporary costs ~0.2 ms
    np.rint(ut, out=ut)
    inside = ut >= 0
    inside &= ut < target.width
    ut += (rows[v0:v1] * target.width)[:, None]
    flat = ut[inside].astype(np.intp)
    z = depth_mm[v0:v1][inside]
    nearest = np.zeros(target.width * target.height, np.uint16)
    while flat.size:                     # the z-buffer of align_depth, on the integers
        nearest[flat] = z
        closer = z < nearest[flat]
        flat, z = flat[closer], z[closer]
    aligned = nearest.reshape(target.height, target.width)
    # Pinholes take their nearest neighbour, as in align_depth: negated (in uint16, -z = 65536 - z
    # and -0 = 0) the nearest valid depth is the largest value, which a dilation picks.
    filled = np.negative(cv2.dilate(np.negative(aligned), np.ones((3, 3), np.uint8)))
    return np.where(aligned > 0, aligned, filled)


@functools.lru_cache(maxsize=8)
def _side_by_side_maps(source: CameraModel, target: CameraModel):
    """For cameras offset along x only: the target column of a source column at infinite depth,
    the column shift of every millimetre value (inf for 0 = none), the target row of each row."""
    dx = source.position[0] - target.position[0]
    column = target.fx * (np.arange(source.width) - source.cx) / source.fx + target.cx
    z = np.arange(1 << 16, dtype=np.uint16) / np.float32(1000)      # metres, as align_depth gets them
    with np.errstate(divide="ignore"):
        parallax = target.fx * dx / z.astype(np.float64)
    parallax[0] = np.inf
    rows = np.rint(target.fy * (np.arange(source.height) - source.cy) / source.fy + target.cy)
    return column, parallax, rows
