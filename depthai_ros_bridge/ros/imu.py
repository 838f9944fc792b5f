"""~/imu/data (sensor_msgs/Imu, REP-145) from the device's IMU batches.

Each message is one synchronised sample (device/imu.py) in `<tf_prefix>_imu_frame`, the sensor's own axes, which
the static TF places (core/imu.py imu_transform): m/s^2 with gravity included, rad/s. Stamps are the samples'
steady-clock times moved to ROS time by the same offset as the images', so a consumer can interpolate IMU at an
image stamp. Covariances: diagonal, the per-sample variance of the sensor's noise (core.imu.covariances), never
zero; orientation_covariance[0] = -1 when the IMU gives no orientation (BMI270).
"""
from __future__ import annotations

import time

import depthai as dai
from rclpy.lifecycle import LifecycleNode
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Imu

from ..core.imu import ImuInfo, ImuSample, covariances
from ..core.rates import RateMeter
from ..core.spec import PipelineSpec
from ..device.imu import ImuAssembler
from .entities import lifecycle_publisher
from .messages import header

TOPIC = "~/imu/data"
_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}


def _stamp(seconds: float) -> tuple[int, int]:
    """(sec, nanosec), the rounding carried into the seconds: a stamp never steps back a second."""
    sec = int(seconds // 1)
    nanosec = int(round((seconds - sec) * 1e9))
    return (sec + 1, nanosec - 1_000_000_000) if nanosec >= 1_000_000_000 else (sec, nanosec)


def imu_msg(sample: ImuSample, frame_id: str, seconds: float, accel_var: float, gyro_var: float) -> Imu:
    msg = Imu(header=header(frame_id, 0.0))
    msg.header.stamp.sec, msg.header.stamp.nanosec = _stamp(seconds)
    msg.linear_acceleration.x, msg.linear_acceleration.y, msg.linear_acceleration.z = sample.accel
    msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = sample.gyro
    msg.linear_acceleration_covariance[0] = msg.linear_acceleration_covariance[4] = \
        msg.linear_acceleration_covariance[8] = accel_var
    msg.angular_velocity_covariance[0] = msg.angular_velocity_covariance[4] = \
        msg.angular_velocity_covariance[8] = gyro_var
    if sample.orientation is None:
        msg.orientation_covariance[0] = -1.0            # REP-145: no orientation estimate
    else:
        q = msg.orientation
        q.x, q.y, q.z, q.w = sample.orientation
        variance = max(sample.orientation_accuracy, 1e-3) ** 2      # the BNO's own accuracy estimate, rad
        msg.orientation_covariance[0] = msg.orientation_covariance[4] = msg.orientation_covariance[8] = variance
    return msg


class ImuPublisher:
    """The IMU topic of a configured node; `publish` runs on the device's IMU thread."""

    def __init__(self, node: LifecycleNode, spec: PipelineSpec, info: ImuInfo, clock_offset: float):
        self._node, self._frame_id, self._offset = node, spec.imu_frame, clock_offset
        profile = QoSProfile(depth=spec.imu.depth, reliability=_RELIABILITY[spec.imu.reliability])
        self._pub = lifecycle_publisher(node, Imu, TOPIC, profile)
        self._accel_var, self._gyro_var = covariances(info.noise, info.rate_hz)
        self._assembler = ImuAssembler()
        # One kept message: per sample only stamp, vectors (and orientation) change; publish() serialises before
        # returning (as ImageMessage relies on), and a fresh Imu costs a third of a publish.
        self._msg: Imu | None = None
        self.received = RateMeter()           # samples from the device
        self.published = RateMeter()

    def publish(self, data: dai.IMUData) -> None:
        # Assembled whether or not anyone listens: an accelerometer report may pair with a later batch's gyro.
        samples = self._assembler.add(data)
        now = time.monotonic()
        for _ in samples:
            self.received.tick(now)
        if not samples or self._pub.get_subscription_count() == 0:
            return
        for sample in samples:
            self._pub.publish(self._fill(sample))
            self.published.tick(now)

    def _fill(self, sample: ImuSample) -> Imu:
        seconds = sample.timestamp + self._offset
        msg = self._msg
        if msg is None or (sample.orientation is None) != (msg.orientation_covariance[0] == -1.0):
            msg = self._msg = imu_msg(sample, self._frame_id, seconds, self._accel_var, self._gyro_var)
            return msg
        msg.header.stamp.sec, msg.header.stamp.nanosec = _stamp(seconds)
        a, w = msg.linear_acceleration, msg.angular_velocity
        a.x, a.y, a.z = sample.accel
        w.x, w.y, w.z = sample.gyro
        if sample.orientation is not None:
            q = msg.orientation
            q.x, q.y, q.z, q.w = sample.orientation
            variance = max(sample.orientation_accuracy, 1e-3) ** 2
            msg.orientation_covariance[0] = msg.orientation_covariance[4] = msg.orientation_covariance[8] = variance
        return msg

    def destroy(self) -> None:
        self._node.destroy_lifecycle_publisher(self._pub)
