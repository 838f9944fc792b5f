"""The device's messages -> FrameSets grouped by sequence number, and the loop reading them (pure).

Messages are grouped per sensor clock (the colour camera's; the synchronised mono pair's, which
StereoDepth's outputs carry); a stream's frames wait (a few sets at most) for its network's
result, so a FrameSet carries both, as the simulator's do.

When depthai reconnects to a device by itself (DeviceBase::monitorCallback, once by default:
maxReconnectionAttempts), the device restarts its pipeline and its sequence numbers start again
at 0. Each queue delivers in order, so a number going back on one source is that restart: the
grouper starts afresh (else it would hold every new set behind the old numbers and release each
message alone) and the owner is told, to re-apply what was changed live.
"""
from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from typing import Any

import depthai as dai
import numpy as np

from ...nn.mapping import InputMapping
from ...nn.results import NNResult
from .. import base
from ..base import DeviceError, FrameCallback, FrameSet
from ..frames import T, frame_array, make_frame
from .plan import clock

DeviceLost = getattr(base, "DeviceLost", DeviceError)    # see device.py
MAX_PENDING = 8           # frame sets held waiting for a network's result before they go without it


class SequenceGrouper:
    """Messages from several sources, each in increasing sequence order, into sets by sequence number.

    Set N is released once every source has delivered N or a later number (what a source skipped
    will not come), in order; a source that falls more than `max_pending` sets behind (a slow or
    stalled network) no longer holds them back. Late messages are released on their own.
    """

    def __init__(self, sources, max_pending: int = MAX_PENDING):
        self._sources = list(sources)
        self._max_pending = max_pending
        self.reset()

    def reset(self) -> None:
        self._latest = {s: -1 for s in self._sources}
        self._pending: dict[int, dict[str, Any]] = {}
        self._released = -1

    def restarted(self, source: str, seq: int) -> bool:
        """Whether `seq` from `source` went back: the device's numbering started again."""
        return seq < self._latest[source]

    def add(self, source: str, seq: int, item) -> list[tuple[int, dict[str, Any]]]:
        self._latest[source] = max(self._latest[source], seq)
        if seq <= self._released:
            return [(seq, {source: item})]
        self._pending.setdefault(seq, {})[source] = item
        ready = min(self._latest.values())
        out = []
        for n in sorted(self._pending):
            if n > ready and len(self._pending) <= self._max_pending:
                break
            out.append((n, self._pending.pop(n)))
            self._released = n
        return out


def as_raw16(frame: dai.ImgFrame) -> dai.ImgFrame:
    """Disparity as FrameSet promises it (RAW16): StereoDepth sends RAW8 without subpixel."""
    if frame.getType() != T.RAW8:
        return frame
    return make_frame(frame_array(frame).astype(np.uint16), T.RAW16, frame.getSequenceNum(),
                      frame.getTimestamp().total_seconds(), dai.CameraBoardSocket(frame.getInstanceNum()))


class FrameAssembler:
    """The device's messages (FrameSet keys, and "nn:<stream>") -> FrameSets, grouped per clock.

    `on_restart` is called (on the reading thread) when the device's sequence numbers start again.
    """

    def __init__(self, keys, mappings: dict[str, InputMapping], on_restart: Callable[[], None] | None = None):
        self._mappings = mappings
        self._on_restart = on_restart
        keys = list(keys) + [f"nn:{s}" for s in mappings]
        self._groups = {c: SequenceGrouper([k for k in keys if clock(k) == c]) for c in {clock(k) for k in keys}}
        self.restarts = 0

    def reset(self) -> None:
        for group in self._groups.values():
            group.reset()

    def add(self, key: str, msg) -> list[FrameSet]:
        if key == "disparity":
            msg = as_raw16(msg)
        seq = msg.getSequenceNum()
        group = self._groups[clock(key)]
        if group.restarted(key, seq):
            # Every clock restarts with the device: start every group afresh (the pending sets of
            # the old numbering are dropped: their partners will not come).
            self.reset()
            self.restarts += 1
            if self._on_restart is not None:
                self._on_restart()
        sets = []
        for n, items in group.add(key, seq, msg):
            frames = {k: m for k, m in items.items() if not k.startswith("nn:")}
            stamp = next(iter(frames.values() or items.values())).getTimestamp().total_seconds()
            nn = {k[3:]: NNResult(m if isinstance(m, dai.ImgDetections) else None,
                                  m if isinstance(m, dai.NNData) else None, self._mappings[k[3:]])
                  for k, m in items.items() if k.startswith("nn:")}
            sets.append(FrameSet(n, stamp, frames, nn))
        return sets


def pump(queues: dict[str, dai.MessageQueue], assembler: FrameAssembler, on_frames: FrameCallback,
         stop: threading.Event, is_running: Callable[[], bool],
         on_imu: Callable[[dai.IMUData], None] | None = None) -> None:
    """Read every queue until `stop`; raise DeviceError if the device stops delivering.

    Closed queues are left out of the wait: MessageQueue::getAny returns at once while any queue
    it waits on is closed (depthai-core src/pipeline/MessageQueue.cpp, its wait predicate), so
    one closed queue among open ones would turn the wait into a busy spin.
    """
    wait = datetime.timedelta(milliseconds=100)
    while not stop.is_set():
        open_queues = {k: q for k, q in queues.items() if not q.isClosed()}
        if not open_queues or not is_running():
            if stop.is_set():
                return
            closed = ", ".join(sorted(set(queues) - set(open_queues))) or "none"
            raise DeviceLost(f"the OAK stopped sending frames (disconnected, or its pipeline stopped; "
                              f"closed queues: {closed})")
        messages = dai.MessageQueue.getAny(open_queues, wait)
        if stop.is_set():
            return
        for key, msg in messages.items():
            if key == "imu":                # IMU batches go straight on, never grouped with frames
                if on_imu is not None:
                    assert isinstance(msg, dai.IMUData), "the imu queue is the IMU node's output"
                    on_imu(msg)
                continue
            for frames in assembler.add(key, msg):
                on_frames(frames)
