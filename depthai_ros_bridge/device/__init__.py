"""Device backends, picked by the `device.type` parameter."""
from __future__ import annotations

from collections.abc import Callable

from ..core.spec import PipelineSpec
from .base import Device, DeviceError


def _oak(spec: PipelineSpec) -> Device:
    from .oak import OakDevice
    return OakDevice(spec)


def _sim(spec: PipelineSpec) -> Device:
    from .sim import SimDevice
    return SimDevice(spec)


# "auto" is the first OAK found; it never falls back to the simulator.
DEVICES: dict[str, Callable[[PipelineSpec], Device]] = {"auto": _oak, "oak": _oak, "sim": _sim}


def open_device(spec: PipelineSpec) -> Device:
    return DEVICES[spec.device.type](spec)


__all__ = ["DEVICES", "Device", "DeviceError", "open_device"]
