"""Hardware tests: skipped without an OAK; `make hardware-check` prints what they measured.

Each test records its measurements with the `report` fixture; at the end of the run they are
printed as one block (device, versions, per test: outcome and numbers) to paste into an issue.
"""
from __future__ import annotations

import os
import platform

import pytest

os.environ.setdefault("DEPTHAI_TELEMETRY", "0")
_LINES: dict[str, list[str]] = {}
_OUTCOMES: dict[str, str] = {}
_DEVICE: list[str] = []


@pytest.fixture
def report(request):
    """report(text): a line of this test's measurements in the hardware report."""
    lines = _LINES.setdefault(request.node.nodeid, [])
    return lines.append


def describe_device(text: str) -> None:
    if text not in _DEVICE:
        _DEVICE.append(text)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if "hardware" in item.nodeid and (rep.when == "call" or rep.outcome != "passed"):
        reason = ""
        if rep.skipped and isinstance(rep.longrepr, tuple):
            reason = f" ({rep.longrepr[2]})"
        _OUTCOMES.setdefault(item.nodeid, rep.outcome + reason)


def pytest_terminal_summary(terminalreporter):
    if not any("hardware" in str(a) for a in terminalreporter.config.args):
        return
    import depthai as dai
    w = terminalreporter.write_line
    w("")
    w("==== depthai_ros_bridge hardware report (paste into an issue) ====")
    w(f"depthai {dai.__version__}, Python {platform.python_version()}, {platform.platform()}")
    for line in _DEVICE:
        w(f"device: {line}")
    if not _OUTCOMES:
        w("no test ran: no OAK was found (dai.Device.getAllAvailableDevices() is empty)")
    for nodeid, outcome in _OUTCOMES.items():
        w(f"- {nodeid.split('::')[-1]}: {outcome}")
        for line in _LINES.get(nodeid, []):
            w(f"    {line}")
    w("==== end of report ====")
