"""Finding the OAK to open: by MXID (any case), by IP (also outside broadcast discovery), or the
first one this backend can run."""
from __future__ import annotations

import ipaddress

import depthai as dai

from ..base import DeviceError

RVC2 = dai.XLinkPlatform.X_LINK_MYRIAD_X


def is_ip(device_id: str) -> bool:
    try:
        ipaddress.ip_address(device_id)
    except ValueError:
        return False
    return True


def find_device(device_id: str, found: list[dai.DeviceInfo] | None = None) -> tuple[dai.DeviceInfo, list[str]]:
    """The OAK named by `device_id` (MXID/serial, any case, or IP), or the first RVC2 OAK found;
    with notes on what was passed over (a device this backend cannot run).

    PoE cameras in another subnet or behind a router never answer broadcast discovery; depthai
    opens them by IP all the same: `DeviceInfo("<ip>")` keeps the IP as the device's name
    (depthai-core src/xlink/XLinkConnection.cpp, DeviceInfo::DeviceInfo(std::string)) and XLink
    searches that address directly, so an IP that discovery did not list is tried as given.
    """
    found = dai.Device.getAllAvailableDevices() if found is None else found
    notes: list[str] = []
    wanted = device_id.strip()
    for info in found:
        if wanted and wanted.lower() not in (info.getDeviceId().lower(), info.name.lower()):
            continue
        if info.platform != RVC2:
            note = (f"OAK {info.getDeviceId()} ({info.name}) is {info.platform.name}; the oak backend "
                    "drives RVC2 (Myriad X) OAKs only")
            if wanted:
                raise DeviceError(note)
            notes.append(note + ": skipped")
            continue
        return info, notes
    if wanted and is_ip(wanted):
        return dai.DeviceInfo(wanted), notes + [f"{wanted} not seen by discovery: opening it by IP directly"]
    seen = ", ".join(f"{i.getDeviceId()} ({i.name}, {i.platform.name})" for i in found) or "none"
    target = f"device.id={device_id!r}" if wanted else "any RVC2 OAK"
    raise DeviceError(f"no OAK found for {target}: searched USB and the local network with DepthAI "
                      f"discovery, found {seen}. Set device.type to 'sim' for the simulated OAK-D.")
