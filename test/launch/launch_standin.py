"""A minimal stand-in for the `launch` / `launch_ros` classes our launch files use (not installable here).

`load(path, **arguments)` imports a launch file against the stand-in, evaluates its launch
arguments as `ros2 launch` would (defaults, then `name:=value`s; a missing required one is an
error), runs its OpaqueFunctions and returns the nodes it would start. `effective_parameters`
merges a node's `parameters` list the way rcl does: params files (the `/**` section and the
node's own fully qualified name), then dictionaries, later entries winning; dictionary strings
are YAML-typed like launch_ros does, unless wrapped in ParameterValue(value_type=str).
"""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from unittest import mock

import yaml

ROOT = Path(__file__).resolve().parents[2]      # laid out like <share>/depthai_ros_bridge: config/, models/, launch/


class LaunchDescription:
    def __init__(self, entities=()):
        self.entities = list(entities)


class DeclareLaunchArgument:
    def __init__(self, name, default_value=None, description="", choices=None):
        self.name, self.default_value, self.description = name, default_value, description


class OpaqueFunction:
    def __init__(self, function, args=None, kwargs=None):
        self.function, self.args, self.kwargs = function, args or [], kwargs or {}


class Context:
    def __init__(self, configurations: dict):
        self.launch_configurations = configurations


class Node:
    def __init__(self, *, package, executable, name=None, namespace="", parameters=(), remappings=(),
                 ros_arguments=(), arguments=(), output="log", **extra):
        assert not extra, f"stand-in Node does not know {sorted(extra)}"
        self.package, self.executable, self.name, self.namespace = package, executable, name, namespace
        self.parameters, self.remappings = list(parameters), list(remappings)
        self.ros_arguments, self.arguments, self.output = list(ros_arguments), list(arguments), output

    @property
    def fully_qualified_name(self) -> str:
        return f"/{self.namespace.strip('/')}/{self.name}".replace("//", "/")


class LifecycleNode(Node):
    pass


class ParameterValue:
    def __init__(self, value, value_type=None):
        self.value, self.value_type = value, value_type


def _modules() -> dict[str, types.ModuleType]:
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        return m
    return {
        "launch": module("launch", LaunchDescription=LaunchDescription),
        "launch.actions": module("launch.actions", DeclareLaunchArgument=DeclareLaunchArgument,
                                 OpaqueFunction=OpaqueFunction),
        "launch_ros": module("launch_ros"),
        "launch_ros.actions": module("launch_ros.actions", Node=Node, LifecycleNode=LifecycleNode),
        "launch_ros.parameter_descriptions": module("launch_ros.parameter_descriptions",
                                                    ParameterValue=ParameterValue),
        "ament_index_python": module("ament_index_python"),
        "ament_index_python.packages": module("ament_index_python.packages",
                                              get_package_share_directory=lambda package: str(ROOT)),
    }


def load(path: Path, **arguments: str) -> list[Node]:
    """The nodes `ros2 launch <path> name:=value ...` would start."""
    with mock.patch.dict(sys.modules, _modules()):
        spec = importlib.util.spec_from_file_location(f"launch_file_{path.stem.replace('.', '_')}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        description = module.generate_launch_description()
        declared = {e.name: e for e in description.entities if isinstance(e, DeclareLaunchArgument)}
        unknown = set(arguments) - set(declared)
        assert not unknown, f"not declared: {unknown}"
        configurations = {}
        for name, argument in declared.items():
            value = arguments.get(name, argument.default_value)
            if value is None:
                raise RuntimeError(f"Required launch argument {name!r} was not provided")
            configurations[name] = value
        nodes = []
        pending = [e for e in description.entities if not isinstance(e, DeclareLaunchArgument)]
        while pending:
            entity = pending.pop(0)
            if isinstance(entity, OpaqueFunction):
                pending[:0] = entity.function(Context(configurations), *entity.args, **entity.kwargs) or []
            elif isinstance(entity, Node):
                nodes.append(entity)
            else:
                raise AssertionError(f"stand-in does not know {entity!r}")
        return nodes


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _typed(value):
    if isinstance(value, ParameterValue):
        return value.value_type(value.value) if value.value_type else yaml.safe_load(str(value.value))
    if isinstance(value, str):
        return yaml.safe_load(value) if value else value
    return value


def effective_parameters(node: Node) -> dict:
    values = {}
    for entry in node.parameters:
        if isinstance(entry, dict):
            values.update({name: _typed(v) for name, v in entry.items()})
            continue
        document = yaml.safe_load(Path(entry).read_text())
        for key, section in document.items():      # rcl: `/**`, or the node's fully qualified name
            if key == "/**" or key.lstrip("/") == node.fully_qualified_name.lstrip("/"):
                values.update(_flatten(section["ros__parameters"]))
    return values
