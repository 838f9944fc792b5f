"""Where a detected object is, in metres, from the depth inside its box (like the Gen1 spatial calculation)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .camera_model import CameraModel

# Fewer valid depth pixels than this in the box: no position rather than a guess.
MIN_VALID_PIXELS = 10


@dataclass(frozen=True)
class SpatialConfig:
    bbox_scale: float = 0.5          # central share of the box whose depth counts (Gen1 padding_factor)
    depth_min_m: float = 0.2
    depth_max_m: float = 10.0        # Gen1 depth_limit_m


@dataclass(frozen=True)
class Spatial:
    centre: tuple[float, float, float]   # metres, optical frame of the depth's camera
    size: tuple[float, float, float]     # metres: width (x), height (y), depth extent (z)
    valid_pixels: int


def locate(depth: np.ndarray, box: tuple[float, float, float, float], camera: CameraModel,
           config: SpatialConfig, metres_per_unit: float = 1.0) -> Spatial | None:
    """Median depth of the box's central part, and the box's extent at that depth.

    `box` is x0, y0, x1, y1 in pixels of `depth` (metres_per_unit: 0.001 for a device's
    uint16 millimetres; only the box's pixels are converted), which `camera` describes.
    The median ignores background leaking into the box corners. The z extent is the depth
    spread (10th to 90th percentile) of the object's visible surface over the whole box (the
    central part alone is nearly flat: 1-4 cm for a 0.5 m ball), taking depths within one
    box-width of the median so the background does not count. A camera sees the front only:
    this is what is measured, a lower bound of the object's depth (a ball of radius r: ~0.6 r).
    """
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 * config.bbox_scale, (y1 - y0) / 2 * config.bbox_scale
    rx0, rx1 = int(max(0, np.floor(cx - hw))), int(min(depth.shape[1], np.ceil(cx + hw)))
    ry0, ry1 = int(max(0, np.floor(cy - hh))), int(min(depth.shape[0], np.ceil(cy + hh)))
    roi = depth[ry0:ry1, rx0:rx1].astype(np.float32) * np.float32(metres_per_unit)
    values = np.sort(roi[(roi >= config.depth_min_m) & (roi <= config.depth_max_m)])
    if values.size < MIN_VALID_PIXELS:
        return None
    z = _quantile(values, 0.5)
    width, height = (x1 - x0) * z / camera.fx, (y1 - y0) * z / camera.fy
    reach = max(width, height)
    bx0, bx1 = int(max(0, np.floor(x0))), int(min(depth.shape[1], np.ceil(x1)))
    by0, by1 = int(max(0, np.floor(y0))), int(min(depth.shape[0], np.ceil(y1)))
    box_depths = depth[by0:by1, bx0:bx1].astype(np.float32) * np.float32(metres_per_unit)
    near = np.sort(box_depths[(box_depths >= max(z - reach, config.depth_min_m)) &
                              (box_depths <= min(z + reach, config.depth_max_m))])
    extent = _quantile(near, 0.9) - _quantile(near, 0.1)
    x, y, _ = camera.backproject(cx, cy, z)
    return Spatial((float(x), float(y), z), (float(width), float(height), extent), int(values.size))


def _quantile(ascending: np.ndarray, q: float) -> float:
    """np.quantile's default (linear) interpolation on sorted values, without its per-call overhead."""
    position = q * (ascending.size - 1)
    lo = int(position)
    hi = min(lo + 1, ascending.size - 1)
    return float(ascending[lo]) + (float(ascending[hi]) - float(ascending[lo])) * (position - lo)
