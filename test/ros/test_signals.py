"""Ctrl-C and SIGTERM in every state: the device is closed, threads joined, exit 0 within 5 s, a clean log.

Each case runs `python -m depthai_ros_bridge` on the simulated OAK-D in a namespace of its own and
watches it from this process over DDS: lifecycle services to drive it, its `transition_event`
topic to know when a configure is under way. Conditions are waited on, never slept for.
"""
from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rclpy
from lifecycle_msgs.msg import Transition, TransitionEvent
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 60.0          # import + DDS discovery + configure on a loaded 2-core machine
# The bound, signal -> process gone; DRB_SIGNAL_EXIT_S raises it on a machine loaded by other work.
EXIT_S = float(os.environ.get("DRB_SIGNAL_EXIT_S", "5.0"))
FORBIDDEN = ("Traceback", "Unable to start transition", "Failed to publish log message", "RCLError",
             "cannot schedule new futures")
_names = itertools.count()
_cameras: list = []            # every node started, stopped by the observer fixture if a test did not


class Output:
    """The process's merged stdout/stderr, collected by a thread; `wait_for` is a condition wait."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: any(text in line for line in self.lines), timeout)

    def text(self) -> str:
        self._thread.join(timeout=5.0)
        return "\n".join(self.lines)


@pytest.fixture(scope="module")
def observer():
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("signal_test_observer", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    yield node
    for camera in _cameras:          # a test that failed before stopping its node must not leave it running
        if camera.proc.poll() is None:
            camera.proc.kill()
            camera.proc.wait(timeout=10.0)
    executor.shutdown()
    node.destroy_node()
    rclpy.try_shutdown(context=context)
    spinner.join(timeout=5.0)


class Camera:
    def __init__(self, observer, autostart: bool, extra: tuple[str, ...] = ()):
        self.namespace = f"/signals_{os.getpid()}_{next(_names)}"
        self.fqn = f"{self.namespace}/oak"
        self._node = observer
        self._events: list[TransitionEvent] = []
        self._cond = threading.Condition()
        self._sub = observer.create_subscription(TransitionEvent, f"{self.fqn}/transition_event",
                                                 self._on_event, QoSProfile(depth=50))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "depthai_ros_bridge", "--ros-args", "--params-file",
             str(ROOT / "config" / "sim.yaml"), "-p", "device.type:=sim", "-p", f"autostart:={str(autostart).lower()}",
             *extra, "-r", f"__ns:={self.namespace}"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, PYTHONFAULTHANDLER="1", DEPTHAI_INSTALL_SIGNAL_HANDLER="0"))
        self.output = Output(self.proc.stdout)
        _cameras.append(self)

    def _on_event(self, msg: TransitionEvent) -> None:
        with self._cond:
            self._events.append(msg)
            self._cond.notify_all()

    def _said(self, label: str) -> bool:         # under self._cond
        return any(e.goal_state.label == label for e in self._events)

    def saw(self, label: str) -> bool:
        """Whether a transition event has said `label` (only seen once we are subscribed)."""
        with self._cond:
            return self._said(label)

    def wait_for_state(self, label: str, timeout: float = STARTUP_S) -> None:
        """Until a transition event says `label` or get_state does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                if self._cond.wait_for(lambda: self._said(label), 0.5):
                    return
            if label in ("unconfigured", "inactive", "active") and self.state() == label:
                return
        raise AssertionError(f"{self.fqn} never reached {label!r}:\n" + "\n".join(self.output.lines))

    def _call(self, srv_type, name: str, request):
        client = self._node.create_client(srv_type, f"{self.fqn}/{name}")
        try:
            assert client.wait_for_service(timeout_sec=STARTUP_S), f"{self.fqn}/{name} never appeared"
            done = threading.Event()
            future = client.call_async(request)
            future.add_done_callback(lambda _: done.set())
            assert done.wait(STARTUP_S), f"{self.fqn}/{name}: no answer"
            return future.result()
        finally:
            self._node.destroy_client(client)

    def state(self) -> str:
        return self._call(GetState, "get_state", GetState.Request()).current_state.label

    def request_configure(self):
        """Send configure; the caller decides whether to wait for the reply."""
        client = self._node.create_client(ChangeState, f"{self.fqn}/change_state")
        assert client.wait_for_service(timeout_sec=STARTUP_S), f"{self.fqn}/change_state never appeared"
        return client.call_async(ChangeState.Request(transition=Transition(id=Transition.TRANSITION_CONFIGURE)))

    def stop(self, sig: int) -> tuple[int, float, str]:
        self.proc.send_signal(sig)
        sent = time.monotonic()
        try:
            rc = self.proc.wait(timeout=EXIT_S)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)    # PYTHONFAULTHANDLER: every thread's stack in the log
            try:
                self.proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc.wait()
            rc = None
        took = time.monotonic() - sent
        print(f"{self.fqn}: {signal.Signals(sig).name} -> exit {self.proc.returncode} in {took:.2f} s")
        self._node.destroy_subscription(self._sub)
        return rc, took, self.output.text()


def _check_clean_exit(rc, took, log) -> None:
    assert rc == 0, f"exit status {rc} ({took:.1f} s after the signal):\n{log}"
    assert took < EXIT_S
    bad = [line for line in log.splitlines() if any(f in line for f in FORBIDDEN)]
    assert not bad, "\n".join(bad) + "\n---\n" + log


SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"), pytest.param(signal.SIGTERM, id="SIGTERM")]


@pytest.mark.parametrize("sig", SIGNALS)
def test_unconfigured(observer, sig):
    camera = Camera(observer, autostart=False)
    assert camera.state() == "unconfigured"
    _check_clean_exit(*camera.stop(sig))


@pytest.mark.parametrize("sig", SIGNALS)
def test_inactive_closes_the_device(observer, sig):
    camera = Camera(observer, autostart=False)
    future = camera.request_configure()
    camera.wait_for_state("inactive")
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    assert done.wait(STARTUP_S) and future.result().success
    assert camera.state() == "inactive"
    _check_clean_exit(*camera.stop(sig))


def _shm_segments() -> set[str]:
    """Fast DDS's per-participant data segments (fastdds_<16 hex>: the node's is the 32 MB one of its
    profile). Port segments (fastdds_port*) are shared by every local participant, this one's too."""
    return {p.name for p in Path("/dev/shm").glob("fastdds_*") if re.fullmatch(r"fastdds_[0-9a-f]{16}", p.name)}


@pytest.mark.parametrize("sig", SIGNALS)
def test_active_closes_the_device_and_releases_shared_memory(observer, sig):
    before = _shm_segments()
    camera = Camera(observer, autostart=True)
    camera.wait_for_state("active")
    assert camera.state() == "active"
    assert _shm_segments() - before, "the node's Fast DDS shared-memory segments"
    _check_clean_exit(*camera.stop(sig))
    assert _shm_segments() - before == set(), "Fast DDS shared memory left in /dev/shm"


@pytest.mark.parametrize("sig", SIGNALS)
def test_mid_configure(observer, sig):
    """The signal lands while configure opens the simulated device and deploys the demo network."""
    camera = Camera(observer, autostart=False)
    camera.request_configure()
    # Its 'configuring' event, or its log once configure has run: a configure (~0.5-1 s) can end before the node's
    # event writer has discovered our reader (measured in CI), and the signal is then sent as soon as we know.
    deadline = time.monotonic() + STARTUP_S
    while not camera.output.wait_for("rgb: deploying a network", 0.1) and not camera.saw("configuring"):
        assert time.monotonic() < deadline, "configure never began:\n" + "\n".join(camera.output.lines)
    _check_clean_exit(*camera.stop(sig))


def test_sigint_during_a_long_deploy_does_not_wait_for_it(observer, tmp_path):
    """The deploy of a large archive (bounded, but seconds of work) is abandoned: its stream is closed."""
    import gzip
    import io
    import tarfile

    from rcl_interfaces.srv import SetParametersAtomically
    from rclpy.parameter import Parameter

    bomb = tmp_path / "big.tar.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for i in range(3):
            info = tarfile.TarInfo(f"model{i}.onnx")
            info.size = 100 * 1024 * 1024
            tar.addfile(info, io.BytesIO(bytes(info.size)))
    camera = Camera(observer, autostart=True, extra=("-p", f"nn.allowed_model_dirs:=[{ROOT / 'models'},{tmp_path}]"))
    camera.wait_for_state("active")
    client = observer.create_client(SetParametersAtomically, f"{camera.fqn}/rgb/nn/deploy")
    assert client.wait_for_service(timeout_sec=STARTUP_S)
    client.call_async(SetParametersAtomically.Request(
        parameters=[Parameter("model", value=str(bomb)).to_parameter_msg()]))
    assert camera.output.wait_for("rgb: deploying a network", STARTUP_S)
    _check_clean_exit(*camera.stop(signal.SIGINT))
