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

    def truth(self, t):
        """Noise-free (specific force m/s^2, angular rate rad/s) in the IMU's axes at scene time t (or (n,) times:
        (n, 3) arrays)."""
        t = np.asarray(t, float)
        if not self.motion.moving:
            force, rate = self._R_imu.T @ -GRAVITY_WORLD, np.zeros(3)
            return np.broadcast_to(force, t.shape + (3,)).copy(), np.broadcast_to(rate, t.shape + (3,)).copy()
        k = self.motion.kinematics(t)
        world = k.point_acceleration(self._lever) - GRAVITY_WORLD
        force_rig = np.einsum("...ji,...j->...i", k.R, world)         # R^T (a - g)
        return force_rig @ self._R_imu, k.omega @ self._R_imu          # R_imu^T v, for row vectors

    def read(self, until: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples next_index .. until-1: (scene times (n,), accel (n, 3), gyro (n, 3)), measured."""
        count = max(0, until - self._next)
        times = (self._next + np.arange(count)) * self.period
        n, dt = self.info.noise, self.period
        white_a, white_g = n.accel_noise_density / math.sqrt(dt), n.gyro_noise_density / math.sqrt(dt)
        walk_a, walk_g = n.accel_random_walk * math.sqrt(dt), n.gyro_random_walk * math.sqrt(dt)
        draws = self._rng.standard_normal((count, 12))
        force, rate = self.truth(times)
        # bias of sample i: the turn-on value plus the walk's steps before i
        steps_a = np.cumsum(walk_a * draws[:, 6:9], 0)
        steps_g = np.cumsum(walk_g * draws[:, 9:12], 0)
        bias_a = self._accel_bias + np.vstack([np.zeros((1, 3)), steps_a[:-1]]) if count else np.zeros((0, 3))
        bias_g = self._gyro_bias + np.vstack([np.zeros((1, 3)), steps_g[:-1]]) if count else np.zeros((0, 3))
        accel = force + bias_a + white_a * draws[:, 0:3]
        gyro = rate + bias_g + white_g * draws[:, 3:6]
        if count:
            self._accel_bias = self._accel_bias + steps_a[-1]
            self._gyro_bias = self._gyro_bias + steps_g[-1]
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
    x, y, z = (float(a + b) for a, b in zip(left_camera_position, BMI270_FROM_LEFT_M))
    position = (x, y, z)
    return ImuInfo("BMI270", position, quaternion(rpy_matrix(*BMI270_RPY_DEG)), BMI270_NOISE, float(rate_hz))
