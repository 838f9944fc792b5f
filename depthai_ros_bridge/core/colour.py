"""Colour maps for people looking at depth: over the scene's actual range, not the sensor's. ROS-free.

The OAK's own convention (depthai examples, the device's `disparity` colouring) scales disparity
over 0..max searched disparity (95 px, 190 extended, x subpixel units): a room 1-5 m away uses
the bottom ~10 % of that range and shows as one flat blue. Here the map spans what the frame
holds (robust percentiles of its valid pixels), so structure is visible; near stays red, far
blue, as on the device. No data is black.
"""
from __future__ import annotations

import cv2
import numpy as np

LOW_Q, HIGH_Q = 0.02, 0.98     # robust range: a few outliers (speckles, sky) do not squash the rest
SAMPLE_STEP = 4                # percentiles from every 4th pixel of every 4th row: ~1/16 of the cost


def valid_range(values: np.ndarray, low_q: float = LOW_Q, high_q: float = HIGH_Q) -> tuple[float, float] | None:
    """(low, high) percentiles of the valid (> 0, finite) values, or None when there are none."""
    sample = np.asarray(values)[::SAMPLE_STEP, ::SAMPLE_STEP].ravel()
    sample = sample[np.isfinite(sample) & (sample > 0)] if sample.dtype.kind == "f" else sample[sample > 0]
    if sample.size == 0:
        return None
    low, high = np.quantile(sample, (low_q, high_q))
    return float(low), float(max(high, low + 1e-6))


def colorize(values: np.ndarray, low: float, high: float, near_is_high: bool = True) -> np.ndarray:
    """JET over [low, high] (BGR uint8), invalid (0 / NaN) black. `near_is_high`: disparity (near =
    large value = red); False for depth (near = small value = red)."""
    v = np.asarray(values, np.float32)
    valid = np.isfinite(v) & (v > 0)
    scale = 255.0 / (high - low)
    scaled = (v - low) * scale if near_is_high else (high - v) * scale
    index = np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8)
    bgr = cv2.applyColorMap(index, cv2.COLORMAP_JET)
    return cv2.bitwise_and(bgr, bgr, mask=valid.view(np.uint8))


def colorize_scene(values: np.ndarray, near_is_high: bool = True) -> tuple[np.ndarray, tuple[float, float] | None]:
    """`colorize` over the frame's own valid range; the range used (None: nothing valid, all black)."""
    span = valid_range(values)
    if span is None:
        return np.zeros(np.shape(values)[:2] + (3,), np.uint8), None
    return colorize(values, *span, near_is_high=near_is_high), span


def metre_scale_bar(width: int, near_m: float, far_m: float, height: int = 28) -> np.ndarray:
    """A horizontal JET bar from near (red, left) to far (blue, right) with metre ticks, BGR uint8."""
    ramp = np.linspace(255, 0, width, dtype=np.float32)[None].repeat(height // 2, 0).astype(np.uint8)
    bar = np.zeros((height, width, 3), np.uint8)
    bar[: height // 2] = cv2.applyColorMap(ramp, cv2.COLORMAP_JET)
    span = max(far_m - near_m, 1e-6)
    step = next(s for s in (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0) if span / s <= 8)
    metre = np.ceil(near_m / step) * step
    scale = max(0.35, height / 70.0)
    while metre <= far_m + 1e-9:
        x = int(round((metre - near_m) / span * (width - 1)))
        cv2.line(bar, (x, 0), (x, height // 2 + 2), (255, 255, 255), 1)
        label = f"{metre:g} m"
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.putText(bar, label, (min(max(0, x - tw // 2), width - tw), height - 2), cv2.FONT_HERSHEY_SIMPLEX,
                    scale, (255, 255, 255), 1, cv2.LINE_AA)
        metre += step
    return bar
