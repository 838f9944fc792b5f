"""Declaring the spec's parameters on a node, and reading them back."""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rcl_interfaces.msg import ParameterDescriptor, ParameterType
from rclpy.node import Node
from rclpy.parameter import Parameter

from ..core.controls import CONTROL_PARAMETERS, IR_FIELDS, control_field, ir_with_change, with_change
from ..core.spec import CAMERA_STREAMS, PARAMETERS, STREAMS, Param

_TYPES = {bool: ParameterType.PARAMETER_BOOL, int: ParameterType.PARAMETER_INTEGER,
          float: ParameterType.PARAMETER_DOUBLE, str: ParameterType.PARAMETER_STRING,
          list: ParameterType.PARAMETER_STRING_ARRAY}
REBUILD_NOTE = "Read-only while configured: change it in the unconfigured state (cleanup, set, configure)."


def descriptor(name: str, rule: Param) -> ParameterDescriptor:
    constraints = [REBUILD_NOTE if not rule.runtime else "Applies live."]
    if rule.choices:
        constraints.append("One of: " + ", ".join(rule.choices) + ".")
    if rule.min is not None or rule.max is not None:
        low = rule.min if rule.min is not None else "-inf"
        high = rule.max if rule.max is not None else "inf"
        constraints.append(f"Range: {'(' if rule.min_exclusive else '['}{low}, {high}].")
    # Dynamic typing: a wrong type must reach our validation, which names the parameter and
    # fails configure, instead of rclpy raising while the node is being constructed.
    return ParameterDescriptor(name=name, type=_TYPES[type(rule.default)], description=rule.description,
                               additional_constraints=" ".join(constraints), dynamic_typing=True)


def typed(name: str, value: Any) -> Parameter:
    """A Parameter of the type the spec declares: rclpy infers an empty list as a byte array
    (all() of nothing is true), so `ros2 param get` would show `<name>.nn.labels` as type 5."""
    if isinstance(PARAMETERS[name].default, list) and isinstance(value, (list, tuple)) \
            and all(isinstance(v, str) for v in value):
        return Parameter(name, Parameter.Type.STRING_ARRAY, list(value))
    return Parameter(name, value=value)


def declare_all(node: Node) -> None:
    for name, rule in PARAMETERS.items():
        declared = node.declare_parameter(name, rule.default, descriptor(name, rule))
        if isinstance(rule.default, list) and declared.type_ == Parameter.Type.BYTE_ARRAY and not declared.value:
            node.set_parameters([typed(name, [])])     # before the node's own set-callbacks exist


def unknown_overrides(node: Node) -> list[str]:
    """Parameters given on the command line or in a params file that the node does not have.

    rclpy ignores those silently; we report them, so a typo ('rbg.fps') is not lost.
    """
    # _parameter_overrides is where rclpy keeps the --ros-args overrides; there is no public getter.
    return [name for name in getattr(node, "_parameter_overrides", {})
            if name not in PARAMETERS and name != "use_sim_time"]


def unknown_override_warnings(node: Node) -> list[str]:
    """One line per unknown name: what it is, the closest real name, and what to do. Unknown names
    are ignored (warned at start-up): refusing them at configure would leave a node that can never
    be configured, since an override cannot be removed at run time."""
    where = node.get_fully_qualified_name()
    lines = []
    for name in unknown_overrides(node):
        close = difflib.get_close_matches(name, PARAMETERS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]}?)" if close else ""
        lines.append(f"{name}: unknown parameter, ignored{hint}; fix or remove it in the params file / -p "
                     f"arguments and restart; names and their docs: ros2 param list {where}")
    return lines


def current_values(node: Node) -> dict[str, Any]:
    """Every declared parameter's value; unknown overrides are not among them (see above)."""
    return {name: node.get_parameter(name).value for name in PARAMETERS}


def _set_spatial(outputs, stream: str, key: str, value) -> None:
    nn = outputs.nn.get(stream)
    if nn is not None:
        nn.spatial_config = replace(nn.spatial_config, **{key: float(value)})


def _live_handlers() -> dict[str, Callable[[Any, Any, Any], None]]:
    """Runtime parameter -> how it applies to the configured node: handler(outputs, device, value)."""
    handlers: dict[str, Callable[[Any, Any, Any], None]] = {
        "stereo.depth_limit_m": lambda o, d, v: setattr(o, "depth_limit_m", float(v)),
        "stereo.confidence_threshold": lambda o, d, v: d.set_confidence_threshold(int(v)),
        "compressed.jpeg_quality": lambda o, d, v: setattr(o, "compression", replace(o.compression,
                                                                                      jpeg_quality=int(v))),
        "compressed.png_level": lambda o, d, v: setattr(o, "compression", replace(o.compression, png_level=int(v))),
        "sim.fault": lambda o, d, v: d.inject(v) if v else None,
    }
    for stream in STREAMS:
        handlers[f"{stream}.max_fps"] = lambda o, d, v, s=stream: setattr(o.limiters[s], "max_fps", float(v))
    for stream in CAMERA_STREAMS:
        for key in ("bbox_scale", "depth_min_m", "depth_max_m"):
            handlers[f"{stream}.nn.spatial.{key}"] = lambda o, d, v, s=stream, k=key: _set_spatial(o, s, k, v)
    # Camera controls and IR: the device's current settings with this one changed (core/controls.py).
    for name in CONTROL_PARAMETERS:
        if control_field(name) is not None:
            handlers[name] = lambda o, d, v, n=name: d.set_camera_control(*with_change(d.camera_controls, n, v))
        elif name in IR_FIELDS:
            handlers[name] = lambda o, d, v, n=name: d.set_ir(ir_with_change(d.ir, n, v))
    return handlers


# Every parameter the spec marks `runtime` has its handler here (test/ros/test_params.py checks both ways).
LIVE_HANDLERS = _live_handlers()
