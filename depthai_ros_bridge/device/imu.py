"""IMU messages between the device and the node: DepthAI's own dai.IMUData, built on the host by the simulator,
and turned into synchronised samples (core.imu.ImuSample) for both backends.

DepthAI sends the accelerometer and gyroscope as separate reports, each with its own timestamp (the BNO086 runs
them at different rates: 125/250/500 vs 100/200/400 Hz). A sample is made per gyroscope report, with the
accelerometer linearly interpolated at its stamp (depthai-ros' default sync method, LINEAR_INTERPOLATE_ACCEL);
a gyroscope report older than the first accelerometer one, or newer than the last, waits for the next batch.
"""
from __future__ import annotations

import datetime
from bisect import bisect_left
from collections import deque
from typing import TypeVar

import depthai as dai
import numpy as np

from ..core.imu import ImuSample

MAX_PENDING_GYRO = 64         # gyro reports waiting for an accelerometer report after them (then dropped)
_Report = TypeVar("_Report", dai.IMUReportAccelerometer, dai.IMUReportGyroscope)


def _timestamp(seconds: float) -> dai.Timestamp:
    ts = dai.Timestamp()
    ts.sec = int(seconds // 1)
    ts.nsec = int(round((seconds - ts.sec) * 1e9))
    if ts.nsec >= 1_000_000_000:
        ts.sec, ts.nsec = ts.sec + 1, ts.nsec - 1_000_000_000
    return ts


def _report(report: _Report, values: np.ndarray, t: float, seq: int) -> _Report:
    report.x, report.y, report.z = (float(v) for v in values)
    report.timestamp = _timestamp(t)
    report.sequence = seq
    report.accuracy = dai.IMUReport.Accuracy.HIGH
    return report


def imu_data(stamps: np.ndarray, accel: np.ndarray, gyro: np.ndarray, first_seq: int) -> dai.IMUData:
    """One batch as the device sends it: a packet per sample, accelerometer and gyroscope reports with the
    sample's steady-clock stamp and sequence number (m/s^2, rad/s, as the RAW reports carry them)."""
    packets = []
    for i, t in enumerate(stamps):
        packet = dai.IMUPacket()
        packet.acceleroMeter = _report(dai.IMUReportAccelerometer(), accel[i], float(t), first_seq + i)
        packet.gyroscope = _report(dai.IMUReportGyroscope(), gyro[i], float(t), first_seq + i)
        packets.append(packet)
    data = dai.IMUData()
    data.packets = packets
    if len(stamps):
        data.setTimestamp(datetime.timedelta(seconds=float(stamps[-1])))
        data.setSequenceNum(first_seq + len(stamps) - 1)
    return data


def _seconds(report) -> float:
    return report.getTimestamp().total_seconds()


class ImuAssembler:
    """dai.IMUData batches -> ImuSamples in stamp order (one per gyroscope report)."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._accel: deque[tuple[float, tuple[float, float, float]]] = deque(maxlen=8)
        self._gyro: deque[tuple[float, tuple[float, float, float]]] = deque()
        self._orientation: tuple[float, tuple[float, float, float, float], float] | None = None
        self._last = float("-inf")
        self.dropped = 0          # gyro reports without an accelerometer reading around them

    def add(self, data: dai.IMUData) -> list[ImuSample]:
        out: list[ImuSample] = []
        for packet in data.packets:      # paired packet by packet: the accelerometer buffer stays short
            a, g, r = packet.acceleroMeter, packet.gyroscope, packet.rotationVector
            if a.getSequenceNum() or a.getTimestamp().total_seconds():       # an empty report is all zeros
                t = _seconds(a)
                if not self._accel or t > self._accel[-1][0]:
                    self._accel.append((t, (a.x, a.y, a.z)))
            if g.getSequenceNum() or g.getTimestamp().total_seconds():
                self._gyro.append((_seconds(g), (g.x, g.y, g.z)))
            if r.getSequenceNum() or r.getTimestamp().total_seconds():
                self._orientation = (_seconds(r), (r.i, r.j, r.k, r.real), float(r.rotationVectorAccuracy))
            self._pair(out)
        return out

    def _pair(self, out: list[ImuSample]) -> None:
        while self._gyro:
            t, rate = self._gyro[0]
            accel = self._accel_at(t)
            if accel is None:
                if self._accel and t < self._accel[0][0] or len(self._gyro) > MAX_PENDING_GYRO:
                    self._gyro.popleft()         # before what we have, or waited too long: never pairable
                    self.dropped += 1
                    continue
                break                            # newer than the last accelerometer report: wait for it
            self._gyro.popleft()
            if t <= self._last:                  # a duplicate or a step back (device restart): not re-published
                continue
            self._last = t
            orientation, accuracy = (self._orientation[1], self._orientation[2]) if self._orientation else (None, 0.0)
            out.append(ImuSample(t, accel, rate, orientation, accuracy))

    def _accel_at(self, t: float) -> tuple[float, float, float] | None:
        times = [s for s, _ in self._accel]
        i = bisect_left(times, t)
        if i < len(times) and times[i] == t:
            return self._accel[i][1]
        if i == 0 or i == len(times):
            return None
        (t0, a0), (t1, a1) = self._accel[i - 1], self._accel[i]
        w = (t - t0) / (t1 - t0)
        x, y, z = (float(v0 + w * (v1 - v0)) for v0, v1 in zip(a0, a1))
        return (x, y, z)

    def reset(self) -> None:
        """After a device restart its clock and numbering start again."""
        self._clear()
