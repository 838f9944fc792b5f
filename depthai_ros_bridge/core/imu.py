"""The OAK's IMU as plain values: noise model, placement, REP-145 covariances. ROS/DepthAI-free. Rates: imu_spec.py."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .camera_info import OPTICAL_TO_BODY, StaticTransform, quaternion
from .imu_spec import IMU_RATES_HZ
from .tf_frames import quaternion_matrix, rig_to_body

GRAVITY = 9.80665                          # m/s^2, standard gravity
HAS_ORIENTATION = ("BNO085", "BNO086")     # on-chip fusion: ROTATION_VECTOR


@dataclass(frozen=True)
class ImuNoise:
    """Continuous-time noise model (Kalibr's convention): white noise densities and bias random walks, plus the
    standard deviation of the bias at switch-on (what factory calibration leaves)."""

    accel_noise_density: float      # m/s^2/sqrt(Hz)
    gyro_noise_density: float       # rad/s/sqrt(Hz)
    accel_random_walk: float        # m/s^3/sqrt(Hz)
    gyro_random_walk: float         # rad/s^2/sqrt(Hz)
    accel_turn_on_bias: float = 0.0     # m/s^2
    gyro_turn_on_bias: float = 0.0      # rad/s


# BMI270 datasheet / Luxonis' BMI270 page: accelerometer 160 ug/sqrt(Hz), gyroscope 0.007 deg/s/sqrt(Hz)
# (performance mode). The random walks and turn-on biases are typical of consumer MEMS after calibration
# (the datasheet gives no Allan figures): small enough that a 2 s gyro integral stays within 0.5 %.
BMI270_NOISE = ImuNoise(accel_noise_density=160e-6 * GRAVITY, gyro_noise_density=math.radians(0.007),
                        accel_random_walk=3e-4, gyro_random_walk=2e-5,
                        accel_turn_on_bias=0.01, gyro_turn_on_bias=math.radians(0.05))
# BNO085/086: no characterized densities at hand (an assumption, not a datasheet figure): the BMI270's
# accelerometer density and twice its gyroscope density. A calibration's own noise parameters replace both.
BNO086_NOISE = ImuNoise(accel_noise_density=160e-6 * GRAVITY, gyro_noise_density=math.radians(0.014),
                        accel_random_walk=3e-4, gyro_random_walk=2e-5)
NOISE = {"BMI270": BMI270_NOISE, "BNO086": BNO086_NOISE, "BNO085": BNO086_NOISE}


@dataclass(frozen=True)
class ImuInfo:
    """A device's IMU: its model, where it sits and how it is turned in the rig optical frame (x right, y down,
    z forward; the frame camera models use), its noise, and the rate it runs at."""

    model: str                                   # "BMI270", "BNO086", ...
    position: tuple[float, float, float]         # m, rig optical frame
    rotation: tuple[float, float, float, float]  # quaternion x, y, z, w: the IMU's axes in the rig optical frame
    noise: ImuNoise
    rate_hz: float

    @property
    def has_orientation(self) -> bool:
        return self.model in HAS_ORIENTATION

    @property
    def R(self) -> np.ndarray:
        return quaternion_matrix(self.rotation)


@dataclass(frozen=True)
class ImuSample:
    """One synchronised measurement in the IMU's own axes."""

    timestamp: float                             # s, host steady clock (the images' clock)
    accel: tuple[float, float, float]            # m/s^2, specific force (gravity included: +9.81 up at rest)
    gyro: tuple[float, float, float]             # rad/s
    orientation: tuple[float, float, float, float] | None = None    # x, y, z, w (BNO's rotation vector)
    orientation_accuracy: float = 0.0            # rad


def rate_problem(model: str, rate_hz: float) -> str | None:
    """Why `imu.rate_hz` cannot run on this IMU, or None."""
    rates = IMU_RATES_HZ.get(model)
    if rates is None:
        return f"the {model} IMU is not supported; supported: {', '.join(IMU_RATES_HZ)}"
    if rate_hz not in rates:
        return f"{rate_hz:g} Hz is not a rate the {model} gives; it gives {', '.join(map(str, rates))} Hz"
    return None


def covariances(noise: ImuNoise, rate_hz: float) -> tuple[float, float]:
    """Per-sample variances (accel m^2/s^4, gyro rad^2/s^2) of the white noise sampled at rate_hz: sigma_d =
    density * sqrt(rate) (Kalibr's discretisation), plus the turn-on bias (an offset a consumer cannot see
    in one sample either). Never zero."""
    accel = noise.accel_noise_density ** 2 * rate_hz + noise.accel_turn_on_bias ** 2
    gyro = noise.gyro_noise_density ** 2 * rate_hz + noise.gyro_turn_on_bias ** 2
    return max(accel, 1e-12), max(gyro, 1e-12)


def rpy_matrix(roll_deg: float, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """R = Rz(yaw) Ry(pitch) Rx(roll) (fixed-axis roll, pitch, yaw: ROS's URDF convention)."""
    r, p, y = (math.radians(v) for v in (roll_deg, pitch_deg, yaw_deg))
    rx = np.array([[1, 0, 0], [0, math.cos(r), -math.sin(r)], [0, math.sin(r), math.cos(r)]])
    ry = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    return rz @ ry @ rx


def imu_transform(base_frame: str, imu_frame: str, info: ImuInfo) -> StaticTransform:
    """base frame (REP-103 axes) -> the IMU frame (the sensor's own axes, where its data is)."""
    x, y, z = (float(v) + 0.0 for v in rig_to_body(info.position))
    return StaticTransform(base_frame, imu_frame, (x, y, z), quaternion(OPTICAL_TO_BODY @ info.R))
