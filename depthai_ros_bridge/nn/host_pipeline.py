"""A host-only depthai pipeline (`dai.Pipeline(False)`) that answers one request at a time."""
from __future__ import annotations

import datetime
import threading

import depthai as dai


class HostPipeline:
    """Holds the pipeline, a request lock and the broken/closed state; `close()` is idempotent.

    Subclasses create their nodes and queues on `self._pipeline`, then call `_start()`.
    Once a request fails (the node stopped, or gave no answer in time) they set `_broken`:
    a late answer would pair with the next request, so the pipeline is never reused.
    """

    _out: dai.MessageQueue          # where the answer arrives: set by the subclass
    _timeout: datetime.timedelta    # how long to wait for it

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipeline = dai.Pipeline(False)
        self._closed = False
        self._broken = ""

    def _start(self) -> None:
        self._pipeline.start()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._pipeline.stop()
                self._pipeline.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _check_usable(self, what: str, error: type[Exception]) -> None:
        """Call with `_lock` held: raise `error` naming `what` if closed or broken."""
        if self._closed:
            raise error(f"{what} is closed")
        if self._broken:
            raise error(f"{what} unusable: {self._broken}")

    def _exchange(self, sends, name: str, error: type[Exception]):
        """Send each (queue, message), then wait up to `_timeout` for the answer on `_out`.

        Call with `_lock` held. A stopped node (an exception in its thread closes its queues)
        or a missing answer breaks the pipeline for good: a late answer would pair with the
        next request.
        """
        try:
            for queue, message in sends:
                if not queue.trySend(message):    # a full queue means the node stalled: never block on it
                    raise RuntimeError("input queue full")
            result = self._out.get(self._timeout)
        except (RuntimeError, dai.MessageQueue.QueueException) as e:
            self._broken = f"{name} stopped ({e})"
            raise error(self._broken) from e
        if result is None:
            self._broken = f"{name} gave no result in time"
            raise error(self._broken)
        return result

    @property
    def usable(self) -> bool:
        return not (self._closed or self._broken)
