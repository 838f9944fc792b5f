"""The simulated IMU (a BMI270 on the rig): what it measures of the rig's motion, with noise and drifting bias.

Accelerometer: the specific force at the IMU, f = R_imu^T (a - g), in the IMU's axes: the acceleration of the
point where it sits (lever arm included) minus gravity (world +y is down, sim/scene.py), so a resting IMU reads
9.81 m/s^2 pointing up. Gyroscope: the rig's angular velocity in the IMU's axes. Each axis adds white noise
(density * sqrt(rate) per sample) and a bias that starts at a seeded turn-on value and random-walks (random-walk
density * sqrt(dt) per sample): Kalibr's discrete IMU model. Samples are drawn strictly in order from one seeded
generator, so sample k is the same whatever batches they are read in.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.camera_info import quaternion
from ..core.imu import BMI270_NOISE, GRAVITY, ImuInfo, rpy_matrix
from .motion import RigMotion

GRAVITY_WORLD = np.array([0.0, GRAVITY, 0.0])       # world +y is down


class SimImu:
    def __init__(self, motion: RigMotion, info: ImuInfo, seed: int):
        self.motion, self.info = motion, info
        self.period = 1.0 / info.rate_hz
        self._rng = np.random.default_rng([seed, 0x1A0])      # its own stream: the scene's draws stay as they were
        n = info.noise
        self._accel_bias = self._rng.normal(0.0, n.accel_turn_on_bias, 3) if n.accel_turn_on_bias else np.zeros(3)
        self._gyro_bias = self._rng.normal(0.0, n.gyro_turn_on_bias, 3) if n.gyro_turn_on_bias else np.zeros(3)
        self._next = 0                  # index of the next sample to draw
        self._R_imu = info.R            # IMU axes in the rig frame
        self._lever = np.asarray(info.position, float)

    @property
    def next_index(self) -> int:
        return self._next

    def truth(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Noise-free (specific force m/s^2, angular rate rad/s) in the IMU's axes at scene time t."""
        if not self.motion.moving:
            return self._R_imu.T @ -GRAVITY_WORLD, np.zeros(3)
        k = self.motion.kinematics(t)
        force_rig = k.R.T @ (k.point_acceleration(self._lever) - GRAVITY_WORLD)
        return self._R_imu.T @ force_rig, self._R_imu.T @ k.omega

    def read(self, until: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples next_index .. until-1: (scene times (n,), accel (n, 3), gyro (n, 3)), measured."""
        count = max(0, until - self._next)
        times = (self._next + np.arange(count)) * self.period
        accel, gyro = np.empty((count, 3)), np.empty((count, 3))
        n, dt = self.info.noise, self.period
        white_a, white_g = n.accel_noise_density / math.sqrt(dt), n.gyro_noise_density / math.sqrt(dt)
        walk_a, walk_g = n.accel_random_walk * math.sqrt(dt), n.gyro_random_walk * math.sqrt(dt)
        draws = self._rng.standard_normal((count, 12))
        for i, t in enumerate(times):
            force, rate = self.truth(float(t))
            accel[i] = force + self._accel_bias + white_a * draws[i, 0:3]
            gyro[i] = rate + self._gyro_bias + white_g * draws[i, 3:6]
            self._accel_bias = self._accel_bias + walk_a * draws[i, 6:9]
            self._gyro_bias = self._gyro_bias + walk_g * draws[i, 9:12]
        self._next += count
        return times, accel, gyro


# Where an OAK-D's BMI270 sits: the board file of the OAK-D-S2 (the OAK-D with a BMI270; luxonis/depthai-boards
# boards/OAK-D-S2.json, imuExtrinsics "BMI": to CAM_B, specTranslation (-0.2314, -0.6935, 0) cm, rotation
# r=180, p=0, y=270 deg): the IMU 2.3 mm left of and 6.9 mm above the left camera's centre, its axes turned
# by that roll/pitch/yaw (read as ROS's fixed-axis RPY, core.imu.rpy_matrix) in the left camera's optical frame.
BMI270_FROM_LEFT_M = (-0.002314, -0.006935, 0.0)
BMI270_RPY_DEG = (180.0, 0.0, 270.0)


def oakd_imu(left_camera_position, rate_hz: float) -> ImuInfo:
    """The simulated OAK-D's BMI270, placed in the rig frame (the left camera is not turned in it)."""
    position = tuple(float(a + b) for a, b in zip(left_camera_position, BMI270_FROM_LEFT_M))
    return ImuInfo("BMI270", position, quaternion(rpy_matrix(*BMI270_RPY_DEG)), BMI270_NOISE, float(rate_hz))
