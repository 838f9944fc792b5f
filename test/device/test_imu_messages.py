"""IMU messages on the host (device/imu.py): dai.IMUData built as the device sends it, and paired into samples
(accelerometer interpolated at each gyroscope stamp, as with a BNO086's different rates); ros/imu.py's message."""
from __future__ import annotations

import depthai as dai
import numpy as np
import pytest

from depthai_ros_bridge.core.imu import BMI270_NOISE, ImuInfo, ImuSample, covariances, imu_transform
from depthai_ros_bridge.device.imu import ImuAssembler, imu_data


def _report(cls, t: float, seq: int, values):
    r = cls()
    r.x, r.y, r.z = values
    ts = dai.Timestamp()
    ts.sec, ts.nsec = int(t), int(round((t - int(t)) * 1e9))
    r.timestamp, r.sequence = ts, seq
    return r


def test_host_built_data_round_trips_with_stamps_and_values():
    stamps = 1000.0 + np.arange(5) * 0.005
    accel = np.arange(15, dtype=float).reshape(5, 3)
    gyro = -np.arange(15, dtype=float).reshape(5, 3) / 10
    data = imu_data(stamps, accel, gyro, first_seq=40)
    assert len(data.packets) == 5 and data.getSequenceNum() == 44
    samples = ImuAssembler().add(data)
    assert [s.timestamp for s in samples] == pytest.approx(list(stamps), abs=1e-9)
    assert np.array([s.accel for s in samples]) == pytest.approx(accel, rel=1e-6)
    assert np.array([s.gyro for s in samples]) == pytest.approx(gyro, rel=1e-6)
    assert all(s.orientation is None for s in samples)


def test_accelerometer_is_interpolated_at_gyroscope_stamps_across_batches():
    """A BNO086 at 125 Hz accelerometer / 100 Hz gyroscope: a gyro sample waits for the accelerometer report
    after it, and gets the straight line between the two around it."""
    assembler = ImuAssembler()
    accel_t = 10.0 + np.arange(8) / 125
    gyro_t = 10.0 + np.arange(6) / 100 + 0.001

    def batch(a_idx, g_idx):
        data = dai.IMUData()
        packets = []
        for i in a_idx:
            p = dai.IMUPacket()
            p.acceleroMeter = _report(dai.IMUReportAccelerometer, accel_t[i], i, (accel_t[i], 2 * accel_t[i], 0.0))
            packets.append(p)
        for i in g_idx:
            p = dai.IMUPacket()
            p.gyroscope = _report(dai.IMUReportGyroscope, gyro_t[i], i, (i, 0.0, 0.0))
            packets.append(p)
        data.packets = packets
        return data

    first = assembler.add(batch([0, 1, 2], [0, 1, 2]))      # gyro 2 (10.021) is after accel 2 (10.016): waits
    assert [s.gyro[0] for s in first] == [0, 1]
    second = assembler.add(batch([3, 4, 5, 6, 7], [3, 4, 5]))
    samples = first + second
    assert [s.gyro[0] for s in samples] == [0, 1, 2, 3, 4, 5]
    for s in samples:        # accel x was set to its own stamp: interpolation returns the gyro's stamp
        assert s.accel[0] == pytest.approx(s.timestamp, abs=1e-5)
        assert s.accel[1] == pytest.approx(2 * s.timestamp, abs=1e-5)
    assert assembler.dropped == 0


def test_rotation_vector_becomes_the_orientation():
    data = dai.IMUData()
    p = dai.IMUPacket()
    p.acceleroMeter = _report(dai.IMUReportAccelerometer, 5.0, 1, (0.0, 0.0, 9.8))
    p.gyroscope = _report(dai.IMUReportGyroscope, 5.0, 1, (0.0, 0.0, 0.0))
    rv = dai.IMUReportRotationVectorWAcc()
    rv.i, rv.j, rv.k, rv.real, rv.rotationVectorAccuracy = 0.0, 0.0, 0.6, 0.8, 0.05
    rv.timestamp, rv.sequence = p.gyroscope.timestamp, 1
    p.rotationVector = rv
    data.packets = [p]
    (sample,) = ImuAssembler().add(data)
    assert sample.orientation == pytest.approx((0.0, 0.0, 0.6, 0.8))
    assert sample.orientation_accuracy == pytest.approx(0.05)


def test_covariances_follow_the_noise_densities_and_the_rate():
    accel_100, gyro_100 = covariances(BMI270_NOISE, 100)
    accel_200, gyro_200 = covariances(BMI270_NOISE, 200)
    white = BMI270_NOISE.accel_noise_density ** 2
    assert accel_200 - accel_100 == pytest.approx(white * 100)      # sigma^2 = density^2 * rate (+ bias^2)
    assert gyro_200 > gyro_100 > 0


def test_imu_transform_in_rep_103_axes():
    # an IMU 1 cm right of and 2 cm below the rig centre, axes the rig optical frame's
    info = ImuInfo("BMI270", (0.01, 0.02, 0.0), (0.0, 0.0, 0.0, 1.0), BMI270_NOISE, 200.0)
    t = imu_transform("base", "imu", info)
    assert t.translation == pytest.approx((0.0, -0.01, -0.02))
    # optical z (forward) is body x: the rotation maps (0, 0, 1) to (1, 0, 0)
    x, y, z, w = t.rotation
    R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    assert R @ [0, 0, 1] == pytest.approx([1, 0, 0]) and R @ [0, 1, 0] == pytest.approx([0, 0, -1])


def test_sample_is_plain_data():
    s = ImuSample(1.0, (0.0, 0.0, 9.8), (0.0, 0.0, 0.0))
    assert s.orientation is None and s.orientation_accuracy == 0.0
