"""`sim.fault`: the faults the simulated device can be told to show, parsed from one string.

    disconnect:<seconds>            the device vanishes; it can be found again after <seconds>
    stall:<stream>:<seconds>        <stream> produces nothing for <seconds>
    drop:<stream>:<count>           the next <count> frames of <stream> are missing
    corrupt:<stream>:<count>        the next <count> frames of <stream> are broken (wrong size)
    crash                           an exception inside the device thread
    slow_nn:<milliseconds>          each inference takes that much longer

<stream> is rgb, left, right or stereo (depth and disparity together). Numbers are finite and
bounded (below); anything else raises ValueError naming the forms allowed. ROS-free.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

FAULT_STREAMS = ("rgb", "left", "right", "stereo")
MAX_SECONDS = 600.0
MAX_COUNT = 10_000
MAX_SLOW_NN_MS = 10_000.0
FORMS = ("disconnect:<seconds>", "stall:<stream>:<seconds>", "drop:<stream>:<count>",
         "corrupt:<stream>:<count>", "crash", "slow_nn:<milliseconds>")


@dataclass(frozen=True)
class Disconnect:
    seconds: float


@dataclass(frozen=True)
class Stall:
    stream: str
    seconds: float


@dataclass(frozen=True)
class Drop:
    stream: str
    count: int


@dataclass(frozen=True)
class Corrupt:
    stream: str
    count: int


@dataclass(frozen=True)
class Crash:
    pass


@dataclass(frozen=True)
class SlowNN:
    milliseconds: float     # 0 ends the slow-down


Fault = Disconnect | Stall | Drop | Corrupt | Crash | SlowNN


def _refuse(text: str, why: str) -> ValueError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return ValueError(f"sim.fault {shown!r}: {why}; allowed forms: {', '.join(FORMS)} "
                      f"(<stream>: {'|'.join(FAULT_STREAMS)})")


def _seconds(text: str, value: str, high: float, what: str = "seconds") -> float:
    try:
        number = float(value)
    except ValueError:
        raise _refuse(text, f"{what} must be a number") from None
    if not math.isfinite(number) or not 0 <= number <= high:
        raise _refuse(text, f"{what} must be finite, in [0, {high:g}]")
    return number


def _count(text: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
        raise _refuse(text, f"count must be an integer in [1, {MAX_COUNT}]")
    return int(value)


def _stream(text: str, value: str) -> str:
    if value not in FAULT_STREAMS:
        raise _refuse(text, f"stream must be one of {', '.join(FAULT_STREAMS)}")
    return value


def parse_fault(text: str) -> Fault:
    """The fault a `sim.fault` string names (ValueError naming the allowed forms if malformed)."""
    if not isinstance(text, str):
        raise ValueError(f"sim.fault must be a string; allowed forms: {', '.join(FORMS)}")
    parts = text.strip().split(":")
    kind, args = parts[0], parts[1:]
    arity = {"disconnect": 1, "stall": 2, "drop": 2, "corrupt": 2, "crash": 0, "slow_nn": 1}
    if kind not in arity:
        raise _refuse(text, "unknown fault")
    if len(args) != arity[kind]:
        raise _refuse(text, f"{kind} takes {arity[kind]} argument(s)")
    if kind == "disconnect":
        return Disconnect(_seconds(text, args[0], MAX_SECONDS))
    if kind == "stall":
        return Stall(_stream(text, args[0]), _seconds(text, args[1], MAX_SECONDS))
    if kind == "drop":
        return Drop(_stream(text, args[0]), _count(text, args[1]))
    if kind == "corrupt":
        return Corrupt(_stream(text, args[0]), _count(text, args[1]))
    if kind == "crash":
        return Crash()
    return SlowNN(_seconds(text, args[0], MAX_SLOW_NN_MS, "milliseconds"))
