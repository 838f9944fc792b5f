"""What a simulated camera's lens and sensor do to the rendered light: exposure, noise, white balance,
focus, and the auto-exposure / auto-white-balance / autofocus loops that set them. ROS- and device-free.

The renderer's 8-bit image is taken as the light reaching the sensor, scaled so that it *is* the
image at the reference exposure (20 ms at ISO 100) under the scene's 5500 K light with the lens
focused: the default scene's auto exposure settles there (its mean, ~108, is within the AE's
tolerance of the mid-grey target), so the simulator's default output is the renderer's.

- Exposure: pixel = clip(radiance x time x ISO / reference): saturation at 255.
- Noise: shot noise (variance = gain x signal) and read noise, gain growing with ISO, less what the
  ISP's denoiser removes (modelled as taking DENOISE_DN off the noise's sigma): none at ISO 100 in
  normal light, visible from ~ISO 200, ~5 DN at ISO 1600. Deterministic per seed and frame.
- White balance: the scene light's and the assumed light's colour temperatures, each as a black body
  seen at the sensor's three colour bands; a camera set to a lower temperature than the light makes
  the image bluer, a higher one redder.
- Focus (colour camera): thin lens; a point at distance d with the lens focused at d_f blurs into a
  disc of diameter (f / N) f |1/d - 1/d_f| on the sensor, per pixel from the renderer's depth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from depthai_ros_bridge.core.controls import EXPOSURE_MAX_US, CameraControlSpec

MID_GREY = 110.0                  # auto-exposure target mean (43 % of full scale)
REFERENCE_EXPOSURE = 20000.0      # us at ISO 100: the renderer's image is the sensor's at this exposure
SCENE_KELVIN = 5500.0             # colour temperature of the simulated scenes' light
DENOISE_DN = 3.3                  # noise sigma the ISP's denoiser removes (DN)
_AE_START, _AE_STOP = math.log2(1.08), math.log2(1.01)   # hysteresis: adjust beyond 8 %, settle within 1 %
_AE_RATE = 0.6                    # share of the remaining error corrected per frame
_AWB_RATE = 0.4
_AF_RATE = {"continuous_picture": 0.5, "continuous_video": 0.25, "auto": 0.5, "macro": 0.5}
MAX_DIOPTRES = 10.0               # lens position 255 focuses at 0.1 m; 0 at infinity (linear in 1/d)
MACRO_DIOPTRES = (2.0, MAX_DIOPTRES)
_BLUR_MIN_PX = 2.0                # smaller discs (Gaussian sigma under half a pixel) leave the image as it is
_BLUR_EDGES = np.array([2.0, 3.0, 4.0, 6.5, 10.0, 16.0, 25.0, 40.0, 64.0], np.float32)
_NOISE_LEVELS = 16                # quantised sigma levels x quantised normal samples: one 8-bit index
_BANDS_NM = (460.0, 540.0, 610.0) # the colour filters' centre wavelengths, in BGR order


@dataclass(frozen=True)
class SensorModel:
    name: str
    full_well_e: float            # electrons at 255 DN at ISO 100
    read_noise_e: float
    colour: bool
    focal_mm: float = 0.0         # lens: colour camera only (the monos' are fixed focus)
    f_number: float = 0.0
    sensor_width_mm: float = 0.0


# OAK-D colour camera: IMX378, 1.55 um pixels (4056 wide), 4.81 mm f/2.0 autofocus lens (Luxonis specs).
IMX378 = SensorModel("IMX378", 6000.0, 3.0, True, 4.81, 2.0, 4056 * 1.55e-3)
# OAK-D mono cameras: OV9282, 3 um global-shutter pixels, fixed focus.
OV9282 = SensorModel("OV9282", 9000.0, 4.0, False)


def black_body_bgr(kelvin: float) -> np.ndarray:
    """Planck radiance at the B, G, R bands, relative to G."""
    c2 = 1.4388e-2           # second radiation constant, m K
    lam = np.array(_BANDS_NM) * 1e-9
    radiance = lam ** -5 / np.expm1(c2 / (lam * kelvin))
    return radiance / radiance[1]


def white_balance_gains(scene_kelvin: float, camera_kelvin: float) -> np.ndarray:
    """BGR gains of a camera balanced for `camera_kelvin` under light of `scene_kelvin`."""
    return black_body_bgr(scene_kelvin) / black_body_bgr(camera_kelvin)


def lens_dioptres(position: float) -> float:
    return MAX_DIOPTRES * position / 255.0


def lens_position(dioptres: float) -> float:
    return float(np.clip(255.0 * dioptres / MAX_DIOPTRES, 0.0, 255.0))


class CameraOptics:
    """One camera's exposure, noise, white balance and focus, and its 3A state (capture thread only,
    except `control` and `trigger_autofocus`, which another thread may set between frames)."""

    def __init__(self, sensor: SensorModel, width: int, fps: float, seed: int, control: CameraControlSpec):
        self.sensor, self.width, self.fps = sensor, width, fps
        self.control = control
        self._seed = seed
        self.exposure = REFERENCE_EXPOSURE        # us at ISO 100 (time x ISO / 100)
        self.time_us, self.iso = self._split(self.exposure)
        self._ae_adjusting = False
        self.kelvin = SCENE_KELVIN
        self.lens = 0.0                           # position 0..255
        self._af_started = False
        self._af_scan = False                     # auto/macro: focusing after a trigger
        self._noise_index: np.ndarray | None = None
        # Disc diameter on the sensor per dioptre of defocus, in output pixels.
        if sensor.colour:
            pitch_mm = sensor.sensor_width_mm / width
            self.coc_px_per_dioptre = (sensor.focal_mm / sensor.f_number) * sensor.focal_mm * 1e-3 / pitch_mm
        else:
            self.coc_px_per_dioptre = 0.0

    # -- settings --------------------------------------------------------------------------
    @property
    def max_time_us(self) -> float:
        return min(EXPOSURE_MAX_US, 1e6 / self.fps)

    def _split(self, exposure: float) -> tuple[float, float]:
        """Time and ISO for an exposure: the longest time the frame allows, then gain."""
        time_us = float(np.clip(exposure, 1.0, self.max_time_us))
        return time_us, float(np.clip(100.0 * exposure / time_us, 100.0, 1600.0))

    def trigger_autofocus(self) -> None:
        self._af_scan = True

    @property
    def gain(self) -> float:
        """Light collected relative to the reference exposure."""
        return self.time_us * self.iso / 100.0 / REFERENCE_EXPOSURE

    @property
    def focus_distance_m(self) -> float:
        d = lens_dioptres(self.lens)
        return math.inf if d <= 0 else 1.0 / d

    # -- the frame -------------------------------------------------------------------------
    def apply(self, radiance: np.ndarray, depth: np.ndarray | None, seq: int,
              follow: CameraOptics | None = None) -> np.ndarray:
        """The camera's image of `radiance` (uint8, BGR or grey) with this frame's settings; then
        the 3A loops meter it and choose the next frame's. `depth` (metres) drives the focus blur;
        `follow`: take that camera's exposure (a synchronised stereo pair) instead of metering."""
        control = self.control
        if follow is not None:
            self.exposure, self.time_us, self.iso = follow.exposure, follow.time_us, follow.iso
        elif not control.auto_exposure:
            self.time_us = float(min(control.exposure_time_us, self.max_time_us))
            self.iso = float(control.iso)
            self.exposure = self.time_us * self.iso / 100.0
        if self.sensor.colour:
            if not control.auto_white_balance:
                self.kelvin = float(control.kelvin)
            self._focus_step(depth, control)
        lut = self._tone_lut()
        image = radiance if lut is None else cv2.LUT(radiance, lut)
        if self.sensor.colour and depth is not None:
            image = self._defocus(image, depth)
        metered = float(image[::8, ::8].mean())
        image = self._add_noise(image, seq)
        if control.auto_exposure and follow is None:
            self._auto_exposure(metered, control.compensation)
        if self.sensor.colour and control.auto_white_balance:
            self._auto_white_balance()
        return image

    def _tone_lut(self) -> np.ndarray | None:
        """8-bit lookup of exposure gain (and white balance gains per channel); None when identity."""
        gains = np.full(3 if self.sensor.colour else 1, self.gain)
        if self.sensor.colour:
            gains = gains * white_balance_gains(SCENE_KELVIN, self.kelvin)
        if np.all(np.abs(gains - 1.0) < 1e-6):
            return None
        values = np.arange(256, dtype=np.float32)[:, None] * gains[None, :].astype(np.float32)
        lut = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return lut.reshape(256, 1, 3) if self.sensor.colour else lut.reshape(256)

    def _auto_exposure(self, metered: float, compensation: int) -> None:
        target = MID_GREY * 2.0 ** (compensation / 3.0)
        error = math.log2(target / max(metered, 0.5))
        if abs(error) > _AE_START:
            self._ae_adjusting = True
        if not self._ae_adjusting:
            return
        if abs(error) < _AE_STOP:
            self._ae_adjusting = False
            return
        # Saturated frames under-report the error; the step is still in the right direction.
        wanted = self.exposure * 2.0 ** (_AE_RATE * error)
        self.exposure = float(np.clip(wanted, 1.0, self.max_time_us * 16.0))
        self.time_us, self.iso = self._split(self.exposure)

    def _auto_white_balance(self) -> None:
        """Converges on the scene light's temperature (in mireds, as the eye judges colour shifts)."""
        mired, target = 1e6 / self.kelvin, 1e6 / SCENE_KELVIN
        mired += _AWB_RATE * (target - mired)
        self.kelvin = SCENE_KELVIN if abs(mired - target) < 1.0 else 1e6 / mired

    # -- focus -----------------------------------------------------------------------------
    def _focus_step(self, depth: np.ndarray | None, control: CameraControlSpec) -> None:
        mode = control.focus_mode
        if mode == "manual":
            self.lens = float(control.focus_position)
            return
        if mode == "edof":    # no focusing: the lens rests at the hyperfocal distance (2-pixel disc)
            hyperfocal_m = self.sensor.focal_mm ** 2 / (self.sensor.f_number * 2 * self.sensor.sensor_width_mm
                                                         / self.width) * 1e-3
            self.lens = lens_position(1.0 / hyperfocal_m)
            return
        continuous = mode.startswith("continuous")
        if depth is None or not (continuous or self._af_scan):
            return
        target = lens_position(self._centre_dioptres(depth, mode))
        if continuous and not self._af_started:     # focused while the camera booted
            self.lens, self._af_started = target, True
            return
        self.lens += _AF_RATE[mode] * (target - self.lens)
        if abs(target - self.lens) < 0.5:
            self.lens = target
            self._af_scan = False                  # auto/macro: locked until the next trigger

    @staticmethod
    def _centre_dioptres(depth: np.ndarray, mode: str) -> float:
        """What the AF measures: the centre region's (middle quarter of each axis) median distance,
        as phase-detect AF reads it; macro searches only its near range."""
        h, w = depth.shape
        centre = depth[3 * h // 8:5 * h // 8:2, 3 * w // 8:5 * w // 8:2]
        d = float(np.median(centre))
        dioptres = 0.0 if not math.isfinite(d) or d <= 0 else 1.0 / d
        if mode == "macro":
            dioptres = float(np.clip(dioptres, *MACRO_DIOPTRES))
        return min(dioptres, MAX_DIOPTRES)

    def _defocus(self, image: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Blur each pixel by its defocus disc: pixels grouped by disc size, each group taken from
        the image blurred by a Gaussian of that disc's spread (sigma = diameter / 4)."""
        focus = np.float32(lens_dioptres(self.lens))
        k = np.float32(self.coc_px_per_dioptre)
        sample = depth[::8, ::8]
        near, far = float(sample.min()), float(sample.max())
        widest = k * max(abs(1.0 / max(near, 1e-3) - focus), abs((0.0 if math.isinf(far) else 1.0 / far) - focus))
        if widest < _BLUR_MIN_PX:
            return image
        # Disc sizes from every other pixel's depth (they change smoothly but at object outlines).
        with np.errstate(divide="ignore"):
            coc = k * np.abs(np.float32(1.0) / depth[::2, ::2] - focus)
        level = np.searchsorted(_BLUR_EDGES, coc, side="right").astype(np.uint8)     # 0: sharp
        level = cv2.resize(level, (depth.shape[1], depth.shape[0]), interpolation=cv2.INTER_NEAREST)
        out = image.copy()          # the caller's image may be the renderer's (or its cache's)
        for i in np.unique(level):
            if i == 0:
                continue
            upper = _BLUR_EDGES[i] if i < len(_BLUR_EDGES) else 2 * _BLUR_EDGES[-1]
            blurred = _gaussian(image, math.sqrt(_BLUR_EDGES[i - 1] * upper) / 4.0)
            cv2.copyTo(blurred, (level == i).view(np.uint8), out)
        return out

    # -- noise -----------------------------------------------------------------------------
    def noise_sigma(self, level: np.ndarray | float) -> np.ndarray:
        """Noise sigma (DN) at a signal level after the ISP's denoiser, at the current ISO."""
        dn_per_e = (self.iso / 100.0) * 255.0 / self.sensor.full_well_e
        raw = np.sqrt(dn_per_e * np.asarray(level, np.float64) + (dn_per_e * self.sensor.read_noise_e) ** 2)
        return np.maximum(raw - DENOISE_DN, 0.0)

    def _add_noise(self, image: np.ndarray, seq: int) -> np.ndarray:
        sigma = self.noise_sigma(np.arange(256))
        if sigma[-1] < 0.5:          # rounds away on almost every pixel: skip the cost
            return image
        flat = image.reshape(image.shape[0], -1)
        h, w = flat.shape
        if self._noise_index is None or self._noise_index.shape[0] < h + 64 or self._noise_index.shape[1] < w + 64:
            # Quantised standard normal samples (equiprobable bins), fixed per seed; each frame reads
            # them at another offset.
            rng = np.random.default_rng([self._seed, 0x5EED])
            self._noise_index = rng.integers(0, _NOISE_LEVELS, (h + 64, w + 64), dtype=np.uint8)
        oy, ox = (seq * 37) % 64, (seq * 11 + seq // 64) % 64
        samples = self._noise_index[oy:oy + h, ox:ox + w]
        step = sigma[-1] / (_NOISE_LEVELS - 1)
        level_lut = (np.rint(sigma / step).astype(np.uint8) * _NOISE_LEVELS)
        level_lut[255] = 0           # a saturated pixel reads full scale, whatever its noise
        index = cv2.add(cv2.LUT(flat, level_lut), np.ascontiguousarray(samples))
        z = _normal_bins()
        noise = np.outer(np.arange(_NOISE_LEVELS) * step, z).ravel()     # [sigma level, sample]
        up = np.clip(np.rint(noise), 0, 255).astype(np.uint8)
        down = np.clip(np.rint(-noise), 0, 255).astype(np.uint8)
        out = cv2.subtract(cv2.add(flat, cv2.LUT(index, up)), cv2.LUT(index, down))
        return out.reshape(image.shape)


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones on a downscaled copy (the result is smooth at that scale anyway)."""
    factor = int(sigma // 2)
    if factor < 2:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(w // factor, 1), max(h // factor, 1)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _normal_bins() -> np.ndarray:
    """The means of a standard normal's _NOISE_LEVELS equiprobable bins, scaled to unit variance."""
    from statistics import NormalDist
    nd = NormalDist()
    edges = [-math.inf] + [nd.inv_cdf(k / _NOISE_LEVELS) for k in range(1, _NOISE_LEVELS)] + [math.inf]
    pdf = [0.0 if math.isinf(e) else nd.pdf(e) for e in edges]
    means = np.array([(pdf[k] - pdf[k + 1]) * _NOISE_LEVELS for k in range(_NOISE_LEVELS)])
    return means / np.sqrt(np.mean(means ** 2))
