"""Keeping the camera running: the stall watchdog and recovery after a device failure.

Recovery: a failed device takes the node through on_error to unconfigured (device released).
With `device.reconnect` the supervisor then configures (and, if the node was active,
activates) it again, attempt after attempt with backoff 0.5 s doubling to 5 s, until the
device is back. Configure deploys what `<camera>.nn.model` shows and reads the live
parameters the node had, so the networks and settings that ran are back too. Every attempt is
logged and shown on /diagnostics; `ros2 lifecycle` users see the transitions as usual.

Watchdog: an enabled stream that brought no frame for `device.stall_timeout_s` while active is
an ERROR on /diagnostics naming it; after twice that, the device is restarted as on a failure.
Both run on the node's executor (timers), never on a device thread.
"""
from __future__ import annotations

import time

from ..core.spec import CAMERA_STREAMS
from ..device import DeviceError

FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.5, 5.0
TICK_S = 0.25


class Supervisor:
    def __init__(self, node):
        self._node = node
        self._timer = node.create_timer(TICK_S, self._tick)
        self.recovering = False
        self.attempts = 0
        self.last_attempt_error = ""
        self.stalled: dict[str, float] = {}        # stream -> seconds without frames (while stalled)
        self._target = "active"
        self._next_attempt = 0.0
        self._backoff = FIRST_BACKOFF_S
        self._lost_at = 0.0
        self._activated_at = 0.0

    # -- recovery ------------------------------------------------------------------------
    def device_lost(self, was_active: bool, reconnect: bool) -> None:
        """Called once the failed device is released (node unconfigured)."""
        if not reconnect:
            self._node.get_logger().error("device lost; device.reconnect is false: the node stays unconfigured")
            return
        self.recovering, self.attempts, self._backoff = True, 0, FIRST_BACKOFF_S
        self._target = "active" if was_active else "inactive"
        self._lost_at = time.monotonic()
        self._next_attempt = self._lost_at + FIRST_BACKOFF_S
        self._node.get_logger().warning(f"device lost; reconnecting (first attempt in {FIRST_BACKOFF_S:.1f} s)")

    def cancel(self) -> None:
        self.recovering = False

    def _attempt(self, now: float) -> None:
        node = self._node
        self.attempts += 1
        node.get_logger().info(f"reconnect attempt {self.attempts}: configuring")
        node.trigger_configure()
        if node.lifecycle_state == "inactive" and self._target == "active":
            node.trigger_activate()
        if node.lifecycle_state == self._target:
            self.recovering = False
            node.get_logger().info(f"recovered after {self.attempts} attempt(s), "
                                   f"{time.monotonic() - self._lost_at:.1f} s after the device was lost")
            return
        self.last_attempt_error = node.last_error or f"ended {node.lifecycle_state}"
        if node.lifecycle_state == "inactive":      # configured but not activated: undo, retry whole
            node.trigger_cleanup()
        self._next_attempt = time.monotonic() + self._backoff
        node.get_logger().warning(f"reconnect attempt {self.attempts} failed ({self.last_attempt_error}); "
                               f"next in {self._backoff:.1f} s")
        self._backoff = min(2 * self._backoff, MAX_BACKOFF_S)

    @property
    def status(self) -> str:
        if not self.recovering:
            return ""
        wait = max(0.0, self._next_attempt - time.monotonic())
        return (f"recovering from a device loss: {self.attempts} attempt(s)"
                + (f", last: {self.last_attempt_error}" if self.last_attempt_error else "")
                + f"; next in {wait:.1f} s")

    # -- watchdog ------------------------------------------------------------------------
    def activated(self) -> None:
        self._activated_at = time.monotonic()
        self.stalled.clear()

    def _watch(self, now: float) -> None:
        node, spec, outputs = self._node, self._node.spec, self._node.outputs
        if spec is None or outputs is None or not node.is_active:
            self.stalled.clear()
            return
        timeout = spec.device.stall_timeout_s
        meters = {s: outputs.received[s] for s in CAMERA_STREAMS + ("stereo",) if spec.enabled(s)}
        if outputs.imu is not None:
            meters["imu"] = outputs.imu.received
        for stream, meter in meters.items():
            last = max(meter.last or 0.0, self._activated_at)
            silent = now - last
            if silent < timeout:
                self.stalled.pop(stream, None)
                continue
            if stream not in self.stalled:
                node.get_logger().error(f"{stream}: no frame for {silent:.1f} s (device.stall_timeout_s {timeout:g})")
            self.stalled[stream] = silent
            if silent >= 2 * timeout:
                self.stalled.clear()
                node.device_failed(DeviceError(f"{stream} stalled: no frame for {silent:.1f} s; restarting the device"))
                return

    def _tick(self) -> None:
        now = time.monotonic()
        try:
            if self.recovering:
                if self._node.lifecycle_state != "unconfigured":
                    self.recovering = False         # someone else configured it meanwhile
                elif now >= self._next_attempt:
                    self._attempt(now)
            else:
                self._watch(now)
        except Exception as e:  # noqa: BLE001 - the supervisor must outlive whatever it watches
            self._node.get_logger().error(f"supervisor: {e!r}", throttle_duration_sec=5.0)
