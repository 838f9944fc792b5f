"""Stereo matching of the simulated mono pair, configured like an OAK's StereoDepth.

The disparity is aligned to the right camera, as an OAK's is by default. OpenCV's SGBM
matches for the left image, so the pair is mirrored and swapped: mirrored, the right
image is the left one of a stereo pair whose disparities are the same.

The left-right check matches the other way too and keeps a disparity only where both
directions agree, as the OAK does. SGBM's own disp12MaxDiff check does not do this (it
reuses the one cost volume and, measured on these scenes, removes no occluded pixels).
The reverse pass runs at half resolution: occluded bands are as wide as the disparity
jump that causes them, so they survive the downscaling, and it costs an eighth of the
main pass.

Given a background pair (the simulator's static room), rows above everything that
differs from it are not matched again: 3-way SGBM aggregates costs along each row and
from the top down only, so those rows' disparities are the background's. Only the rows
below are matched (both passes, LR check, filters), starting a warm-up band higher, as
OpenCV starts each of its parallel stripes. On the simulated scenes that is half the image.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

MEDIAN_FILTERS = {"off": 0, "3x3": 3, "5x5": 5, "7x7": 7}

# SGBM settings, chosen for accuracy at 640x400 within ~40 ms per pair on one core:
# 3-way SGBM with 5x5 blocks and the usual smoothness penalties (P2 = 4 P1).
_BLOCK = 5
_P1 = 8 * _BLOCK * _BLOCK
_P2 = 32 * _BLOCK * _BLOCK
_PREFILTER_CAP = 31
_LR_MAX_DIFF_PX = 1
# The confidence threshold acts twice, both off at 255. On the matching cost: SGBM's
# uniqueness test, demanding up to this many percent between the best and any other
# disparity's cost at threshold 0. On texture: a pixel's confidence, in DepthAI's scale
# (0 = certain), is 255 T / (T + g) with g its mean horizontal gradient over the block;
# flat regions score near 255 and are the first to go as the threshold drops.
_MAX_UNIQUENESS = 30
_TEXTURE_T = 10.0
# Rows of the disparity above it that an image row reaches: 4 through a pass (measured: half
# the block, the prefilter's 3x3 Sobel, the 3x3 median OpenCV applies to SGBM's result), so 9
# through the half-resolution reverse pass, and 3 more through a 7x7 median (texture: 3).
_REACH_ROWS = 12
# Rows matched above the first one kept, for the top-down aggregation to settle: what OpenCV
# gives its own parallel stripes (block / 2 + 1 + 10 % of a stripe: 23 rows at 400p, 2 threads).
# Longer makes no difference: what differs from a whole-frame match (0.3-0.6 % of pixels, with
# 24 to 64 rows) comes from where OpenCV's own stripes start.
_WARMUP_ROWS = 24


@dataclass(frozen=True)
class StereoOptions:
    """What an OAK's StereoDepth node offers, with DepthAI's (v2 / depthai-ros) meaning.

    confidence_threshold: 0..255; 255 accepts every match, lower values demand a more
        unique best match and more texture, and invalidate more pixels.
    median_filter: "off", "3x3", "5x5" or "7x7" (7x7 only on whole-pixel disparity).
    lr_check: keep only disparities the left-to-right match confirms within 1 px.
    extended_disparity: search 0..191 px instead of 0..95, for closer objects.
    subpixel: disparity in 1/16 px instead of whole pixels.
    """

    confidence_threshold: int = 200
    median_filter: str = "off"
    lr_check: bool = True
    extended_disparity: bool = False
    subpixel: bool = True

    def __post_init__(self) -> None:
        _check_confidence(self.confidence_threshold)
        if self.median_filter not in MEDIAN_FILTERS:
            raise ValueError(f"median_filter must be one of {sorted(MEDIAN_FILTERS)}, "
                             f"got {self.median_filter!r}")
        if self.median_filter == "7x7" and self.subpixel:
            raise ValueError("median_filter '7x7' is not available with subpixel: a 7x7 "
                             "median only works on whole-pixel disparity; use '5x5' or "
                             "disable subpixel")

    @property
    def max_disparity(self) -> int:
        """Disparities are searched in [0, max_disparity)."""
        return 192 if self.extended_disparity else 96


def _check_confidence(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 255:
        raise ValueError(f"confidence_threshold must be an integer in 0..255, got {value!r}")


def _sgbm(max_disparity: int, uniqueness_ratio: int) -> cv2.StereoSGBM:
    return cv2.StereoSGBM_create(
        minDisparity=0, numDisparities=max_disparity, blockSize=_BLOCK, P1=_P1, P2=_P2,
        preFilterCap=_PREFILTER_CAP, disp12MaxDiff=-1, uniquenessRatio=uniqueness_ratio,
        speckleWindowSize=0, mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY)


def _half(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)


def _uniqueness_ratio(confidence_threshold: int) -> int:
    return round(_MAX_UNIQUENESS * (255 - confidence_threshold) / 255)


class StereoMatcher:
    """Disparity of a rectified mono pair, right-aligned: float32 pixels from `compute`, the
    device's fixed-point output from `compute_raw` (0 = invalid in both)."""

    def __init__(self, options: StereoOptions):
        self.options = options
        self._sgbm = _sgbm(options.max_disparity,
                           _uniqueness_ratio(options.confidence_threshold))
        self._reverse = _sgbm(options.max_disparity // 2, 0) if options.lr_check else None
        self._background: tuple[np.ndarray, np.ndarray] | None = None
        self._background_disparity: np.ndarray | None = None

    def set_background(self, left: np.ndarray, right: np.ndarray) -> None:
        """The pair as it is when nothing moves in front of the cameras: rows of a pair above the
        first one that differs from it keep its disparities (matched once, when first needed)."""
        self._background, self._background_disparity = (left, right), None

    @property
    def has_background(self) -> bool:
        return self._background is not None

    def set_confidence_threshold(self, value: int) -> None:
        """Change the confidence threshold between frames, keeping the matcher."""
        _check_confidence(value)
        self._sgbm.setUniquenessRatio(_uniqueness_ratio(value))
        self._background_disparity = None              # matched with the old threshold
        self.options = replace(self.options, confidence_threshold=value)

    @property
    def px_per_unit(self) -> float:
        """Pixels per unit of the raw disparity (1/16 with subpixel)."""
        return 1 / 16 if self.options.subpixel else 1.0

    def compute(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return self.compute_raw(left, right).astype(np.float32) * np.float32(self.px_per_unit)

    def compute_raw(self, left: np.ndarray, right: np.ndarray,
                    reference: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """The disparity as the device outputs it: uint16 in units of `scale` px, 0 = invalid.

        `reference`: the noiseless pair the images were made from, compared with the background
        instead of the images themselves (sensor noise changes every row of every frame).
        Kept in SGBM's fixed point throughout: no float round trip per frame."""
        if left.dtype != np.uint8 or left.ndim != 2 or left.shape != right.shape \
                or right.dtype != np.uint8:
            raise ValueError("left and right must be single-channel uint8 images of one size, "
                             f"got {left.dtype}{left.shape} and {right.dtype}{right.shape}")
        keep = self._first_changed_row(*(reference or (left, right))) - _REACH_ROWS   # rows above: the background's
        top = keep - _WARMUP_ROWS
        top -= top % 2                   # the reverse pass halves the same row pairs as on the whole image
        if top <= 0 or self._background is None:     # (no background: _first_changed_row is 0)
            return self._disparity(left, right)
        background = self._background_disparity
        if background is None:
            background = self._background_disparity = self._disparity(*self._background)
        disparity = background.copy()
        disparity[keep:] = self._disparity(left[top:], right[top:])[keep - top:]
        return disparity

    def _disparity(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        fixed = cv2.flip(self._sgbm.compute(cv2.flip(right, 1), cv2.flip(left, 1)), 1)
        np.maximum(fixed, 0, out=fixed)         # SGBM marks invalid pixels with -16
        if self._reverse is not None:
            fixed[~self._left_right_consistent(self._reverse, left, right, fixed)] = 0
        threshold = self.options.confidence_threshold
        if threshold < 255:
            gradient = cv2.blur(np.abs(cv2.Sobel(right, cv2.CV_32F, 1, 0)), (_BLOCK, _BLOCK))
            fixed[gradient * threshold < _TEXTURE_T * (255 - threshold)] = 0
        ksize = MEDIAN_FILTERS[self.options.median_filter]
        if self.options.subpixel:
            disparity = fixed.view(np.uint16)                   # 1/16 px, >= 0
        else:
            disparity = ((fixed + 8) >> 4).astype(np.uint8)     # whole pixels, < 192
        if ksize:
            disparity = cv2.medianBlur(disparity, ksize)
        return disparity.astype(np.uint16, copy=False)

    def _first_changed_row(self, left: np.ndarray, right: np.ndarray) -> int:
        """The first row where the pair differs from the background (0 without one)."""
        if self._background is None or self._background[0].shape != left.shape:
            return 0
        background_left, background_right = self._background
        changed = np.flatnonzero((left != background_left).any(1) | (right != background_right).any(1))
        return int(changed[0]) if changed.size else left.shape[0]

    def _left_right_consistent(self, reverse: cv2.StereoSGBM, left: np.ndarray, right: np.ndarray,
                               fixed: np.ndarray) -> np.ndarray:
        """Where the left pixel each right pixel matches, x + d, matches back to within
        _LR_MAX_DIFF_PX. The left image's first max_disparity columns cannot be matched
        (their partners would lie left of the right image), so they vouch for anything."""
        h, w = left.shape
        half = (w // 2, h // 2)
        back = reverse.compute(_half(left), _half(right))
        # int16 throughout: 640x400 index arithmetic in int64 would cost as much as the pass.
        target = np.minimum(np.arange(w, dtype=np.int16) + ((fixed + 8) >> 4), w - 1)
        rows = np.minimum(np.arange(h, dtype=np.int32) // 2, half[1] - 1) * half[0]
        back = back.ravel()[rows[:, None] + np.minimum(target >> 1, half[0] - 1)] * 2
        agree = (back >= 0) & (np.abs(back - fixed) <= 16 * _LR_MAX_DIFF_PX)
        return agree | (target < self.options.max_disparity)
