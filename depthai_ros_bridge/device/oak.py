"""The real-OAK backend: discovery works; building the on-device pipeline is not implemented yet."""
from __future__ import annotations

import depthai as dai

from ..core.spec import PipelineSpec
from .base import DeviceError


def find_device(device_id: str) -> dai.DeviceInfo:
    """The OAK named by `device_id` (MXID/serial or IP), or the first one found if empty."""
    found = dai.Device.getAllAvailableDevices()
    for info in found:
        if not device_id or device_id in (info.getDeviceId(), info.name):
            return info
    seen = ", ".join(f"{i.getDeviceId()} ({i.name})" for i in found) or "none"
    wanted = f"device.id={device_id!r}" if device_id else "any OAK"
    raise DeviceError(f"no OAK found for {wanted}: searched USB and the local network with DepthAI "
                      f"discovery, found {seen}. Set device.type to 'sim' for the simulated OAK-D.")


class OakDevice:
    def __init__(self, spec: PipelineSpec):
        info = find_device(spec.device.id)
        raise DeviceError(f"found OAK {info.getDeviceId()} ({info.name}), but the oak backend cannot build "
                          "its pipeline yet (not implemented); use device.type 'sim'")
