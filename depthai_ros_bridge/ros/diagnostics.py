"""/diagnostics: the device's health and each stream's measured rate."""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from ..core.spec import PipelineSpec

OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR
# A stream below this share of its expected rate is reported as WARN.
RATE_TOLERANCE = 0.8


def _kv(values: dict) -> list[KeyValue]:
    return [KeyValue(key=str(k), value=str(v)) for k, v in values.items()]


def diagnostics_msg(node_name: str, state: str, spec: PipelineSpec | None, device, outputs,
                    problem: Exception | str | None, now: float, supervisor=None) -> DiagnosticArray:
    device_values = {"state": state}
    level, message = OK, state
    if isinstance(problem, Exception):
        level, message = ERROR, f"device failed: {problem}"
    elif problem:
        level, message = ERROR, problem
    if supervisor is not None and supervisor.recovering:
        level, message = WARN, supervisor.status
    hardware_id = ""
    if device is not None:
        hardware_id = device.info.id
        device_values.update({"device type": device.info.kind, "device id": device.info.id,
                              "product": device.info.name, **device.status()})
    statuses = [DiagnosticStatus(level=level, name=f"{node_name}: device", message=message,
                                 hardware_id=hardware_id, values=_kv(device_values))]
    if spec is None or outputs is None:
        return DiagnosticArray(status=statuses)
    for name, stream in spec.streams.items():
        if not stream.enabled:
            continue
        expected = spec.expected_rate(name)
        received = outputs.received[name].rate(now)
        values = {"device rate (Hz)": f"{received:.1f}", "expected rate (Hz)": f"{expected:.1f}",
                  "frames received": outputs.received[name].count, "frames dropped (corrupt)": outputs.corrupt[name]}
        values.update({f"{topic} (Hz)": f"{meter.rate(now):.1f}" for topic, meter in outputs.published.items()
                       if topic.startswith(f"~/{name}/")})
        slow = state == "active" and received < RATE_TOLERANCE * expected
        stalled = supervisor.stalled.get(name) if supervisor is not None else None
        level = ERROR if stalled is not None else WARN if slow else OK
        if stalled is not None:
            values["stalled for (s)"] = f"{stalled:.1f}"
        statuses.append(DiagnosticStatus(
            level=level, name=f"{node_name}: {name}", hardware_id=hardware_id,
            message=f"no frame for {stalled:.1f} s" if stalled is not None else
            f"{received:.1f} Hz of {expected:.1f} Hz" + (" (slow)" if slow else ""), values=_kv(values)))
    if outputs.imu is not None:
        received = outputs.imu.received.rate(now)
        expected = float(spec.imu.rate_hz)
        stalled = supervisor.stalled.get("imu") if supervisor is not None else None
        slow = state == "active" and received < RATE_TOLERANCE * expected
        statuses.append(DiagnosticStatus(
            level=ERROR if stalled is not None else WARN if slow else OK, name=f"{node_name}: imu",
            hardware_id=hardware_id, values=_kv({"device rate (Hz)": f"{received:.1f}",
                                                  "expected rate (Hz)": f"{expected:.1f}",
                                                  "samples received": outputs.imu.received.count,
                                                  "~/imu/data (Hz)": f"{outputs.imu.published.rate(now):.1f}"}),
            message=f"no sample for {stalled:.1f} s" if stalled is not None else
            f"{received:.1f} Hz of {expected:.1f} Hz" + (" (slow)" if slow else "")))
    for name, nn in outputs.nn.items():
        running = nn.running
        d = running.deployment if running is not None else None
        values = {"status": nn.status, "inference rate (Hz)": f"{nn.inferences.rate(now):.1f}",
                  "results dropped (network swapped)": nn.stale_results}
        if d is not None:
            values.update({"model": d.source, "type": d.config.type, "labels": ", ".join(d.labels),
                           "resize mode": d.resize_mode})
        statuses.append(DiagnosticStatus(level=OK, name=f"{node_name}: {name} nn", hardware_id=hardware_id,
                                         message=nn.status, values=_kv(values)))
    return DiagnosticArray(status=statuses)
