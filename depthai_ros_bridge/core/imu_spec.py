"""The IMU's parameters (imu.*, sim.camera_motion) as a spec: plain values, no imports from the rest of core/spec.

Rates: what DepthAI exposes as stable request points (docs.luxonis.com, hardware/platform/sensors/imu/bmi270:
"Stable accelerometer/gyroscope request points 25 / 50 / 100 / 200 / 250 Hz", requests are rounded down, above
400 Hz they top out around 250 Hz; software-v3 .../nodes/imu: BNO086 gyroscope 25, 33, 50, 100, 200, 400 Hz stable,
rounded up). A rate is accepted only where the sensor gives exactly it, so the published rate is the asked one.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

IMU_RATES_HZ: dict[str, tuple[int, ...]] = {
    "BMI270": (25, 50, 100, 200, 250),
    "BNO086": (25, 33, 50, 100, 200, 400),     # the gyroscope's; the accelerometer is interpolated at its stamps
}
IMU_RATES_HZ["BNO085"] = IMU_RATES_HZ["BNO086"]
ALL_RATES_HZ = tuple(sorted({r for rates in IMU_RATES_HZ.values() for r in rates}))
CAMERA_MOTIONS = ("static", "handheld", "orbit")
RELIABILITIES = ("reliable", "best_effort")


def rate_hz_problem(value: int) -> str | None:
    """Why `imu.rate_hz` is no IMU's rate (the device checks its own IMU's at configure)."""
    if value not in ALL_RATES_HZ:
        return (f"{value} Hz is no OAK IMU's rate: BMI270 {', '.join(map(str, IMU_RATES_HZ['BMI270']))} Hz; "
                f"BNO086 {', '.join(map(str, IMU_RATES_HZ['BNO086']))} Hz")
    return None


@dataclass(frozen=True)
class ImuSpec:
    enabled: bool = False
    rate_hz: int = 200
    reliability: str = "reliable"
    depth: int = 50
    camera_motion: str = "static"     # sim.camera_motion: how the simulated rig moves


def imu_spec(v: Mapping[str, Any]) -> ImuSpec:
    return ImuSpec(v["imu.enabled"], v["imu.rate_hz"], v["imu.qos.reliability"], v["imu.qos.depth"],
                   v["sim.camera_motion"])
